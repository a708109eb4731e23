"""Helpers of the elementwise rules (rules/np_elementwise.py, rules/operators.py,
rules/math.py): derivatives that need a guard a one-line template cannot
express (x ** y at 0, a norm's 0 / 0, sinc near 0) and np.interp's adjoints.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .core import float_zeros, linear


def pow_dx(x: Any, y: Any) -> Any:
    """d(x ** y)/dx = y * x ** (y - 1), never a ZeroDivisionError: 0 where y == 0
    (x ** 0 is the constant 1, also at x = 0), inf at x = 0 for 0 < y < 1."""
    x, y = np.asarray(x, dtype=np.result_type(x, float)), np.asarray(y, dtype=np.result_type(y, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = y * np.power(x, y - 1)
    return np.where(y == 0, 0.0, d)[()]


def pow_dy(x: Any, ans: Any) -> Any:
    """d(x ** y)/dy = x ** y * log(x), with 0 at x = 0 (0 ** y is 0 for every y > 0;
    JAX's convention), nan for x < 0 (no real logarithm)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(invalid="ignore"):
        return (ans * np.log(np.where(x == 0, 1.0, x)))[()]


def div0(a: Any, b: Any) -> Any:
    """a / b, 0 where b == 0: where a norm (`np.linalg.norm`, `hypot`, `std`) is 0,
    its adjoint takes the subgradient 0, as abs'(0) = 0 (JAX gives nan there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(a, b)
    return np.where(np.asarray(b) == 0, 0.0, q)[()]


def fdiv(a: Any, b: Any) -> Any:
    """a / b in floating point: inf (or nan) where b == 0, as NumPy gives, instead of
    Python's ZeroDivisionError for floats (`math.sqrt`'s derivative at 0 is inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(a, b)[()]


def dsinc(x: Any) -> np.ndarray:
    """Derivative of `np.sinc` (0 at 0; a Taylor series near 0 avoids cancellation)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.cos(np.pi * x) - np.sinc(x)) / x
    return np.where(np.abs(x) < 1e-4, -np.pi ** 2 / 3 * x, d)


def rebroadcast(t: Any, ans: Any) -> Any:
    """The tangent `t` of an elementwise result, at the result's shape: the forward
    counterpart of `unbroadcast`. A derived tangent's term lacks the dimensions of
    the constant inputs it does not involve (x's in `np.mod(x, y)` is `x_dot`);
    the result broadcast against them too (rules/tangents.py)."""
    shape = np.shape(ans)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(t, shape))   # (a copy: the tangent may be written in place)


def interp_slope(x: Any, xp: Any, fp: Any) -> np.ndarray:
    """d np.interp(x, xp, fp) / dx: the slope of the segment holding x (0 outside xp)."""
    x, xp, fp = np.asarray(x), np.asarray(xp), np.asarray(fp)
    if len(xp) < 2:
        return np.zeros(x.shape)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    return np.where((x >= xp[0]) & (x < xp[-1]), slope, 0.0)


@linear("xp")
def interp_vjp(g: Any, x: Any, xp: Any, left: Any = None, right: Any = None) -> np.ndarray:
    """Adjoint of `fp` in `np.interp(x, xp, fp, left, right)`: each x spreads
    its `g` over the two knots around it (the end knot outside, unless
    `left`/`right` replace the value there)."""
    x, xp = np.asarray(x), np.asarray(xp)
    g = np.broadcast_to(g, x.shape)
    keep = np.ones(x.shape, dtype=bool)
    if left is not None:
        keep &= x >= xp[0]
    if right is not None:
        keep &= x <= xp[-1]
    g = g * keep
    out = float_zeros(xp.shape, g)
    if len(xp) == 1:
        out[0] = np.sum(g)
        return out
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    np.add.at(out, i, g * (1 - t))
    np.add.at(out, i + 1, g * t)
    return out


def interp_jvp(d: Any, x: Any, xp: Any, left: Any = None, right: Any = None) -> Any:
    """Tangent of `np.interp(x, xp, fp, left, right)` for fp's tangent `d`: each x
    interpolates the tangents of the two knots around it (the end knot outside,
    0 where `left`/`right` replace the value); the transpose of `interp_vjp`."""
    x, xp, d = np.asarray(x), np.asarray(xp), np.asarray(d)
    keep = np.ones(x.shape, dtype=bool)
    if left is not None:
        keep &= x >= xp[0]
    if right is not None:
        keep &= x <= xp[-1]
    if len(xp) == 1:
        return (d[0] * keep)[()]
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    return ((d[i] * (1 - t) + d[i + 1] * t) * keep)[()]


# What joins adjointc.runtime (see helpers/__init__.py): the helpers, not our imports.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__]
