"""Helpers of the reduction, scan and sorting rules (rules/np_reductions.py).

`unreduce` (in adjointc.runtime, which generated code calls directly) broadcasts
an adjoint back over the reduced axes; these build on it for reductions whose
derivative is not a plain broadcast (max/min ties, prod with zeros, var) and
route adjoints back through scans and sorts. The `<op>_jvp` helpers are the
forward-mode tangents of the same rules, each the transpose of its adjoint
helper (the same tie and zero conventions), taking the input's tangent `d`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...runtime import unreduce
from .core import float_zeros, linear, reduced_axes


# -------------------------------------------------------------- reductions
@linear("a")
def unreduce_minmax(g: Any, a: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Adjoint of max/min: `g` goes to the elements equal to the result,
    split evenly among ties (JAX's convention)."""
    a = np.asarray(a)
    hit = a == unreduce(ans, a, axis, keepdims)
    count = np.sum(hit, axis=reduced_axes(axis, a.ndim), keepdims=True)
    return unreduce(g, a, axis, keepdims) * hit / count


def minmax_jvp(d: Any, a: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Tangent of max/min: the mean of the tangents of the elements equal to the result
    (the transpose of `unreduce_minmax`'s even split among ties; NaNs never match)."""
    a = np.asarray(a)
    hit = a == unreduce(ans, a, axis, keepdims)
    axes = reduced_axes(axis, a.ndim)
    picked = np.sum(np.where(hit, d, 0.0), axis=axes, keepdims=keepdims)
    return picked / np.sum(hit, axis=axes, keepdims=keepdims)


def prod_of_others(a: Any, axis: Any = None) -> np.ndarray:
    """For each element, the product of the *other* elements reduced with it
    along `axis`: d prod / d a, exact when some elements are zero."""
    a = np.asarray(a)
    axes = reduced_axes(axis, a.ndim)
    keep = [d for d in range(a.ndim) if d not in axes]
    b = np.transpose(a, keep + list(axes))
    shape = b.shape
    n = int(np.prod(shape[len(keep):], dtype=int))
    if n == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    b = b.reshape(shape[:len(keep)] + (n,))
    one = np.ones(b.shape[:-1] + (1,), dtype=b.dtype)
    before = np.cumprod(np.concatenate([one, b[..., :-1]], -1), -1)           # prod of b[:j]
    after = np.cumprod(np.concatenate([one, b[..., :0:-1]], -1), -1)[..., ::-1]  # prod of b[j+1:]
    return np.transpose((before * after).reshape(shape), np.argsort(keep + list(axes)))


@linear("a")
def unreduce_var(g: Any, a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> np.ndarray:
    """Adjoint of `np.var(a, axis, ddof=ddof, keepdims=keepdims)`."""
    a = np.asarray(a)
    axes = reduced_axes(axis, a.ndim)
    n = int(np.prod([a.shape[d] for d in axes], dtype=int))
    if n - ddof <= 0:   # np.var is nan here (with a RuntimeWarning): so is its derivative
        return unreduce(g, a, axis, keepdims) * np.full(a.shape, np.nan)
    centred = a - a.mean(axis=axes, keepdims=True)
    return unreduce(g, a, axis, keepdims) * (2 / (n - ddof)) * centred


def var_jvp(d: Any, a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Tangent of `np.var(a, axis, ddof=ddof, keepdims=keepdims)`:
    2 / (n - ddof) * sum((a - mean) * d) over the reduced axes (nan where var is)."""
    a = np.asarray(a)
    axes = reduced_axes(axis, a.ndim)
    n = int(np.prod([a.shape[k] for k in axes], dtype=int))
    if n - ddof <= 0:   # np.var is nan here: so is its derivative (as `unreduce_var`)
        return np.sum(d * np.full(a.shape, np.nan), axis=axes, keepdims=keepdims)
    centred = a - a.mean(axis=axes, keepdims=True)
    return np.sum(d * centred, axis=axes, keepdims=keepdims) * (2 / (n - ddof))


# --------------------------------------------------------- scans / sorting
@linear("a")
def uncumsum(g: Any, a: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.cumsum(a, axis)`: a cumulative sum from the end."""
    g = np.asarray(g)
    if axis is None:
        return uncumsum(g, np.ravel(a), 0).reshape(np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@linear("a")
def cumprod_vjp(g: Any, a: Any, ans: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.cumprod(a, axis)`, exact when `a` contains zeros."""
    a, g = np.asarray(a), np.asarray(g)
    if axis is None:
        return cumprod_vjp(g, a.ravel(), np.ravel(ans), 0).reshape(a.shape)
    if np.all(a != 0):
        return uncumsum(g * ans, a, axis) / a
    # With zeros: d ans[i] / d a[j] = prod(a[k] for k <= i, k != j) for i >= j.
    am, gm = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
    n = am.shape[-1]
    skip_j = np.where(np.eye(n, dtype=bool), 1, am[..., None, :])   # row j: a with a[j] = 1
    partial = np.triu(np.cumprod(skip_j, axis=-1))                  # [j, i] for i >= j
    return np.moveaxis(np.sum(partial * gm[..., None, :], axis=-1), -1, axis)


def cumprod_jvp(d: Any, a: Any, ans: Any, axis: Any = None) -> np.ndarray:
    """Tangent of `np.cumprod(a, axis)`, exact when `a` contains zeros (the transpose
    of `cumprod_vjp`): ans * cumsum(d / a) without zeros, else the sum over j <= i
    of d[j] times the product of a[k] for k <= i, k != j."""
    a = np.asarray(a)
    d = np.broadcast_to(d, a.shape)
    if axis is None:
        return cumprod_jvp(d.ravel(), a.ravel(), np.ravel(ans), 0)
    if np.all(a != 0):
        return ans * np.cumsum(d / a, axis)
    am, dm = np.moveaxis(a, axis, -1), np.moveaxis(d, axis, -1)
    n = am.shape[-1]
    skip_j = np.where(np.eye(n, dtype=bool), 1, am[..., None, :])   # row j: a with a[j] = 1
    partial = np.triu(np.cumprod(skip_j, axis=-1))                  # [j, i] for i >= j
    return np.moveaxis(np.sum(partial * dm[..., :, None], axis=-2), -1, axis)


@linear("a")
def unsort(g: Any, a: Any, axis: Any = -1) -> np.ndarray:
    """Adjoint of `np.sort(a, axis)`: send each sorted slot back where it came from."""
    a, g = np.asarray(a), np.asarray(g)
    if axis is None:
        return unsort(g, a.ravel(), 0).reshape(a.shape)
    out = float_zeros(a.shape, g)
    np.put_along_axis(out, np.argsort(a, axis=axis, kind="stable"), g, axis)
    return out


def sort_jvp(d: Any, a: Any, axis: Any = -1) -> np.ndarray:
    """Tangent of `np.sort(a, axis)`: the tangents in the sorted order (stable on
    ties, as `unsort`)."""
    a = np.asarray(a)
    d = np.broadcast_to(d, a.shape)
    if axis is None:
        return sort_jvp(d.ravel(), a.ravel(), 0)
    return np.take_along_axis(d, np.argsort(a, axis=axis, kind="stable"), axis)


@linear("a")
def undiff(g: Any, a: Any, n: int = 1, axis: int = -1) -> np.ndarray:
    """Adjoint of `np.diff(a, n, axis)`: a negated difference of the zero-padded `g`."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0, append=0)
    return g


# What joins adjointc.runtime (see helpers/__init__.py): the helpers, not our imports.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__]
