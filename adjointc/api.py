"""Public entry points: grad, value_and_grad, vjp.

source -> frontend -> passes -> codegen -> disk cache -> callable.

The generated adjoint is specialised on the abstract signature of a call
(which arguments are Python floats, ints, arrays of which rank and dtype),
like a JIT: a new signature compiles a new adjoint, an old one is reused
from memory, then from the disk cache (a second process does not
transform again).
"""
from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import os
import threading
import types as types_mod
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import cache, codegen, frontend, passes, reach, rules, runtime
from .passes import cleanup
from .passes import inline as inline_pass
from . import types as T
from .errors import (AdjointcError, GeneratedCodeError, InternalError, InvalidArgument, TypeMismatch,
                     UnsupportedFunction)
from .ir import Loc, walk

_STATS = {"transforms": 0}
_lock = threading.Lock()


@dataclass
class Compiled:
    fn: Callable                 # the generated f_grad(params..., result_bar=1.0) -> (value, grads)
    source: str
    global_names: tuple[str, ...]
    path: str
    mutated: tuple[str, ...] = ()  # parameters f modifies in place (copied on entry)
    reach: reach.Reach | None = None  # what it was built from; re-checked before each reuse

    def fresh(self) -> bool:
        """Is this adjoint still the one the function's current code and globals give?"""
        return self.reach is None or self.reach.valid()


@functools.lru_cache(maxsize=1)
def _package_fingerprint() -> str:
    """Hash of adjointc's own source: a changed compiler never reuses old entries."""
    import pathlib
    h = hashlib.sha256()
    root = pathlib.Path(__file__).parent
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _registry_fingerprint() -> str:
    h = hashlib.sha256()
    for op in sorted(rules.REGISTRY):
        r = rules.REGISTRY[op]
        h.update(repr((op, r.params, r.varargs, sorted((r.templates or {}).items(), key=str),
                       r.nondiff, r.result if isinstance(r.result, str) else getattr(r.result, "__name__", ""),
                       _src(r.fn) if r.fn else "")).encode())
    return h.hexdigest()


def _src(fn: Callable) -> str:
    try:  # (a function's own code: a functools.wraps wrapper's source, not its __wrapped__'s)
        return inspect.getsource(fn.__code__ if isinstance(fn, types_mod.FunctionType) else fn)
    except (OSError, TypeError):
        return getattr(fn, "__qualname__", "")


