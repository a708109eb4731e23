"""The reverse-mode machinery behind the public transforms (transforms.py): `Gradient`.

source -> frontend -> passes -> codegen -> disk cache -> callable; the middle of
that is compiler.py. This module binds a call's arguments, chooses (and memoises)
the adjoint for their abstract signature, runs it, and explains its failures.

The generated adjoint is specialised on the abstract signature of a call
(which arguments are Python floats, ints, arrays of which rank and dtype),
like a JIT: a new signature compiles a new adjoint, an old one is reused
from memory, then from the disk cache (a second process does not
transform again).
"""
from __future__ import annotations

import copy
import functools
import inspect
import threading
import types as types_mod
from typing import Any, Callable

import numpy as np

from . import callpath, compiler, frontend, higher, reach, runtime
from . import entry as entry_mod
from . import types as T
from .compiler import Compiled
from .passes import checkpoint as checkpoint_pass
from .errors import AdjointcError, AdjointcWarning, InternalError, InvalidArgument, TypeMismatch

_lock = threading.Lock()
NO_VALUE = object()  # (Gradient._invoke's value when the adjoint computed none: grad, passes/value.py)


class Gradient:
    """The gradient of a Python function, compiled to adjoint source on first call.

    What can be differentiated (see `entry.resolve`): a function written with `def`; a bound
    method or classmethod (`obj.f`, `K.f`: self/cls is bound, a constant); a callable
    object (its `__call__`, bound to it); a `functools.partial` (its arguments are bound
    at each call, keywords can be overridden as in Python); an `lru_cache`/`cache`
    wrapper (a pure-function memo: its `__wrapped__` function is differentiated).
    `wrt` positions count the parameters of the signature the caller sees,
    `inspect.signature(fn)` (without self, without what a partial binds).

    Attributes: `primal` is the Python function whose source is differentiated (for a
    method, the function defined in the class, taking self); `__wrapped__` is what was
    passed to grad. Anything else (a
    builtin or ufunc; a library function; a class) is refused with an AdjointcError.
    A Gradient can itself be differentiated, or called inside a differentiated
    function (adjointc/higher.py).
    """

    __adjointc_gradient__ = True  # (higher.is_gradient: recognised without importing this module)

    def __init__(self, fn: Callable, wrt: Any = None, *, with_value: bool = False,
                 outputs: tuple[str, ...] = (), has_aux: bool = False, checkpoints: Any = None,
                 memory: Any = None, backend: str | None = None):
        """`outputs` (internal): parameters fn modifies in place whose final values
        are outputs too; the adjoint then takes one cotangent per output after the
        result's (used when fn is called by a function being differentiated).
        `has_aux`: fn returns `(value, aux)`; value is differentiated, aux passes
        through (passes/aux.py); the adjoint's value is then the pair.
        `checkpoints`/`memory`: the outermost loops checkpointed (passes/checkpoint.py).
        `backend`: "numpy" (the default) or "numba" (the default for a numba @njit f;
        adjointc/backends/njit.py)."""
        entry = entry_mod.resolve(fn, "value_and_grad" if with_value else "grad")
        self.from_njit = entry_mod.is_njit(fn)
        self.backend = entry_mod.backend_for(backend, self.from_njit, entry.function)
        try:
            self.checkpoints = checkpoint_pass.request_of(checkpoints, memory)
        except ValueError as e:
            raise InvalidArgument(str(e), frontend.def_loc(entry.function),
                                  "e.g. grad(f, checkpoints=20), checkpoints='auto' or memory='200MB'") from None
        self.primal = entry.function
        self._sig = inspect.signature(entry.function, follow_wrapped=False)
        self._defaults = (entry.function.__defaults__, entry.function.__kwdefaults__)
        self._names = tuple(self._sig.parameters)
        self._bound_args, self._bound_kwargs = entry.args, entry.kwargs
        self._plan = callpath.positional_plan(self._sig, self._bound_kwargs)  # (the fast bind, callpath.py)
        self._call_primal = entry.call
        self._visible = tuple(entry.signature.parameters)
        self._single = wrt is None or isinstance(wrt, (int, np.integer, str))
        self.wrt = self._resolve_wrt(wrt)
        self._wrt_index = tuple(self._names.index(w) for w in self.wrt)
        self._with_value = with_value
        self.has_aux = bool(has_aux)
        self.outputs = tuple(outputs)
        self._callee = False  # compiled for a call from another differentiated function
        self._keeps_value = self.backend != "numpy"  # (the numba printer always returns the value)
        self._compiled: dict[str, Compiled] = {}
        self._fast: dict[tuple, Compiled] = {}  # callpath.quick_key -> an entry of _compiled
        self._last: Compiled | None = None
        self._lowered: frontend.Lowered | None = None
        if fn is entry.function:
            functools.update_wrapper(self, fn)
        else:  # name and docs of the function; never the instance dict of a callable object
            functools.update_wrapper(self, entry.function, updated=())
            self.__wrapped__ = fn

    @property
    def value_wanted(self) -> bool:
        """Does the generated adjoint return f's value? grad needs only the gradient: its
        adjoint leaves out what only computes the value (passes/value.py)."""
        return self._with_value or self.has_aux or self._callee or bool(self.outputs) or self._keeps_value

    def _resolve_wrt(self, wrt: Any) -> tuple[str, ...]:
        """`wrt` as parameter names. Positions count the parameters the caller sees."""
        name = self.primal.__name__

        def bad(message: str, hint: str = "") -> InvalidArgument:
            return InvalidArgument(message, frontend.def_loc(self.primal), hint)
        if wrt is None:
            items: list[Any] = [0]
        elif isinstance(wrt, (tuple, list)):
            items = list(wrt)  # (empty: a callee's forward-only analysis; refused in the public API)
        else:
            items = [wrt]
        out = []
        for w in items:
            if isinstance(w, (bool, np.bool_)):
                raise bad(f"wrt={w!r} is a bool, not a parameter position or name",
                          "pass a position (wrt=0) or a parameter name (wrt='x')")
            if isinstance(w, (int, np.integer)):
                n = len(self._visible)
                if not -n <= w < n:
                    raise bad(f"wrt={w} is out of range: {name} takes {n} parameter"
                              f"{'s' if n != 1 else ''} ({', '.join(self._visible)})")
                out.append(self._visible[int(w)])
            elif isinstance(w, str):
                if w not in self._visible:
                    raise bad(f"wrt={w!r} is not a parameter of {name}({', '.join(self._visible)})")
                out.append(w)
            else:
                raise bad(f"wrt entries must be parameter positions (int) or names (str), got {w!r} of "
                          f"type {type(w).__name__}", "e.g. wrt=0, wrt='x', wrt=(0, 'k')")
        if len(set(out)) != len(out):
            raise bad(f"wrt names a parameter twice: {out}")
        return tuple(out)

    # --------------------------------------------------------------- calling
    def _bind(self, args: tuple, kwargs: dict) -> list[Any]:
        """The values of all of `primal`'s parameters for a call with the caller's
        arguments: what a bound method or partial binds first, exactly as Python does."""
        f = self.primal
        if f.__defaults__ is not self._defaults[0] or f.__kwdefaults__ is not self._defaults[1]:
            # (defaults reassigned since: bind the new ones, as a call of f would)
            self._sig = inspect.signature(f, follow_wrapped=False)
            self._defaults = (f.__defaults__, f.__kwdefaults__)
            self._plan = callpath.positional_plan(self._sig, self._bound_kwargs)
        if not kwargs and self._plan is not None:
            values = callpath.bind_positional(f, self._plan, self._bound_args + args if self._bound_args else args)
            if values is not None:
                return values
        try:
            b = self._sig.bind(*self._bound_args, *args, **{**self._bound_kwargs, **kwargs})
        except TypeError as e:
            raise TypeError(f"{self.primal.__name__}(): {e}") from None
        b.apply_defaults()
        return [b.arguments[n] for n in self._names]

    def _check_inputs(self, values: list[Any]) -> None:
        for w in self.wrt:
            v = values[self._names.index(w)]
            t = T.of_value(v)
            ok = t.kind == "float" or (t.kind == "array" and t.dtype in ("f",)) or (
                t.kind in ("tuple", "list", "struct") and t.differentiable)
            if t.kind == "func":  # (a static argument: the adjoint is specialised on it, adjointc/funcvals.py)
                raise TypeMismatch(f"cannot differentiate with respect to {w}: it is the function "
                                   f"{v.__qualname__}, a static argument", frontend.def_loc(self.primal),
                                   "the gradient is specialised on each function passed; differentiate "
                                   "with respect to the numeric arguments (wrt=...)")
            if t.kind == "int":
                raise TypeMismatch(f"cannot differentiate with respect to {w}={v!r}: it is an int",
                                   hint="pass a float (e.g. 2.0) or a float array")
            if not ok:
                raise TypeMismatch(f"cannot differentiate with respect to {w} of type {type(v).__name__}"
                                   + (f" (dtype {v.dtype})" if isinstance(v, np.ndarray) else ""),
                                   hint="differentiable inputs are Python floats, float arrays, and "
                                   "tuples, lists, dicts, dataclasses or objects holding them")

    def compiled_for(self, *args: Any, **kwargs: Any) -> Compiled:
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        return self._get_reported(values)

    def _signature(self, values: list[Any]) -> str:
        return ";".join(f"{n}:{T.signature_key(v)}" for n, v in zip(self._names, values))

    def _get(self, values: list[Any]) -> Compiled:
        key = callpath.quick_key(values)
        if key is not None:
            c = self._fast.get(key)
            if c is not None and c.fresh():
                self._last = c
                return c
        sig = self._signature(values)
        c = self._compiled.get(sig)
        if c is None or not c.fresh():
            with _lock:
                c = self._memo(sig)
                if c is None:
                    c = self._compiled[sig] = self._compile([T.of_value(v) for v in values], sig)
        if key is not None:
            self._fast[key] = c
        self._last = c
        return c

    def _checked_get(self, values: list[Any]) -> Compiled:
        """`_check_inputs` then `_get_reported`; the check is skipped for a signature
        already memoised (callpath.quick_key), which passed it when it was built."""
        key = callpath.quick_key(values)
        c = self._fast.get(key) if key is not None else None
        if c is not None and c.fresh():
            self._last = c
            return c
        self._check_inputs(values)
        return self._get_reported(values)

    def _memo(self, sig: str) -> Compiled | None:
        """The memoised adjoint for `sig` if it is still fresh; a stale one (a helper
        rebound, a folded constant or a method changed) drops everything memoised."""
        c = self._compiled.get(sig)
        if c is not None and not c.fresh():
            self._compiled.clear()
            self._fast.clear()
            self._lowered = None
            c = None
        return c

    def get_abstract(self, arg_types: list[T.T]) -> Compiled:
        """The adjoint for an abstract signature (used for calls between user functions)."""
        sig = self._abstract_signature(arg_types)
        c = self._memo(sig)
        if c is None:
            c = self._compiled[sig] = self._compile(list(arg_types), sig)
        return c

    def _abstract_signature(self, arg_types: list[T.T]) -> str:
        return "abstract;" + ";".join(f"{n}:{T.encode(t)}" for n, t in zip(self._names, arg_types))

    _lowered_reach: reach.Reach | None = None  # what the memoised IR was lowered from

    def lowered(self) -> frontend.Lowered:
        if self._lowered is not None and self._lowered_reach is not None and not self._lowered_reach.valid():
            self._lowered = None
        if self._lowered is None:
            r = reach.reach(self.primal)
            fn = inspect.unwrap(self.primal)
            if isinstance(fn, types_mod.FunctionType):
                reach.checked_source(fn)  # (the text the frontend reads must be what runs)
            self._lowered, self._lowered_reach = frontend.lower(self.primal), r
        return self._lowered

    def tape_bytes(self, *args: Any, **kwargs: Any) -> "runtime.TapeReport":
        """Run the gradient once and report the memory its backward sweep keeps, in bytes
        (objects and data: a recorded float is a float object and a list slot): per tape
        or saved value the forward sweep filled; per checkpointed loop its snapshots' peak
        and the tape of one recorded trip; per callee whose adjoint runs in the backward
        sweep, the largest report of one call (`callee NAME`); and "total", their sum.
        `report.data` has the same entries as bytes of data alone (8 per float: what a
        C implementation would store). Uses a statistics build of the same adjoint (the normal one carries no
        instrumentation)."""
        from . import runtime
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        c = self._stats_build(values)
        runtime.TAPE_REPORTS.append({})
        try:
            self._invoke(c, values, 1.0)
        finally:
            report = runtime.finished_report(runtime.TAPE_REPORTS.pop())
        return report

    def _stats_build(self, values: list[Any], arg_types: list[T.T] | None = None) -> Compiled:
        """The statistics build for these arguments (or abstract types: a callee's)."""
        if arg_types is None:
            sig, arg_types = self._signature(values) + ";stats", [T.of_value(v) for v in values]
        else:
            sig = self._abstract_signature(arg_types) + ";stats"
        c = self._memo(sig)
        if c is None:
            types = list(arg_types)
            c = self._compiled[sig] = self._reported(lambda: self._compile(types, sig, stats=True))
        return c

    def _compile(self, arg_types: list[T.T], sig: str, stats: bool = False) -> Compiled:
        return compiler.compile_gradient(self, arg_types, sig, stats)

    def _run(self, args: tuple, kwargs: dict, seed: Any = 1.0) -> tuple[Any, tuple]:
        values = self._bind(args, kwargs)
        return self._invoke(self._checked_get(values), values, seed)

    def _get_reported(self, values: list[Any]) -> Compiled:
        return self._reported(lambda: self._get(values))

    def _reported(self, build: Callable[[], Compiled]) -> Compiled:
        """`build()`, with a Python exception from adjointc's own transform (a bug, not
        a refusal) reported as an InternalError naming the function."""
        try:
            return build()
        except (AdjointcError, AdjointcWarning):  # (a warning the caller made an error, too)
            raise
        except Exception as e:
            loc = frontend.def_loc(self.primal)
            raise InternalError(f"adjointc failed while differentiating {self.primal.__qualname__}: "
                                f"{type(e).__name__}: {e}", loc,
                                "this is a bug in adjointc, not in your function: please report it with "
                                "the function and the types of its arguments") from e

    def _invoke(self, c: Compiled, values: list[Any], seed: Any) -> tuple[Any, tuple]:
        if c.mutated:
            _check_arg_aliasing(self._names, values, c.mutated)
        c.refresh()
        try:
            value, grads = c.fn(*values, seed)
        except (AdjointcError, AdjointcWarning):
            raise
        except Exception as e:
            self._diagnose(c, values, seed, e)
            raise  # (not reached: _diagnose raises)
        if not c.value:  # (its type is a real float: passes/value.py)
            return NO_VALUE, tuple(_like(gr, values[i]) for gr, i in zip(grads, self._wrt_index))
        if (value[0] if self.has_aux else value) is None:
            raise TypeMismatch(f"{self.primal.__name__} returned None at these inputs: the output must be a "
                               "float or an array", frontend.def_loc(self.primal),
                               "make every path through the function return the value to differentiate")
        grads = tuple(_like(gr, values[i]) for gr, i in zip(grads, self._wrt_index))
        return value, grads

    def _diagnose(self, c: Compiled, values: list[Any], seed: Any, exc: Exception) -> None:
        """The generated adjoint raised `exc`. Find out whose fault it is and raise that:
        the function's own exception if it raises at these inputs too; a TypeMismatch if
        its output cannot be differentiated (None, or not a scalar for grad); else a
        GeneratedCodeError (an adjointc bug) naming the user's line the failing
        generated line came from. Only runs on this error path, so running the
        function once more costs nothing otherwise."""
        name = self.primal.__name__
        try:
            value = _call_with_values(self.primal, self._sig, _copy_arrays(values))
        except Exception as own:
            own.add_note(f"(adjointc: {name} itself raises this at these inputs, without adjointc: "
                         "the gradient is only defined where the function runs)")
            raise own.with_traceback(own.__traceback__) from None
        loc = frontend.def_loc(self.primal)
        if self.has_aux and isinstance(value, tuple) and len(value) == 2:
            value = value[0]
        if value is None:
            raise TypeMismatch(f"{name} returned None at these inputs: the output must be a float or an "
                               "array", loc, "make every path through the function return the value "
                               "to differentiate") from exc
        if isinstance(seed, float) and seed == 1.0 and not _is_real_scalar(value):
            raise _not_scalar(name, value, loc) from exc
        raise compiler.generated_code_error(self.primal, c, exc) from exc

    def __call__(self, *args: Any, **kwargs: Any):
        value, grads = self._run(args, kwargs)
        if value is NO_VALUE:  # (grad: not computed, a real float by its type)
            return grads[0] if self._single else grads
        out, aux = value if self.has_aux else (value, None)
        if type(out) is not float and not _is_real_scalar(out):
            raise _not_scalar(self.primal.__name__, out, frontend.def_loc(self.primal), self.has_aux)
        g = grads[0] if self._single else grads
        if self.has_aux:  # (JAX: grad -> (gradient, aux); value_and_grad -> ((value, aux), gradient))
            return (value, g) if self._with_value else (g, aux)
        return (value, g) if self._with_value else g

    @property
    def source(self) -> str:
        """The generated adjoint of the most recent call's signature."""
        if self._last is None:
            raise AdjointcError(f"{self.primal.__name__} has not been called yet: the adjoint is specialised "
                                "on the argument types", hint="call it once, or use .source_for(*args)")
        return self._last.source

    def source_for(self, *args: Any, **kwargs: Any) -> str:
        return self.compiled_for(*args, **kwargs).source

    def program_after(self, name: str, *args: Any, **kwargs: Any):
        """The compiler's Program (adjointc/program.py) after the pipeline pass `name`
        for these arguments' signature (`python -m adjointc show --after NAME`)."""
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        return compiler.run_pipeline(self, [T.of_value(v) for v in values], after=name)

    def __repr__(self) -> str:
        return f"<adjointc gradient of {self.primal.__qualname__} wrt {', '.join(self.wrt)}>"


