"""The public transforms: grad, value_and_grad, vjp, jacrev/jacobian, hessian.

Every transform is built on the reverse mode of api.Gradient (one compiled
adjoint per abstract signature, see api.py): `grad` and `value_and_grad` are
Gradients; `vjp` runs the function once and gives a pullback that runs the
adjoint with a cotangent seed; `jacrev` runs the adjoint once per output
element, each seeded with one row of the identity. Conventions are JAX's, so
users guess right:

* `wrt` names what is differentiated, by position or parameter name; `argnums`
  is its alias by position (giving both is an error). One `wrt` gives one
  result, a tuple of them a tuple of results.
* `has_aux=True`: f returns `(value, aux)`; `value` is differentiated and `aux`
  (any value f computes) passes through with no derivative (passes/aux.py):
  grad -> `(gradient, aux)`, value_and_grad -> `((value, aux), gradient)`,
  vjp -> `(value, pullback, aux)`, jacrev -> `(jacobian, aux)`.
* A Jacobian has shape `out.shape + in.shape` (a float output: the gradient's
  shape; a float input: `out.shape`).

* `hessian(f, wrt)` is `jacfwd(grad(f, wrt), wrt)`, forward over reverse: the
  compiled gradient's generated adjoint is differentiated in forward mode once
  (compile_tangent.py reads it as a function: higher.specialised) and run
  once per input element, each run a Hessian-vector product. Shape
  `x.shape + x.shape`; for several wrt a tuple of tuples, `H[i][j]` of shape
  `x_i.shape + x_j.shape` (JAX's layout).

Forward mode itself (jvp, tangent, jacfwd) lives in forward.py.
"""
from __future__ import annotations

import functools
import types as types_mod
from typing import Any, Callable

import numpy as np

from . import frontend
from .api import Gradient, _copy_arrays
from .errors import InvalidArgument, TypeMismatch


def grad(fn: Callable | None = None, wrt: Any = None, *, argnums: Any = None, has_aux: bool = False,
         checkpoints: Any = None, memory: Any = None, backend: str | None = None):
    """Gradient of a scalar function, as `jax.grad`: `grad(f)(x)`, `grad(f, wrt=(0, "k"))`,
    or as a decorator `@grad` / `@grad(wrt=...)`. See `Gradient` for what f may be.
    `argnums`: JAX's name for `wrt` given as positions (an int or a tuple of ints).
    `has_aux=True`: f returns `(value, aux)`; the result is `(gradient, aux)`, aux
    carrying no derivative.
    `checkpoints=K` (an int, or "auto") or `memory="200MB"`: f's outermost loops are
    differentiated in bounded memory, keeping at most K snapshots of their state and
    recomputing the trips in between (binomial checkpointing, adjointc/checkpointing.py);
    a `# adjointc: checkpoint K` comment on a loop asks the same for that loop alone.
    `backend="numba"`: the adjoint is compiled by numba (@njit, its machine code cached on
    disk; the default when f is a numba @njit function; adjointc/backends/njit.py). What
    the numba backend cannot compile runs on NumPy, with an AdjointcWarning."""
    if fn is None:
        return lambda f: _public(f, wrt, "grad", argnums, has_aux, checkpoints, memory, backend)
    return _public(fn, wrt, "grad", argnums, has_aux, checkpoints, memory, backend)


def value_and_grad(fn: Callable | None = None, wrt: Any = None, *, argnums: Any = None, has_aux: bool = False,
                   checkpoints: Any = None, memory: Any = None, backend: str | None = None):
    """Like grad, but the result is `(value, gradient)`; with has_aux, `((value, aux), gradient)`."""
    if fn is None:
        return lambda f: _public(f, wrt, "value_and_grad", argnums, has_aux, checkpoints, memory, backend)
    return _public(fn, wrt, "value_and_grad", argnums, has_aux, checkpoints, memory, backend)


def _argnums(fn: Callable, wrt: Any, argnums: Any, what: str) -> Any:
    """`wrt` from `wrt` or its alias `argnums` (positions only, as in JAX)."""
    if argnums is None:
        return wrt
    loc = frontend.def_loc(fn) if isinstance(fn, types_mod.FunctionType) else None
    if wrt is not None:
        raise InvalidArgument(f"{what}: both wrt={wrt!r} and argnums={argnums!r} given; argnums is another "
                              "name for wrt", loc, "pass one of them: wrt=... (positions or names) or "
                              "argnums=... (positions)")
    items = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise InvalidArgument(f"{what}: argnums entries are parameter positions (int), got {a!r}", loc,
                                  f"e.g. argnums=0 or argnums=(0, 1); for a parameter name use wrt={a!r}"
                                  if isinstance(a, str) else "e.g. argnums=0 or argnums=(0, 1)")
    return argnums