class Gradient:
    """The gradient of a Python function, compiled to adjoint source on first call.

    What can be differentiated (see `_entry`): a function written with `def`; a bound
    method or classmethod (`obj.f`, `K.f`: self/cls is bound, a constant); a callable
    object (its `__call__`, bound to it); a `functools.partial` (its arguments are bound
    at each call, keywords can be overridden as in Python); an `lru_cache`/`cache`
    wrapper (a pure-function memo: its `__wrapped__` function is differentiated).
    `wrt` positions count the parameters of the signature the caller sees,
    `inspect.signature(fn)` (without self, without what a partial binds).

    Attributes: `primal` is the Python function whose source is differentiated (for a
    method, the function defined in the class, taking self); `__wrapped__` is what was
    passed to grad. Anything else (a gradient: higher order is not supported yet; a
    builtin or ufunc; a library function; a class) is refused with an AdjointcError.
    """

    def __init__(self, fn: Callable, wrt: Any = None, *, with_value: bool = False,
                 outputs: tuple[str, ...] = ()):
        """`outputs` (internal): parameters fn modifies in place whose final values
        are outputs too; the adjoint then takes one cotangent per output after the
        result's (used when fn is called by a function being differentiated)."""
        entry = _entry(fn, "value_and_grad" if with_value else "grad")
        self.primal = entry.function
        self._sig = inspect.signature(entry.function, follow_wrapped=False)
        self._defaults = (entry.function.__defaults__, entry.function.__kwdefaults__)
        self._names = tuple(self._sig.parameters)
        self._bound_args, self._bound_kwargs = entry.args, entry.kwargs
        self._call_primal = entry.call
        self._visible = tuple(entry.signature.parameters)
        self._single = wrt is None or isinstance(wrt, (int, np.integer, str))
        self.wrt = self._resolve_wrt(wrt)
        self._with_value = with_value
        self.outputs = tuple(outputs)
        self._callee = False  # compiled for a call from another differentiated function
        self._compiled: dict[str, Compiled] = {}
        self._last: Compiled | None = None
        self._lowered: frontend.Lowered | None = None
        if fn is entry.function:
            functools.update_wrapper(self, fn)
        else:  # name and docs of the function; never the instance dict of a callable object
            functools.update_wrapper(self, entry.function, updated=())
            self.__wrapped__ = fn

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
        sig = self._signature(values)
        c = self._compiled.get(sig)
        if c is None or not c.fresh():
            with _lock:
                c = self._memo(sig)
                if c is None:
                    c = self._compiled[sig] = self._compile([T.of_value(v) for v in values], sig)
        self._last = c
        return c

    def _memo(self, sig: str) -> Compiled | None:
        """The memoised adjoint for `sig` if it is still fresh; a stale one (a helper
        rebound, a folded constant or a method changed) drops everything memoised."""
        c = self._compiled.get(sig)
        if c is not None and not c.fresh():
            self._compiled.clear()
            self._lowered = None
            c = None
        return c

    def get_abstract(self, arg_types: list[T.T]) -> Compiled:
        """The adjoint for an abstract signature (used for calls between user functions)."""
        sig = "abstract;" + ";".join(f"{n}:{T.encode(t)}" for n, t in zip(self._names, arg_types))
        c = self._memo(sig)
        if c is None:
            c = self._compiled[sig] = self._compile(list(arg_types), sig)
        return c

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

    def tape_bytes(self, *args: Any, **kwargs: Any) -> dict[str, int]:
        """Run the gradient once and report what the forward sweep recorded for the
        backward sweep: bytes per tape/saved value, and "total". Uses a statistics
        build of the same adjoint (the normal one carries no instrumentation)."""
        from . import runtime
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        sig = self._signature(values) + ";stats"
        c = self._memo(sig)
        if c is None:
            c = self._compiled[sig] = self._reported(
                lambda: self._compile([T.of_value(v) for v in values], sig, stats=True))
        runtime.LAST_TAPE.clear()
        self._invoke(c, values, 1.0)
        report = dict(runtime.LAST_TAPE)
        report["total"] = sum(report.values())
        return report

    def _compile(self, arg_types: list[T.T], sig: str, stats: bool = False) -> Compiled:
        # everything that determines the generated text (see reach.py): the source of every
        # function and method reached, the values folded in as literals, the globals' types
        reached = reach.reach(self.primal, reach.classes_of(arg_types))
        src, consts = reached.key_parts()
        parts = {"source": src, "name": self.primal.__qualname__, "module": str(self.primal.__module__),
                 "file": inspect.getsourcefile(self.primal) or "", "wrt": ",".join(self.wrt),
                 "outputs": ",".join(self.outputs), "inline": str(inline_pass.ENABLED),
                 "signature": sig, "globals": consts, "rules": _registry_fingerprint(),
                 "compiler": _package_fingerprint()}
        key = cache.make_key(parts)
        name = f"{self.primal.__name__}_grad"

        def build() -> str:
            return self._transform(arg_types, stats)
        namespace: dict[str, Any] = {}
        for r in rules.REGISTRY.values():  # names user rules' templates refer to
            namespace.update(r.namespace)
        module, _hit = cache.load_or_build(key, build, name=name, namespace=namespace)
        fn = getattr(module, name)
        c = Compiled(fn, _module_source(module), tuple(getattr(module, "__adjointc_globals__", ())),
                     getattr(module, "__file__", ""), tuple(getattr(module, "__adjointc_mutated__", ())), reached)
        live = _live_globals(self.primal)
        for n in c.global_names:  # the values the primal reads right now (refreshed per call)
            if n in live:
                fn.__globals__[n] = live[n]
        for gname, (spelling, wrt, types, outputs) in getattr(module, "__adjointc_callees__", {}).items():
            callee = _resolve(spelling, live)
            fn.__globals__[gname] = _CalleeAdjoint(_gradient_of(callee, wrt, outputs),
                                                   [T.decode(t) for t in types])
        for wname, (spelling, outputs) in getattr(module, "__adjointc_wrappers__", {}).items():
            fn.__globals__[wname] = runtime.Returning(_resolve(spelling, live), outputs)
        return c

    def _transform(self, types: list[T.T], stats: bool = False) -> str:
        _STATS["transforms"] += 1
        low = self.lowered()
        if low.no_return is not None and not self._callee:
            from .errors import UnsupportedSyntax
            raise UnsupportedSyntax("the function has no return statement: nothing to differentiate",
                                    low.no_return, "return the scalar to differentiate")
        if low.falls_through is not None and not self._callee:
            from .errors import UnsupportedSyntax
            raise UnsupportedSyntax(f"{low.function.name} can reach the end of its body without a return "
                                    "statement, and then returns None: the output must be a float or an array",
                                    low.falls_through, "end every path with a return of the value to "
                                    "differentiate (e.g. a final return after the if or loop)")
        fn = low.function
        names = tuple(low.renamed.get(n, n) for n in self._names)
        wrt = tuple(low.renamed.get(w, w) for w in self.wrt)
        arg_types = dict(zip(names, types))
        calls = Calls(low.callees, _live_globals(self.primal))
        result = low.result
        from .names import Namer
        namer = Namer(set(low.globals_read) | {s for st in walk(fn.body) for s in _targets(st)}
                      | set(names) | {"np", "math"})
        outputs = tuple(low.renamed.get(o, o) for o in self.outputs)
        res = passes.run(fn, arg_types, low.globals_read, wrt, namer, result, user_names=low.user_names,
                         calls=calls, augmented=low.augmented, outputs=outputs)
        mutated = res.mutated
        globals_read = {**low.globals_read, **res.globals_read}
        adjoint = cleanup.run(res.adjoint, _is_temp, tape_report=stats)
        text = codegen.generate(adjoint, primal_name=fn.name, wrt=wrt, source_file=fn.file, line=fn.line)
        names = tuple(sorted(globals_read))
        text += (f"\n\n__adjointc_globals__ = {names!r}\n__adjointc_mutated__ = {tuple(sorted(mutated))!r}\n"
                 f"__adjointc_callees__ = {calls.manifest!r}\n__adjointc_wrappers__ = {calls.wrappers!r}\n")
        return text

    def _run(self, args: tuple, kwargs: dict, seed: Any = 1.0) -> tuple[Any, tuple]:
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        return self._invoke(self._get_reported(values), values, seed)

    def _get_reported(self, values: list[Any]) -> Compiled:
        return self._reported(lambda: self._get(values))

    def _reported(self, build: Callable[[], Compiled]) -> Compiled:
        """`build()`, with a Python exception from adjointc's own transform (a bug, not
        a refusal) reported as an InternalError naming the function."""
        try:
            return build()
        except AdjointcError:
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
        if c.global_names:
            g = c.fn.__globals__
            live = _live_globals(self.primal)
            for n in c.global_names:
                g[n] = live[n]
        try:
            value, grads = c.fn(*values, seed)
        except AdjointcError:
            raise
        except Exception as e:
            self._diagnose(c, values, seed, e)
            raise  # (not reached: _diagnose raises)
        if value is None:
            raise TypeMismatch(f"{self.primal.__name__} returned None at these inputs: the output must be a "
                               "float or an array", frontend.def_loc(self.primal),
                               "make every path through the function return the value to differentiate")
        grads = tuple(_like(gr, values[self._names.index(w)]) for gr, w in zip(grads, self.wrt))
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
        if value is None:
            raise TypeMismatch(f"{name} returned None at these inputs: the output must be a float or an "
                               "array", loc, "make every path through the function return the value "
                               "to differentiate") from exc
        if isinstance(seed, float) and seed == 1.0 and not _is_real_scalar(value):
            raise _not_scalar(name, value, loc) from exc
        raise _generated_code_error(self.primal, c, exc) from exc

    def __call__(self, *args: Any, **kwargs: Any):
        value, grads = self._run(args, kwargs)
        if not _is_real_scalar(value):
            raise _not_scalar(self.primal.__name__, value, frontend.def_loc(self.primal))
        g = grads[0] if self._single else grads
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

    def __repr__(self) -> str:
        return f"<adjointc gradient of {self.primal.__qualname__} wrt {', '.join(self.wrt)}>"