def _check_arg_aliasing(names: tuple[str, ...], values: list[Any], mutated: tuple[str, ...]) -> None:
    arrays = [(n, v) for n, v in zip(names, values) if isinstance(v, np.ndarray)]
    for m in mutated:
        mv = values[names.index(m)]
        for n, v in arrays:
            if n != m and isinstance(mv, np.ndarray) and np.may_share_memory(mv, v):
                from .errors import AliasingError
                raise AliasingError(f"arguments '{m}' and '{n}' share memory and the function modifies '{m}' "
                                    "in place: the gradient would not match the function",
                                    hint="pass a copy of one of them")


def _copy_arrays(v: Any) -> Any:
    """v with every array in it (inside tuples, lists and dicts) copied."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, (list, tuple)) and not hasattr(type(v), "_make"):
        return type(v)(_copy_arrays(x) for x in v)
    if isinstance(v, dict):
        return {k: _copy_arrays(x) for k, x in v.items()}
    return v


def _like(g: Any, x: Any) -> Any:
    """Give a gradient the type of its input: float for float, array of x's dtype for arrays."""
    fast = callpath.like_fast(g, x)
    if fast is not callpath.MISS:
        return fast
    if isinstance(x, (np.ndarray, float)):
        runtime.real_adjoint_check(g, x)  # (never drop the imaginary part of a gradient)
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape).copy()
        return g.astype(x.dtype, copy=False) if x.dtype.kind == "f" else g
    if isinstance(x, float):
        return float(g)
    if isinstance(x, (tuple, list)):
        g = g if isinstance(g, (list, tuple)) else [g] * len(x)
        items = [_like(a, b) for a, b in zip(g, x)]
        if hasattr(type(x), "_make"):  # a NamedTuple: the same class
            return type(x)._make(items)
        return type(x)(items)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return 0.0 if isinstance(g, (int, float)) else g
    if isinstance(x, dict) or T.struct_fields(x) is not None:
        fields = x if isinstance(x, dict) else T.struct_fields(x)
        g = g if isinstance(g, dict) else {}
        grads = {k: _like(g.get(k, 0.0), v) for k, v in fields.items() if T.of_value(v).differentiable}
        if isinstance(x, dict):
            return {k: grads.get(k, v) for k, v in x.items()}
        # the same class, non-differentiable fields copied; built without calling __init__ or
        # __post_init__ (a validating or normalising constructor must not see a gradient)
        out = copy.copy(x)
        for k, v in grads.items():
            object.__setattr__(out, k, v)
        return out
    return g