def _public(fn: Callable, wrt: Any, what: str, argnums: Any = None, has_aux: bool = False,
            checkpoints: Any = None, memory: Any = None, backend: str | None = None) -> Gradient:
    wrt = _argnums(fn, wrt, argnums, what)
    g = Gradient(fn, wrt, with_value=what == "value_and_grad", has_aux=has_aux,
                 checkpoints=checkpoints, memory=memory, backend=backend)
    if isinstance(wrt, (tuple, list)) and not wrt:
        raise InvalidArgument(f"wrt={wrt!r} names no parameter of {g.primal.__name__}: nothing to differentiate",
                              frontend.def_loc(g.primal), "name at least one parameter, e.g. wrt=0 or wrt=(0, 1)")
    return g


def vjp(fn: Callable, *args: Any, wrt: Any = None, argnums: Any = None, has_aux: bool = False,
        checkpoints: Any = None, memory: Any = None, backend: str | None = None, **kwargs: Any):
    """`(value, pullback)`: `pullback(cotangent)` returns the cotangents of the `wrt`
    inputs (a tuple when wrt names several). Works for non-scalar outputs; the
    cotangent has the output's structure and shapes. `argnums` is `wrt` by position;
    with `has_aux=True` f returns `(value, aux)` and vjp returns `(value, pullback, aux)`.
    `checkpoints=`, `memory=` and `backend=` as for grad."""
    g = _public(fn, wrt, "vjp", argnums, has_aux, checkpoints, memory, backend)  # (a Gradient is refused: that would be higher order)
    # (on copies: a function that modifies its arguments must not change the point the
    # pullback differentiates at, nor the caller's arrays)
    value = g._call_primal(*_copy_arrays(args), **_copy_arrays(kwargs))
    aux = None
    if has_aux:
        value, aux = _split_aux(g, value)
    if value is None:
        raise TypeMismatch(f"{g.primal.__name__} returned None: vjp needs a float, an array, or a "
                           "tuple/list of them as the output", frontend.def_loc(g.primal),
                           "return the value to differentiate")

    def pullback(cotangent: Any):
        _check_cotangent(cotangent, value, g.primal.__name__)
        _, grads = g._run(args, kwargs, seed=cotangent)
        return grads[0] if g._single else grads
    pullback.source = lambda: g.source  # type: ignore[attr-defined]
    return (value, pullback, aux) if has_aux else (value, pullback)


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
    try:
        shape = np.shape(ct)
    except ValueError:  # (a ragged tuple, e.g. a cotangent for an aux, which has none)
        shape = f"of a {type(ct).__name__} of {len(ct)} values"
    if shape != np.shape(value):
        raise TypeMismatch(f"the cotangent for {where} of {name} has shape {shape}, the output has "
                           f"shape {np.shape(value)}", hint="pass a cotangent shaped like the output")


class Jacobian:
    """`jacrev(f, wrt)`: a callable returning f's Jacobian by reverse mode.

    One call runs f once (the output's shape and dtype; on copies of the arguments)
    and then the compiled adjoint once per output element, seeded with that row of
    the identity (`e_i` shaped like the output): row i of the Jacobian is the
    gradient of output element i. A scalar output takes one sweep, seeded 1.0.

    The adjoint is one function doing both sweeps (its tape is local to the call),
    so each row runs the forward sweep again: m outputs cost m gradients. The wrt
    inputs must be floats or float arrays, the output a float or a float array.
    """

    def __init__(self, fn: Callable, wrt: Any = None, *, argnums: Any = None, has_aux: bool = False):
        self._gradient = _public(fn, wrt, "jacrev", argnums, has_aux)
        self.primal = self._gradient.primal
        self.wrt = self._gradient.wrt
        self.has_aux = self._gradient.has_aux
        functools.update_wrapper(self, self.primal, updated=())
        self.__wrapped__ = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        g, name = self._gradient, self.primal.__name__
        values = g._bind(args, kwargs)
        g._check_inputs(values)
        inputs = [values[g._names.index(w)] for w in g.wrt]
        for w, x in zip(g.wrt, inputs):
            if not (isinstance(x, float) or isinstance(x, np.ndarray) and x.dtype.kind == "f"):
                raise TypeMismatch(f"jacrev of {name} with respect to {w} of type {type(x).__name__}: a "
                                   "Jacobian's input must be a float or a float array",
                                   frontend.def_loc(self.primal), "differentiate with respect to an array "
                                   "(np.concatenate the pieces), or use vjp for structured inputs")
        c = g._get_reported(values)
        value = g._call_primal(*_copy_arrays(args), **_copy_arrays(kwargs))
        aux = None
        if self.has_aux:
            value, aux = _split_aux(g, value)
        out = _output(value, name, self.primal)
        if out is None:  # a float output: the Jacobian is the gradient
            jac = g._invoke(c, values, 1.0)[1]
        else:
            dtype = out.dtype if out.dtype.kind == "f" else np.dtype(np.float64)
            rows = []
            for i in range(out.size):
                seed = np.zeros(out.shape, dtype)
                seed.flat[i] = 1.0
                rows.append(g._invoke(c, values, seed)[1])
            jac = tuple(_stack([r[k] for r in rows], out.shape, np.shape(x), dtype)
                        for k, x in enumerate(inputs))
        result = jac[0] if g._single else jac
        return (result, aux) if self.has_aux else result

    @property
    def source(self) -> str:
        """The generated adjoint the most recent call ran (once per Jacobian row)."""
        return self._gradient.source

    def __repr__(self) -> str:
        return f"<adjointc jacrev of {self.primal.__qualname__} wrt {', '.join(self.wrt)}>"