_GRADIENTS: dict[tuple[int, tuple[str, ...]], "Gradient"] = {}
_IN_PROGRESS: set[tuple] = set()


def _gradient_of(fn: Callable, wrt: tuple[str, ...], outputs: tuple[str, ...] = ()) -> "Gradient":
    key = (id(fn), wrt, outputs)
    g = _GRADIENTS.get(key)
    if g is None or g.primal is not fn:
        g = _GRADIENTS[key] = Gradient(fn, wrt, outputs=outputs)
        g._callee = True
    return g


class _CalleeAdjoint:
    """What a caller's backward sweep calls for a user function: its compiled adjoint,
    compiled on first use (so recursive functions can refer to themselves)."""

    def __init__(self, gradient: "Gradient", types: list[T.T]):
        self.gradient, self.types, self.compiled = gradient, types, None

    def __call__(self, seed, *args, **kwargs):
        """The adjoints of the `wrt` inputs of one call, given the output's cotangent."""
        if self.compiled is None:
            self.compiled = self.gradient.get_abstract(self.types)
        c = self.compiled
        if c.global_names:
            live = _live_globals(self.gradient.primal)
            for n in c.global_names:
                c.fn.__globals__[n] = live[n]
        if not kwargs and len(args) == len(self.gradient._names):
            values = list(args)  # (the common case, without inspect's binding)
        else:
            values = self.gradient._bind(args, kwargs)
        if self.gradient.outputs:  # seed: the cotangents of (the result, *the modified arguments)
            return c.fn(*values, *seed)[1]
        return c.fn(*values, seed)[1]


