"""The basics every helper family builds on: the symbolic zero and `@linear`.

The symbolic zero: an adjoint not yet accumulated is the scalar 0.0, and a
helper may receive it as `g` for an array output (a value rebound in a loop
and not read after it). Helpers linear in `g` are decorated `@linear`: the
zero in gives 0.0 out (or a list of 0.0 for a list input) without running
array code that needs `g` to have the output's shape.

`reduced_axes` and `float_zeros` are shared by the families and stay out of
the namespace generated code imports (`__all__` lists what joins it).
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import numpy as np

from ...runtime import is_zero

F = TypeVar("F", bound=Callable[..., Any])


def reduced_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Normalise an `axis` argument (None, int or tuple) to sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


def float_zeros(shape: tuple[int, ...], *like: Any) -> np.ndarray:
    """Zeros of `shape` in a float (or complex) dtype that holds the values `like`."""
    return np.zeros(shape, dtype=np.result_type(float, *like))


def zero_adjoint(x: Any) -> Any:
    """The zero adjoint of a value: 0.0 for a scalar, float zeros of its shape for an
    array, one zero adjoint per element for a list or tuple."""
    if isinstance(x, (list, tuple)):
        return [zero_adjoint(v) for v in x]
    if np.ndim(x) == 0:
        return 0.0
    return np.zeros(np.shape(x), dtype=np.result_type(np.asarray(x).dtype, float))


def linear(like: str | Callable[[dict[str, Any]], Any]) -> Callable[[F], F]:
    """Decorator for a helper linear in its first argument `g`, returning the adjoint of
    the parameter named `like` (or the value `like(arguments)` picks): for a zero `g`
    (the symbolic zero 0.0 included) it returns that input's `zero_adjoint` without
    running the helper, whose array code needs `g` to have the output's shape."""
    def deco(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def helper(g: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_zero(g):
                return fn(g, *args, **kwargs)
            b = sig.bind(g, *args, **kwargs)
            b.apply_defaults()
            return zero_adjoint(like(b.arguments) if callable(like) else b.arguments[like])
        return helper  # type: ignore[return-value]
    return deco


def mT(x: Any) -> np.ndarray:
    """Matrix transpose: swap the last two axes (NumPy 2's `x.mT`)."""
    return np.swapaxes(x, -1, -2)


__all__ = ["zero_adjoint", "linear", "mT"]   # (the names generated code has always seen)
