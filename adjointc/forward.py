"""Forward mode, the public surface: `jvp`, `tangent` (the `Tangent` object) and `jacfwd`.

    value, value_dot = jvp(f, (x, y, n), (dx, dy, None))   # JAX's convention
    fwd = tangent(f, wrt=(0, 1)); fwd(x, y, n, tangents=(dx, dy)); print(fwd.source)
    J = jacfwd(f, wrt=0)(x, y, n)                           # out.shape + x.shape

A `Tangent` is a `Gradient` (api.py) whose compiled function is the tangent
(passes/tangent.py through compile_tangent.py): it binds arguments, specialises
on the abstract signature and memoises exactly as a gradient does. Contracts:

* tangents have the structure, shapes and dtypes of their primals (checked, a clear
  `TypeMismatch` otherwise); an argument not differentiated (an int, a flag) has the
  tangent None in `jvp` and is left out of `wrt` in `tangent`;
* the output tangent has the output's structure, shape and dtype (a float for a float);
* the caller's arrays are never modified (a function modifying a parameter in place
  runs on a copy, its tangent too);
* `jvp` memoises one Tangent per (function, which tangents are given), and that
  memoises the compiled code per signature: a repeated call costs a lookup.

`jacfwd` runs the columns of the identity as one batched tangent (rules/batched.py:
every tangent with a leading batch axis, up to `CHUNK` columns a sweep), or, where
the batched build refuses, one tangent per input element, compiled once and called
n times.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import compile_tangent, compiler, frontend
from . import types as T
from .api import Gradient, _check_arg_aliasing, _copy_arrays, _call_with_values
from .compiler import Compiled
from .errors import AdjointcError, GeneratedCodeError, InvalidArgument, TypeMismatch
from .rules.batched import Unbatchable

CHUNK = 256  # jacfwd's columns per batched sweep (the batch axis' length at most)


class Tangent(Gradient):
    """The forward-mode derivative (JVP) of a Python function, compiled on first call.

    `fwd(*args, tangents=..., **kwargs)` returns `(value, value_dot)`: `tangents` is the
    tangent of the one `wrt` argument (wrt an int or a name), or a tuple with one per
    `wrt` argument. Attributes as a Gradient's: `primal`, `wrt`, `source` (the tangent
    code of the last call's signature), `source_for(*args)`.
    """

    def __init__(self, fn: Callable, wrt: Any = None, *, outputs: tuple[str, ...] = (), batched: bool = False):
        super().__init__(fn, wrt, outputs=outputs)
        # batched: the tangents (given and returned) carry a leading batch axis, one JVP per
        # row (jacfwd's columns); signatures whose build refused (Unbatchable) are remembered
        self.batched, self.refused = batched, set()

    def _compile(self, arg_types: list[T.T], sig: str, stats: bool = False) -> Compiled:
        try:
            return compile_tangent.compile_tangent(self, arg_types, sig)
        except Unbatchable:
            self.refused.add(sig)
            raise

    def __call__(self, *args: Any, tangents: Any = None, **kwargs: Any):
        if tangents is None:
            raise InvalidArgument(f"the tangent of {self.primal.__name__} needs tangents=... (one per wrt "
                                  f"argument: {', '.join(self.wrt)})", frontend.def_loc(self.primal))
        dots = (tangents,) if self._single else tuple(tangents)
        if len(dots) != len(self.wrt):
            raise InvalidArgument(f"{len(dots)} tangents for {len(self.wrt)} wrt arguments "
                                  f"({', '.join(self.wrt)}) of {self.primal.__name__}")
        return self.run(self._bind(args, kwargs), dots)

    def run(self, values: list[Any], dots: tuple) -> tuple[Any, Any]:
        """(value, value_dot) at the bound `values`, `dots` the tangents of `wrt` in order."""
        self._check_inputs(values)
        dots = tuple(_checked(d, values[self._names.index(w)], w, self.primal.__name__)
                     for d, w in zip(dots, self.wrt))
        c = self._get_reported(values)
        value, value_dot = self._invoke_tangent(c, values, dots)
        return value, like_output(value_dot, value)

    def _invoke_tangent(self, c: Compiled, values: list[Any], dots: tuple) -> tuple[Any, Any]:
        if c.mutated:
            _check_arg_aliasing(self._names, values, c.mutated)
        c.refresh()
        try:
            value, value_dot = c.fn(*values, *dots)
        except AdjointcError:
            raise
        except Exception as e:
            name = self.primal.__name__
            try:
                _call_with_values(self.primal, self._sig, _copy_arrays(values))
            except Exception as own:
                own.add_note(f"(adjointc: {name} itself raises this at these inputs, without adjointc)")
                raise own.with_traceback(own.__traceback__) from None
            raise compiler.generated_code_error(self.primal, c, e) from e
        if value is None:
            raise TypeMismatch(f"{self.primal.__name__} returned None at these inputs: the output must be a "
                               "float, an array or a tuple of them", frontend.def_loc(self.primal))
        return value, value_dot

    @property
    def source(self) -> str:
        """The generated tangent of the most recent call's signature."""
        if self._last is None:
            raise AdjointcError(f"{self.primal.__name__} has not been called yet: the tangent is specialised "
                                "on the argument types", hint="call it once, or use .source_for(*args)")
        return self._last.source

    def program_after(self, name: str, *args: Any, **kwargs: Any):
        """The compiler's Program after the pass `name` of passes.TANGENT_PIPELINE."""
        from . import passes
        values = self._bind(args, kwargs)
        self._check_inputs(values)
        prog = compiler.program_of(self, [T.of_value(v) for v in values])
        return passes.run(prog, passes.TANGENT_PIPELINE, after=name, dump=False)

    def __repr__(self) -> str:
        return f"<adjointc tangent of {self.primal.__qualname__} wrt {', '.join(self.wrt)}>"