class Calls:
    """Answers the passes' questions about calls to user functions: the type of the
    result, what the call does to its arguments, and the names under which the
    caller reaches the callee's adjoint (and its argument-returning wrapper)."""

    def __init__(self, callees: dict[str, Callable], caller_globals: dict[str, Any] | None = None):
        self.callees = callees
        self.caller_globals = caller_globals  # what names mean where the generated code runs
        self.manifest: dict[str, tuple] = {}     # h_vjp -> (spelling, wrt, types, outputs)
        self.wrappers: dict[str, tuple] = {}     # h_returning_u -> (spelling, modified parameters)

    def result_type(self, name: str, arg_types: list[T.T]) -> T.T:
        if name in self.wrappers:  # (the result, the modified copies)
            spelling, outputs = self.wrappers[name]
            params = self.param_names(name)
            inner = self.effects(spelling, arg_types).result
            return T.T("tuple", elts=(inner,) + tuple(arg_types[params.index(p)] for p in outputs))
        return self.effects(name, arg_types).result

    def effects(self, name: str, arg_types: list[T.T]):
        """What calling `name` with these argument types does (passes/mutation.Effects)."""
        from .passes import mutation
        fn = self.callees[name]
        key = (id(fn), tuple(T.encode(t) for t in arg_types))
        hit = _EFFECTS.get(key)
        if hit is not None and hit[0] is fn and hit[1].valid():
            return hit[2]
        if key in _IN_PROGRESS:  # recursion: the inner call's result type is not known yet
            g = _gradient_of(fn, ())
            low = g.lowered()
            local = tuple(p for p, t in zip(g._names, arg_types) if t.kind == "array" and any(
                mutation.modifies(s, low.renamed.get(p, p), {low.renamed.get(p, p): t}, low.augmented)
                for s in walk(low.function.body)))
            return mutation.Effects(T.UNKNOWN, local)
        r = reach.reach(fn, reach.classes_of(arg_types))
        _IN_PROGRESS.add(key)
        try:
            eff = _analyse_callee(fn, arg_types)
        finally:
            _IN_PROGRESS.discard(key)
        _EFFECTS[key] = (fn, r, eff)
        return eff

    def lowered(self, name: str):
        """The callee's IR (for inlining), or None for wrappers and non-Python callables."""
        fn = self.callees.get(name)
        if not isinstance(fn, types_mod.FunctionType):
            return None
        return _gradient_of(fn, ()).lowered()

    def param_names(self, name: str) -> list[str]:
        return list(inspect.signature(self.callees[name]).parameters)

    def returning(self, name: str, outputs: tuple[str, ...]) -> str:
        """The name of `name`'s wrapper that runs it on copies of the `outputs`
        arguments and returns (its result, *the modified copies)."""
        for w, entry in self.wrappers.items():
            if entry == (name, outputs):
                return w
        base = name.split(":")[-1].replace(".", "_") + "_returning_" + "_".join(outputs)
        w, k = base, 1
        while w in self.wrappers or w in self.callees:
            k += 1
            w = f"{base}{k}"
        self.wrappers[w] = (name, outputs)
        self.callees[w] = runtime.Returning(self.callees[name], outputs)
        return w

    def callee(self, call: Any, receiver: T.T) -> str | None:
        """The key of the function a call/method call reaches ("rhs", "pkg.mod:Model.step")."""
        if call.op.startswith("call:"):
            return call.op[5:]
        method = call.op.split(":", 1)[1]
        cls = T.CLASSES.get(receiver.cls) if receiver.kind == "struct" else None
        fn = getattr(cls, method, None) if cls is not None else None
        if not isinstance(fn, types_mod.FunctionType):
            return None
        key = f"{receiver.cls}.{method}"
        self.callees[key] = fn
        return key

    def full_args(self, name: str, args: tuple, kwargs: tuple) -> list:
        """The arguments of a call in parameter order, literal defaults filled in."""
        from .ir import Const
        sig = inspect.signature(self.callees[name])
        bound = sig.bind(*args, **dict(kwargs))
        return [bound.arguments[p] if p in bound.arguments else Const(sig.parameters[p].default)
                for p in sig.parameters]

    def adjoint(self, name: str, arg_types: list[T.T], positions: list[int]) -> str:
        spelling, outputs = self.wrappers.get(name, (name, ()))
        names = tuple(self.param_names(name))
        wrt = tuple(names[i] for i in positions)
        entry = (spelling, wrt, tuple(T.encode(t) for t in arg_types), outputs)
        for gname, e in self.manifest.items():
            if e == entry:
                return gname
        base = spelling.split(":")[-1].replace(".", "_") + "_vjp"
        gname, k = base, 1
        while gname in self.manifest:
            k += 1
            gname = f"{base}{k}"
        self.manifest[gname] = entry
        return gname