def _split_aux(g: Gradient, value: Any) -> tuple[Any, Any]:
    if not (isinstance(value, tuple) and len(value) == 2):
        got = f"a {type(value).__name__}" + (f" of {len(value)} values" if isinstance(value, (tuple, list)) else "")
        raise TypeMismatch(f"{g.primal.__name__} returned {got}: with has_aux=True it must return a pair "
                           "(value, aux)", frontend.def_loc(g.primal), "end every path with `return value, aux`")
    return value


def _output(value: Any, name: str, fn: Callable) -> np.ndarray | None:
    """The output as an array, or None for a real scalar (a float, an int, a 0-d float array
    is an array: its Jacobian has the input's shape too, as for a float)."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        return value
    what = (f"a {type(value).__name__} of {len(value)} values" if isinstance(value, (tuple, list)) else
            f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}")
    raise TypeMismatch(f"jacrev of {name} needs a float or float-array output, got {what}",
                       frontend.def_loc(fn), "return one array (np.concatenate or np.stack the pieces), "
                       "or use vjp for structured outputs")


def _stack(rows: list[Any], out_shape: tuple, in_shape: tuple, dtype: np.dtype) -> np.ndarray:
    """The Jacobian of one input from its rows (one gradient per output element)."""
    jac = np.empty((len(rows),) + tuple(in_shape), dtype=np.result_type(dtype, *[np.asarray(r).dtype for r in rows]))
    for i, r in enumerate(rows):
        jac[i] = r
    return jac.reshape(tuple(out_shape) + tuple(in_shape))


def jacrev(fn: Callable | None = None, wrt: Any = None, *, argnums: Any = None, has_aux: bool = False):
    """The Jacobian of f by reverse mode, as `jax.jacrev`: `jacrev(f)(x)` has shape
    `f(x).shape + x.shape`; `jacrev(f, wrt=(0, 1))` a tuple, one per input; also
    `@jacrev` / `@jacrev(wrt=...)`. See `Jacobian` for the cost."""
    if fn is None:
        return lambda f: Jacobian(f, wrt, argnums=argnums, has_aux=has_aux)
    return Jacobian(fn, wrt, argnums=argnums, has_aux=has_aux)


jacobian = jacrev  # (adjointc's Jacobian is the reverse-mode one)


def hessian(fn: Callable | None = None, wrt: Any = 0, *, argnums: Any = None):
    """The Hessian of a scalar function, as `jax.hessian`: `hessian(f)(x)` has shape
    `x.shape + x.shape` (a float for a float x); `hessian(f, wrt=(0, 1))` a tuple of
    tuples, `H[i][j]` the block of second derivatives in (wrt i, wrt j). Computed
    as `jacfwd(grad(f, wrt), wrt)`: one tangent of the compiled gradient, compiled
    once and run once per input element (n Hessian-vector products). Also
    `@hessian` / `@hessian(wrt=...)`."""
    if fn is None:
        return lambda f: hessian(f, wrt, argnums=argnums)
    from .forward import jacfwd
    wrt = _argnums(fn, None if argnums is not None else wrt, argnums, "hessian")
    g = _public(fn, wrt, "hessian")
    items = g.wrt[0] if g._single else tuple(g.wrt)
    jac = jacfwd(g, wrt=items)

    def hess(*args: Any, **kwargs: Any) -> Any:
        blocks = jac(*args, **kwargs)
        if g._single:
            return blocks
        # jacfwd gives, per input j, the tangent of the gradient tuple: blocks[j][i]
        return tuple(tuple(blocks[j][i] for j in range(len(items))) for i in range(len(items)))
    hess.__name__ = f"hessian_{g.primal.__name__}"
    hess.__doc__ = f"Hessian of {g.primal.__name__} with respect to {', '.join(g.wrt)}."
    hess.__wrapped__ = fn  # type: ignore[attr-defined]
    return hess