def tangent(fn: Callable | None = None, wrt: Any = None):
    """The forward-mode derivative of `fn` as a reusable object (see `Tangent`);
    `wrt` as for grad (positions or names). Also a decorator: `@tangent(wrt=...)`."""
    if fn is None:
        return lambda f: tangent(f, wrt)
    t = Tangent(fn, wrt)
    if isinstance(wrt, (tuple, list)) and not wrt:
        raise InvalidArgument(f"wrt={wrt!r} names no parameter of {t.primal.__name__}",
                              frontend.def_loc(t.primal), "name at least one parameter, e.g. wrt=0")
    return t


_JVPS: dict[tuple, Tangent] = {}


def jvp(fn: Callable, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
    """`(f(*primals), J @ tangents)` as `jax.jvp`: `primals` all positional arguments,
    `tangents` one per primal (None for an argument not differentiated)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise InvalidArgument("jvp(f, primals, tangents): primals and tangents must be tuples (one entry per "
                              f"positional argument), got {type(primals).__name__} and {type(tangents).__name__}",
                              hint="e.g. jvp(f, (x,), (dx,))")
    if len(primals) != len(tangents):
        raise InvalidArgument(f"jvp: {len(primals)} primals but {len(tangents)} tangents",
                              hint="give one tangent per primal, None for an argument not differentiated")
    wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
    if not wrt:
        value = fn(*_copy_arrays(tuple(primals)))
        return value, like_output(0.0, value)
    try:
        key: tuple | None = (fn, wrt)
        fwd = _JVPS.get(key)
    except TypeError:  # (an unhashable callable object: not memoised)
        key, fwd = None, None
    if fwd is None:
        fwd = Tangent(fn, wrt)
        if key is not None:
            _JVPS[key] = fwd
    return fwd.run(fwd._bind(tuple(primals), {}), tuple(tangents[i] for i in wrt))


def jacfwd(fn: Callable, wrt: Any = 0, *, batched: bool = True) -> Callable:
    """The Jacobian by forward mode: `jacfwd(f, wrt)(*args)` has shape out.shape + x.shape
    (out.shape for a float x; a tuple of them for several wrt; a tuple per output for a
    tuple output).

    The columns J e_j come from one *batched* tangent sweep (rules/batched.py): the
    tangent code is generated with a leading batch axis on every tangent and run on the
    identity's columns, `CHUNK` of them at a time. Where an operation has no batch form
    (here or in a user function it calls), the batched build refuses and the
    columns come from one tangent sweep each, through one compiled tangent: the same
    Jacobian, never a wrong one. `batched=False` asks for the per-column sweeps;
    `jacobian.mode` says which the last call used ("batched" or "per-column"; a float
    x takes one plain sweep)."""
    single = wrt is None or isinstance(wrt, (int, np.integer, str))
    items = [0 if wrt is None else wrt] if single else list(wrt)
    parts = [(Tangent(fn, w), Tangent(fn, w, batched=True)) for w in items]

    def jacobian(*args: Any, **kwargs: Any):
        out, modes = [], []
        for t, tb in parts:
            values = t._bind(args, kwargs)
            x = values[t._names.index(t.wrt[0])]
            jac = _batched_jacobian(tb, values, x) if batched else None
            modes.append("per-column" if jac is None else "batched")
            out.append(_jacobian(t, values, x) if jac is None else jac)
        jacobian.mode = modes[0] if single else tuple(modes)  # type: ignore[attr-defined]
        return out[0] if single else tuple(out)
    first = parts[0][0]
    jacobian.__name__ = f"jacfwd_{getattr(first.primal, '__name__', 'f')}"
    jacobian.__doc__ = f"Jacobian of {first.primal.__name__} with respect to {', '.join(p.wrt[0] for p, _ in parts)}."
    jacobian.mode = None  # type: ignore[attr-defined]
    return jacobian


def _batched_jacobian(t: Tangent, values: list[Any], x: Any) -> Any:
    """The Jacobian from batched sweeps of `t` (a batched Tangent), or None where the batched
    build refuses (or its result is not shaped as the output's tangents: never expected)."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size > 1):
        return None   # (a float, an empty array: one plain sweep; a wrong type: refused there)
    t._check_inputs(values)
    if t._signature(values) in t.refused:
        return None
    try:
        c = t._get_reported(values)
    except Unbatchable:
        return None
    n, value, blocks = x.size, None, []
    for start in range(0, n, CHUNK):
        b = min(CHUNK, n - start)
        seeds = np.zeros((b, n), dtype=x.dtype)
        seeds[np.arange(b), start + np.arange(b)] = 1.0
        try:
            value, dots = t._invoke_tangent(c, values, (seeds.reshape((b,) + x.shape),))
        except (GeneratedCodeError, Unbatchable):   # (a batch form that does not fit, a callee's
            # batched build refused when first called: the per-column sweeps)
            t.refused.add(t._signature(values))
            return None
        block = _rows(dots, value, b)
        if block is None:
            t.refused.add(t._signature(values))
            return None
        blocks.append(block)
    return _assemble(blocks, value, x.shape)


def _rows(dots: Any, value: Any, b: int) -> Any:
    """The batched output tangent `dots` (b rows) as float arrays of shape (b,) + out.shape,
    with the output's structure; None if a row is not shaped like the output."""
    if isinstance(value, (tuple, list)):
        if not (isinstance(dots, (tuple, list)) and len(dots) == len(value)):
            return None
        rows = [_rows(d, v, b) for d, v in zip(dots, value)]
        return None if any(r is None for r in rows) else rows
    if isinstance(value, (bool, np.bool_)):
        return np.zeros(b)
    a = np.asarray(dots, dtype=float)
    return a if a.shape == (b,) + np.shape(value) else None


def _assemble(blocks: list[Any], value: Any, shape: tuple) -> Any:
    """The Jacobian out.shape + x.shape from the batched rows (row j: the column J e_j)."""
    if isinstance(value, (tuple, list)):
        return tuple(_assemble([blk[k] for blk in blocks], v, shape) for k, v in enumerate(value))
    J = np.moveaxis(np.concatenate(blocks, axis=0), 0, -1)
    return J.reshape(np.shape(value) + shape)


def _jacobian(t: Tangent, values: list[Any], x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return t.run(values, (1.0,))[1]
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        raise TypeMismatch(f"jacfwd with respect to {t.wrt[0]} of type {type(x).__name__}: the input must be "
                           "a float or a float array", hint="differentiate with respect to an array argument")
    cols = []
    value = None
    for j in range(x.size):
        e = np.zeros(x.size, dtype=x.dtype)
        e[j] = 1.0
        if j == 0:  # (checked and compiled once; the other columns call the same tangent)
            value, col = t.run(values, (e.reshape(x.shape),))
        else:
            col = like_output(t._invoke_tangent(t._last, values, (e.reshape(x.shape),))[1], value)
        cols.append(col)
    if value is None:  # (an empty x)
        value = t.primal(*_copy_arrays(values))
    return _stack(cols, value, x.shape)


def _stack(cols: list[Any], value: Any, shape: tuple) -> Any:
    """The columns J @ e_j stacked into an array of shape out.shape + x.shape."""
    if isinstance(value, (tuple, list)):
        return tuple(_stack([c[k] for c in cols], v, shape) for k, v in enumerate(value))
    out_shape = np.shape(value)
    if not cols:
        return np.zeros(out_shape + shape)
    J = np.stack([np.asarray(c, dtype=float) for c in cols], axis=-1)
    return J.reshape(out_shape + shape)


# --------------------------------------------------------------- the values
def _checked(t: Any, x: Any, name: str, fname: str) -> Any:
    """The tangent `t` of the argument `x`, checked to have x's structure, shapes and dtypes."""
    where = f"the tangent of {name} in {fname}"
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, (int, np.integer)) and not isinstance(x, bool)):
        raise TypeMismatch(f"{where}: {name}={x!r} is an integer and carries no tangent",
                           hint="pass None as its tangent (jvp) or leave it out of wrt")
    if isinstance(x, np.ndarray):
        a = np.asarray(t)
        if a.shape != x.shape:
            raise TypeMismatch(f"{where} has shape {a.shape}, {name} has shape {x.shape}",
                               hint="a tangent has its primal's shape and dtype")
        if a.dtype != x.dtype and not (x.dtype.kind != "f" and a.dtype.kind == "f"):
            raise TypeMismatch(f"{where} has dtype {a.dtype}, {name} has dtype {x.dtype}",
                               hint=f"pass the tangent as an array of dtype {x.dtype}")
        return a
    if isinstance(x, (float, np.floating)):
        if isinstance(t, np.ndarray) and t.shape == () and t.dtype.kind in "fiu":
            return float(t)
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)):
            raise TypeMismatch(f"{where} is a {type(t).__name__}, {name} is a float",
                               hint="pass a float as the tangent of a float")
        return float(t)
    if isinstance(x, (tuple, list)):
        if type(t) is not type(x) or len(t) != len(x):
            raise TypeMismatch(f"{where} must be a {type(x).__name__} of {len(x)} entries like {name}, got "
                               f"{type(t).__name__}" + (f" of {len(t)}" if isinstance(t, (tuple, list)) else ""))
        items = [_checked(a, b, f"{name}[{i}]", fname) if _carries(b) else a for i, (a, b) in enumerate(zip(t, x))]
        return type(x)._make(items) if hasattr(type(x), "_make") else type(x)(items)
    if isinstance(x, dict):
        if not isinstance(t, dict) or set(t) != set(x):
            raise TypeMismatch(f"{where} must be a dict with the keys of {name}")
        return {k: _checked(t[k], v, f"{name}[{k!r}]", fname) if _carries(v) else t[k] for k, v in x.items()}
    fields = T.struct_fields(x)
    if fields is not None:
        if type(t) is not type(x):
            raise TypeMismatch(f"{where} must be a {type(x).__name__} like {name}, got {type(t).__name__}",
                               hint="the tangent of an object is an object of the same class")
        for k, v in fields.items():
            if _carries(v):
                _checked(getattr(t, k), v, f"{name}.{k}", fname)
        return t
    return t


def _carries(v: Any) -> bool:
    return T.of_value(v).differentiable


def like_output(t: Any, value: Any) -> Any:
    """The output's tangent with the output's structure, shape and dtype."""
    if isinstance(value, np.ndarray):
        a = np.asarray(t)
        if a.shape != value.shape:
            a = np.broadcast_to(a, value.shape).copy()
        return a.astype(value.dtype, copy=False) if value.dtype.kind in "fc" else a
    if isinstance(value, (bool, np.bool_)):
        return 0.0
    if isinstance(value, (float, int)):
        return float(t) if np.ndim(t) == 0 and not isinstance(t, (tuple, list)) else t
    if isinstance(value, np.floating):
        return type(value)(t)
    if isinstance(value, (tuple, list)):
        ts = t if isinstance(t, (tuple, list)) and len(t) == len(value) else [0.0] * len(value)
        items = [like_output(a, b) for a, b in zip(ts, value)]
        return type(value)._make(items) if hasattr(type(value), "_make") else type(value)(items)
    return t