def _analyse_callee(fn: Callable, arg_types: list[T.T]):
    """Lower a callee, type it for these arguments, put its own calls in
    functional form, and report its effects (result type, modified parameters)."""
    from .names import Namer
    from .passes import aliasing, mutation
    from .passes import types as tp
    g = _gradient_of(fn, ())
    low = g.lowered()
    f = low.function
    names = [low.renamed.get(n, n) for n in g._names]
    calls = Calls(dict(low.callees))
    env = tp.infer(f, dict(zip(names, arg_types)), low.globals_read, calls)
    namer = Namer({s for st in walk(f.body) for s in _targets(st)} | set(names))
    f2, _ = mutation.rewrite(f, env, calls, namer)
    if f2 is not f:
        env = tp.infer(f2, dict(zip(names, arg_types)), low.globals_read, calls)
    aliasing.check(f2, env, low.user_names, low.augmented)
    eff = mutation.effects(f2, env, low.augmented, low.result)
    back = {v: k for k, v in low.renamed.items()}
    t = T.decode(T.encode(eff.result))  # the caller must not share the callee's shape symbols
    return mutation.Effects(t, tuple(back.get(p, p) for p in eff.mutated),
                            back.get(eff.result_param, eff.result_param) if eff.result_param else None,
                            tuple(back.get(p, p) for p in eff.result_views))


_EFFECTS: dict[tuple, tuple] = {}


def _resolve(spelling: str, live: dict[str, Any]) -> Any:
    """The function a manifest entry names: "rhs", "mod.rhs" (through the caller's
    globals) or "package.module:Class.method" (imported)."""
    if ":" in spelling:
        import importlib
        module, qual = spelling.split(":", 1)
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
        return obj
    head, *rest = spelling.split(".")
    obj = live[head]
    for part in rest:
        obj = getattr(obj, part)
    return obj


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


