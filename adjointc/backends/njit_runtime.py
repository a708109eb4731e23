"""What a numba-compiled adjoint needs at run time, and how compiler.py links one.

* `tape_reserve(tape, need)`: the tape array itself when it holds `need` entries (rows),
  else a copy at least twice as large (amortised O(1) pushes for a `while` loop; a `for`
  over a range reserves its whole trip count once, at loop entry); `as_adjoint`,
  `copy_adjoint`, `seed_adjoint`, `unbroadcast`, `unreduce` and `zeros_like` (runtime.py's) and `fdiv`,
  `pow_dx` (the rules' helpers): for the cases compiled code meets (numbers, arrays of
  rank 1 and 2; for any other numba's compile fails and the NumPy adjoint runs).
  Each is a Python function with a numba implementation (`numba.extending.overload`,
  registered by `_register` when the first numba adjoint is linked).
* `link(c, module, function, fallback)`: a loaded generated module -> the Compiled the caller
  runs. A module the printer refused (`__adjointc_numba_refused__`: a construct the
  numba backend cannot compile) is the NumPy adjoint; an AdjointcWarning names why.
  Otherwise the module is registered in `sys.modules` under its deterministic name
  (numba's on-disk cache re-imports it by name when a second process loads the
  compiled code) and `c.fn` becomes a `NumbaAdjoint`.
* `NumbaAdjoint`: calls the `@njit(cache=True)` dispatcher. numba compiles at the first
  call of each argument signature; if that compile fails (a construct numba's type
  inference refuses), the warning names numba's first message line and the NumPy
  adjoint of the same signature (`fallback()`) runs from then on. An exception the
  compiled code raises while running is not a compile failure and propagates.

The decision is the user-visible contract: **a construct the numba backend cannot
compile falls back to the NumPy backend with an `adjointc.AdjointcWarning`**, never a
wrong or missing gradient. `warnings.simplefilter("error", AdjointcWarning)` turns the
fallback into an error.
"""
from __future__ import annotations

import math
import sys
import warnings
from typing import Any, Callable

import numpy as np

from ..errors import AdjointcWarning


def tape_reserve(tape: np.ndarray, need: int) -> np.ndarray:
    """`tape` if it has room for `need` entries (rows), else a copy with at least twice as many."""
    if need <= tape.shape[0]:
        return tape
    grown = np.empty((max(need, 2 * tape.shape[0]),) + tape.shape[1:], tape.dtype)
    grown[:tape.shape[0]] = tape
    return grown


def tape_push_array(tape: np.ndarray, end: int, v: np.ndarray) -> np.ndarray:
    """`tape` (grown, at least doubling, if it lacks room) with the 1-D array v's elements
    written from `end` on: a push onto a tape of arrays."""
    tape = tape_reserve(tape, end + v.size)
    tape[end:end + v.size] = v
    return tape


def as_adjoint(g: Any, x: Any) -> Any:
    """runtime.as_adjoint in compiled code: an array adjoint is always a fresh copy (numba
    cannot tell a view from an owner, and a view must never be updated in place); a
    number for an array is that array's shape filled with it."""
    return np.array(g, dtype=float) if isinstance(x, np.ndarray) and np.shape(g) == np.shape(x) else \
        (np.full(np.shape(x), float(g)) if isinstance(x, np.ndarray) else g)


def copy_adjoint(g: Any) -> Any:
    """runtime.copy_adjoint of one entry in compiled code: an array copied, a number as it is."""
    return g.copy() if isinstance(g, np.ndarray) else g


def seed_adjoint(seed: Any, y: Any) -> Any:
    """runtime.seed_adjoint in compiled code: the output's cotangent as a fresh array (or a number)."""
    return np.array(np.broadcast_to(seed, np.shape(y)), dtype=float) if isinstance(y, np.ndarray) else seed


def unbroadcast(g: Any, x: Any) -> Any:
    """runtime.unbroadcast in compiled code: g summed back to x's shape (x a number, or an
    array of rank 1 or 2 that g's broadcast from; any other case numba refuses)."""
    from ..runtime import unbroadcast as python_unbroadcast
    return python_unbroadcast(g, x)