# ------------------------------------------------------ run-time diagnosis
def _is_real_scalar(v: Any) -> bool:
    """What grad can differentiate: a real number or a 0-d real array."""
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, (int, float, np.integer, np.floating)):
        return True
    return isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf"


def _not_scalar(name: str, value: Any, loc: Any, has_aux: bool = False) -> TypeMismatch:
    if isinstance(value, np.ndarray) and value.ndim:
        what = f"an array of shape {value.shape}"
    elif isinstance(value, (tuple, list)):
        what = f"a {type(value).__name__} of {len(value)} values"
    elif np.iscomplexobj(value):
        what = "a complex number"
    else:
        what = f"a {type(value).__name__}"
    if has_aux:
        return TypeMismatch(f"grad of {name} (has_aux=True) needs a scalar value, the first of the pair it "
                            f"returns; got {what}", loc, "return (value, aux) with value the real scalar to "
                            "differentiate; use adjointc.vjp(..., has_aux=True) for a non-scalar value")
    hint = ("use adjointc.vjp for non-scalar outputs (tuples, arrays), or return the real scalar to "
            "differentiate")
    if isinstance(value, tuple) and len(value) == 2:
        hint = ("if it returns (value, auxiliary data), pass has_aux=True (grad then returns (gradient, aux)); "
                "else " + hint)
    return TypeMismatch(f"grad of {name} needs a scalar output, got {what}", loc, hint)


def _call_with_values(fn: Callable, sig: inspect.Signature, values: list[Any]) -> Any:
    """Call fn with the values of all its parameters, in signature order."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p, v in zip(sig.parameters.values(), values):
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(v)
        elif p.kind == p.VAR_POSITIONAL:
            args.extend(v)
        elif p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = v
        else:
            kwargs.update(v)
    return fn(*args, **kwargs)


def stats() -> dict[str, int]:
    """How many transforms this process ran (a cache hit runs none)."""
    return dict(compiler._STATS)


def __getattr__(name: str) -> Any:
    """`adjointc.api.grad` (and value_and_grad, vjp) as before: they live in transforms.py."""
    if name in ("grad", "value_and_grad", "vjp"):
        from . import transforms
        return getattr(transforms, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