def _is_temp(n: str) -> bool:
    """Temporaries codegen may fold away: _t3, _t3_bar, _cond2."""
    core = n[:-4] if n.endswith("_bar") else n
    return (core.startswith("_t") and core[2:].isdigit()) or (core.startswith("_cond") and core[5:].isdigit())


def _targets(s) -> list[str]:
    t = getattr(s, "target", None)
    return [t] if isinstance(t, str) else []


def _module_source(module) -> str:
    path = getattr(module, "__file__", None)
    text = getattr(module, "__adjointc_source__", None)
    if text is None and path:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
    lines = (text or "").splitlines()
    if lines and lines[0].startswith("# adjointc cache entry"):
        lines = lines[1:]
    while lines and (lines[-1].startswith("__adjointc_") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines) + "\n"


def _live_globals(fn: Callable) -> dict[str, Any]:
    g = dict(fn.__globals__)
    if fn.__closure__:
        for n, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                g[n] = cell.cell_contents
            except ValueError:
                pass
    return g


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


def _not_scalar(name: str, value: Any, loc: Any) -> TypeMismatch:
    if isinstance(value, np.ndarray) and value.ndim:
        what = f"an array of shape {value.shape}"
    elif isinstance(value, (tuple, list)):
        what = f"a {type(value).__name__} of {len(value)} values"
    elif np.iscomplexobj(value):
        what = "a complex number"
    else:
        what = f"a {type(value).__name__}"
    return TypeMismatch(f"grad of {name} needs a scalar output, got {what}", loc,
                        "use adjointc.vjp for non-scalar outputs (tuples, arrays), or return the "
                        "real scalar to differentiate")


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


def _generated_code_error(fn: Callable, c: Compiled, exc: Exception) -> GeneratedCodeError:
    """The error for an exception raised in (or below) generated code while the
    function itself runs: located at the user's line the failing generated line
    differentiates (the module's line map, see codegen.py)."""
    import linecache
    gen_line = None
    tb = exc.__traceback__
    while tb is not None:  # the last frame in the generated file
        if tb.tb_frame.f_code.co_filename == c.path:
            gen_line = tb.tb_lineno
        tb = tb.tb_next
    loc = frontend.def_loc(fn)
    where = "in the forward sweep"
    module = c.fn.__globals__
    text = module.get("__adjointc_source__") or ""
    lines = text.splitlines()
    header = 1 if lines and lines[0].startswith("# adjointc cache entry") else 0
    linemap = codegen.LineMap.of_namespace(module, offset=header)
    generated = ""
    if gen_line is not None and 0 < gen_line <= len(lines):
        generated = f" (generated {c.path}:{gen_line}: {lines[gen_line - 1].strip()})"
        found = linemap.lookup(gen_line) if linemap is not None else None
        if found is not None:
            file, n = found
            src = linecache.getline(file, n).rstrip("\n")
            if file and file == (loc.file if loc is not None else ""):
                loc = Loc(file, n, len(src) - len(src.lstrip()), src)
                where = "in the adjoint of this line"
            else:  # a line of a function it calls (inlined)
                where = f"in the adjoint of line {n} of a function it calls ({os.path.basename(file)}): {src.strip()}"
    return GeneratedCodeError(
        f"the generated adjoint of {fn.__qualname__} raised {type(exc).__name__}: {exc} {where}{generated}",
        loc, f"{fn.__name__} itself runs at these inputs, so this is a bug in adjointc: please report it "
        "with the function and the types and shapes of its arguments")


# ------------------------------------------------ what can be differentiated
@dataclass
class _Entry:
    """How a callable passed to grad reaches a `def`: `function` is called with
    `args` first and `kwargs` as defaults a caller may override (a partial's), which is
    what `call(*a, **k)` does; `signature` is the one the caller sees."""
    function: types_mod.FunctionType
    args: tuple
    kwargs: dict
    call: Callable
    signature: inspect.Signature


_HIGHER_ORDER_HINT = ("higher-order derivatives (grad of grad, vjp or check of a gradient) are not "
                      "supported yet; write the first derivative out as a Python function and "
                      "differentiate that, or use finite differences of the gradient")