def pow_dx(x: float, y: float) -> float:
    """The scalar case of rules' pow_dx: 0 where y == 0, else y * x ** (y - 1) (inf at 0)."""
    return 0.0 if y == 0 else y * x ** (y - 1)


def fdiv(a: float, b: float) -> float:
    """The scalar case of rules' fdiv: a / b, inf or nan where b == 0 (as NumPy gives)."""
    return float(np.true_divide(a, b))


def unreduce(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """runtime.unreduce of a whole-array reduction (axis None) in compiled code: a fresh array."""
    return np.full(np.shape(x), g)


def zeros_like(x: Any) -> Any:
    """runtime.zeros_like in compiled code, for a number or an array: 0.0, or zeros of x's
    shape (x's dtype when it is floating or complex, else float64)."""
    from ..runtime import zeros_like as python_zeros_like
    return python_zeros_like(x)


def _jit(fn: Callable) -> Callable:
    import numba
    return numba.njit(fn)


_READY = False


def _register() -> None:
    """The numba implementations of the helpers above (once, when numba code first needs them)."""
    global _READY
    if _READY:
        return
    from numba import types
    from numba.extending import overload

    # (copies element by element: a slice assignment costs numba seconds to compile)
    @overload(tape_reserve)
    def _tape_reserve(tape, need):
        if tape.ndim == 1:
            def one(tape, need):
                if need <= tape.shape[0]:
                    return tape
                grown = np.empty(max(need, 2 * tape.shape[0]), tape.dtype)
                for i in range(tape.shape[0]):
                    grown[i] = tape[i]
                return grown
            return one

        def rows(tape, need):
            if need <= tape.shape[0]:
                return tape
            grown = np.empty((max(need, 2 * tape.shape[0]), tape.shape[1]), tape.dtype)
            for i in range(tape.shape[0]):
                for j in range(tape.shape[1]):
                    grown[i, j] = tape[i, j]
            return grown
        return rows

    @overload(tape_push_array)
    def _tape_push_array(tape, end, v):
        def push(tape, end, v):
            need = end + v.shape[0]
            if need > tape.shape[0]:
                grown = np.empty(max(need, 2 * tape.shape[0]), tape.dtype)
                for i in range(end):
                    grown[i] = tape[i]
                tape = grown
            for i in range(v.shape[0]):
                tape[end + i] = v[i]
            return tape
        return push

    @overload(as_adjoint)
    def _as_adjoint(g, x):
        if not isinstance(x, types.Array):
            return lambda g, x: g
        if isinstance(g, types.Array):
            return lambda g, x: g.astype(np.float64)  # (astype copies)
        return lambda g, x: np.full(x.shape, np.float64(g))

    @overload(copy_adjoint)
    def _copy_adjoint(g):
        if isinstance(g, types.Array):
            return lambda g: g.copy()
        return lambda g: g

    @overload(seed_adjoint)
    def _seed_adjoint(seed, y):
        if not isinstance(y, types.Array):
            return lambda seed, y: seed
        if isinstance(seed, types.Array):
            return lambda seed, y: seed.astype(np.float64)  # (the cotangent has y's shape: api checks it)
        return lambda seed, y: np.full(y.shape, np.float64(seed))

    @overload(unbroadcast)
    def _unbroadcast(g, x):
        scalar = (types.Number, types.Boolean)
        if isinstance(x, scalar):
            if isinstance(g, scalar):
                return lambda g, x: g
            if isinstance(g, types.Array):
                return lambda g, x: g.sum()
            return None
        if not isinstance(x, types.Array) or x.ndim > 2:
            return None
        if isinstance(g, scalar):
            return lambda g, x: g  # (a number broadcasts: as runtime.unbroadcast returns it)
        if not isinstance(g, types.Array) or g.ndim > 2:
            return None
        if x.ndim == 0 or (x.ndim == 2 and g.ndim != 2):
            return None
        if x.ndim == 1:
            def one(g, x):
                if g.shape[0] == x.shape[0]:
                    return g
                if x.shape[0] == 1:  # (x broadcast along g)
                    return np.full(1, g.sum())
                return np.full(x.shape[0], g[0])  # (g broadcast along x, as runtime's broadcast_to)
            if g.ndim == 1:
                return one
            _one = _jit(one)
            return lambda g, x: _one(g.sum(axis=0), x)  # (g of rank 2: its rows summed first)

        def both(g, x):
            if g.shape[0] == x.shape[0] and g.shape[1] == x.shape[1]:
                return g
            r0 = 1 if x.shape[0] == 1 else g.shape[0]  # (each axis x has once is summed)
            r1 = 1 if x.shape[1] == 1 else g.shape[1]
            red = np.zeros((r0, r1))
            for i in range(g.shape[0]):
                for j in range(g.shape[1]):
                    red[i if r0 != 1 else 0, j if r1 != 1 else 0] += g[i, j]
            out = np.empty((x.shape[0], x.shape[1]))  # (then broadcast where g had one)
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    out[i, j] = red[i if r0 != 1 else 0, j if r1 != 1 else 0]
            return out
        return both

    @overload(pow_dx)
    def _pow_dx(x, y):
        if isinstance(x, types.Number) and isinstance(y, types.Number):
            def impl(x, y):
                if y == 0:
                    return 0.0
                return y * np.float64(x) ** (y - 1)
            return impl
        return None

    @overload(fdiv)
    def _fdiv(a, b):
        if isinstance(a, types.Number) and isinstance(b, types.Number):
            def impl(a, b):
                if b != 0:
                    return a / b
                if a == 0 or a != a:
                    return np.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return impl
        return None

    @overload(zeros_like)
    def _zeros_like(x):
        if isinstance(x, types.Array):
            if isinstance(x.dtype, (types.Float, types.Complex)):
                return lambda x: np.zeros(x.shape, x.dtype)
            return lambda x: np.zeros(x.shape, np.float64)
        if isinstance(x, (types.Number, types.Boolean)):
            return lambda x: 0.0
        return None  # (a list, a dict...: numba refuses it, the adjoint falls back to NumPy)

    @overload(unreduce)
    def _unreduce(g, x, axis=None, keepdims=False):
        if isinstance(x, types.Array) and isinstance(g, (types.Number, types.Boolean)) and \
                isinstance(axis, (types.NoneType, types.Omitted)) or axis is None:
            return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
        return None  # (another reduction: numba refuses it, the adjoint falls back to NumPy)
    _READY = True


def warn(function: str, reason: str) -> None:
    warnings.warn(f"adjointc: {function}: the numba backend cannot compile this adjoint ({reason}); "
                  "the NumPy backend runs it instead", AdjointcWarning, stacklevel=2)


class NumbaAdjoint:
    """The generated `f_grad` compiled by numba, with the NumPy adjoint of the same
    signature as the fallback if numba refuses to compile it (see the module docstring)."""

    def __init__(self, dispatcher: Any, function: str, fallback: Callable[[], Callable]):
        self.dispatcher, self.function, self._fallback = dispatcher, function, fallback
        self.fell_back: str | None = None  # numba's reason, once the NumPy adjoint runs instead
        self._run: Callable = dispatcher

    @property
    def __globals__(self) -> dict:  # (compiler.Compiled and its error path read the module)
        return getattr(self._run, "__globals__", None) or self.dispatcher.py_func.__globals__

    def __call__(self, *args: Any) -> Any:
        try:
            return self._run(*args)
        except Exception as e:
            from numba.core.errors import NumbaError
            if self._run is not self.dispatcher or not isinstance(e, NumbaError):
                raise
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            told = [ln for ln in lines if not ln.startswith(("Failed in ", "During:"))]  # (not numba's stage)
            reason = (told or lines or [type(e).__name__])[0][:240]
            self.fell_back = f"numba: {reason}"
            warn(self.function, self.fell_back)
            self._run = self._fallback()
            return self._run(*args)


def link(c: Any, module: Any, function: str, fallback: Callable[[], Callable]) -> Any:
    """The Compiled `c` made from a numba-backend module (see the module docstring)."""
    refused = getattr(module, "__adjointc_numba_refused__", None)
    if refused is not None:
        warn(function, refused)
        return c
    _register()
    sys.modules[module.__name__] = module  # (numba's cache imports it by this name)
    c.fn = NumbaAdjoint(c.fn, function, fallback)
    return c