def _entry(fn: Any, what: str) -> _Entry:
    """Resolve what grad/value_and_grad/vjp received to a def (see `Gradient`), or refuse.
    Never unwraps silently: a `functools.wraps` decorator's wrapper is differentiated
    as written (its `__wrapped__` is what it calls, not what it computes)."""
    if isinstance(fn, Gradient):
        raise UnsupportedFunction(f"{what} of {fn!r}: higher-order differentiation is not supported yet "
                                  "(its argument is already a gradient)",
                                  frontend.def_loc(fn.primal), _HIGHER_ORDER_HINT)
    if isinstance(fn, types_mod.FunctionType):
        frontend.refuse_def_form(fn)
        if fn.__code__.co_name == "<lambda>":
            named = _named_lambda(fn)
            return _Entry(named, (), {}, fn, inspect.signature(fn, follow_wrapped=False))
        path = os.path.realpath(fn.__code__.co_filename)
        if any(path.startswith(root + os.sep) for root in frontend._LIBRARY_ROOTS):
            # (by its own code's file: a wraps wrapper of a library function is the user's)
            name = f"{fn.__module__}.{fn.__qualname__}"
            raise UnsupportedFunction(
                f"{what}({name}): {name} is library code (standard library or site-packages), "
                "which adjointc does not transform", frontend.def_loc(fn),
                f"differentiate a function that calls it: def f(x): return {name}(x) "
                "(it needs a derivative rule, see adjointc.defvjp)")
        return _Entry(fn, (), {}, fn, inspect.signature(fn, follow_wrapped=False))
    if isinstance(fn, staticmethod):  # (the raw class-dict entry)
        return _entry(fn.__func__, what)
    if isinstance(fn, types_mod.MethodType):  # obj.f, or K.f of a classmethod: self/cls bound
        inner = _entry(fn.__func__, what)
        return _Entry(inner.function, (fn.__self__,) + inner.args, inner.kwargs, fn,
                      inspect.signature(fn, follow_wrapped=False))
    if isinstance(fn, functools.partial):
        inner = _entry(fn.func, what)
        return _Entry(inner.function, inner.args + tuple(fn.args), {**inner.kwargs, **fn.keywords}, fn,
                      inspect.signature(fn, follow_wrapped=False))
    if type(fn).__name__ == "_lru_cache_wrapper" and hasattr(fn, "cache_info"):
        # functools.lru_cache/cache memoise a function that must be pure for the memo to be
        # correct: the wrapper computes exactly what the wrapped function computes, so its
        # derivative is the wrapped function's. (Called uncached: arrays are unhashable.)
        return _entry(fn.__wrapped__, what)
    name = _callable_name(fn)
    if isinstance(fn, type):
        raise UnsupportedFunction(f"{what}({name}): a class cannot be differentiated",
                                  hint="differentiate a function that builds and uses the object")
    if isinstance(fn, (types_mod.BuiltinFunctionType, types_mod.BuiltinMethodType, np.ufunc,
                       types_mod.MethodWrapperType, types_mod.WrapperDescriptorType)) or not callable(fn):
        if not callable(fn):
            raise InvalidArgument(f"{what} expects a function, got {type(fn).__name__}")
        raise UnsupportedFunction(
            f"{what}({name}): {name} is a builtin (compiled) function; adjointc differentiates "
            "Python source", hint=f"differentiate a function that calls it: def f(x): return {name}(x), or "
            f"lambda x: {name}(x) (its derivative rule is then used)")
    call = getattr(type(fn), "__call__", None)
    if isinstance(call, types_mod.FunctionType):  # a callable object: its __call__, bound to it
        inner = _entry(types_mod.MethodType(call, fn), what)
        return _Entry(inner.function, inner.args, inner.kwargs, fn, inspect.signature(fn, follow_wrapped=False))
    raise UnsupportedFunction(f"{what}({name}): cannot read a Python def behind this {type(fn).__name__}",
                              hint=f"differentiate a function that calls it: def f(x): return {name}(x); "
                              "grad takes a def, a method, a partial or a callable object whose __call__ is one")


def _named_lambda(fn: types_mod.FunctionType) -> types_mod.FunctionType:
    """The lambda as a function with a name the generated code can use, unique per
    lambda (its line and column: two lambdas on one line have different names, so
    different cache keys) and deterministic (the same in every process)."""
    code = fn.__code__
    cols = [p[2] for p in code.co_positions()
            if None not in p and p[2:] != (0, 0) and p[0] == code.co_firstlineno]
    name = f"lambda_{code.co_firstlineno}_{min(cols) if cols else 0}"
    named = types_mod.FunctionType(code, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    named.__kwdefaults__ = fn.__kwdefaults__
    named.__qualname__ = fn.__qualname__.replace("<lambda>", name)
    named.__module__ = fn.__module__
    return named


def _callable_name(fn: Any) -> str:
    if isinstance(fn, np.ufunc):
        return f"np.{fn.__name__}"
    mod = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{mod}.{name}" if mod and mod != "builtins" else name


# -------------------------------------------------------------- public API
def grad(fn: Callable | None = None, wrt: Any = None):
    """Gradient of a scalar function, as `jax.grad`: `grad(f)(x)`, `grad(f, wrt=(0, "k"))`,
    or as a decorator `@grad` / `@grad(wrt=...)`. See `Gradient` for what f may be."""
    if fn is None:
        return lambda f: _public(f, wrt, "grad")
    return _public(fn, wrt, "grad")


def value_and_grad(fn: Callable | None = None, wrt: Any = None):
    """Like grad, but the result is `(value, gradient)`."""
    if fn is None:
        return lambda f: _public(f, wrt, "value_and_grad")
    return _public(fn, wrt, "value_and_grad")


def _public(fn: Callable, wrt: Any, what: str) -> Gradient:
    g = Gradient(fn, wrt, with_value=what == "value_and_grad")
    if isinstance(wrt, (tuple, list)) and not wrt:
        raise InvalidArgument(f"wrt={wrt!r} names no parameter of {g.primal.__name__}: nothing to differentiate",
                              frontend.def_loc(g.primal), "name at least one parameter, e.g. wrt=0 or wrt=(0, 1)")
    return g


def vjp(fn: Callable, *args: Any, wrt: Any = None, **kwargs: Any):
    """`(value, pullback)`: `pullback(cotangent)` returns the cotangents of the `wrt`
    inputs (a tuple when wrt names several). Works for non-scalar outputs; the
    cotangent has the output's structure and shapes."""
    g = _public(fn, wrt, "vjp")  # (a Gradient is refused: that would be higher order)
    # (on copies: a function that modifies its arguments must not change the point the
    # pullback differentiates at, nor the caller's arrays)
    value = g._call_primal(*_copy_arrays(args), **_copy_arrays(kwargs))
    if value is None:
        raise TypeMismatch(f"{g.primal.__name__} returned None: vjp needs a float, an array, or a "
                           "tuple/list of them as the output", frontend.def_loc(g.primal),
                           "return the value to differentiate")

    def pullback(cotangent: Any):
        _check_cotangent(cotangent, value, g.primal.__name__)
        _, grads = g._run(args, kwargs, seed=cotangent)
        return grads[0] if g._single else grads
    pullback.source = lambda: g.source  # type: ignore[attr-defined]
    return value, pullback


def _check_cotangent(ct: Any, value: Any, name: str, where: str = "the output") -> None:
    """A cotangent must have the output's structure and shapes (else the adjoint would
    fail or broadcast silently)."""
    if isinstance(value, (tuple, list)):
        if not isinstance(ct, (tuple, list)) or len(ct) != len(value):
            raise TypeMismatch(f"the cotangent for {where} of {name} must be a tuple/list of {len(value)} "
                               f"values (one per output), got {type(ct).__name__}")
        for i, (c, v) in enumerate(zip(ct, value)):
            _check_cotangent(c, v, name, f"output [{i}]")
        return
    if np.shape(ct) != np.shape(value):
        raise TypeMismatch(f"the cotangent for {where} of {name} has shape {np.shape(ct)}, the output has "
                           f"shape {np.shape(value)}", hint="pass a cotangent shaped like the output")


def stats() -> dict[str, int]:
    """How many transforms this process ran (a cache hit runs none)."""
    return dict(_STATS)
