"""Helpers of batched forward mode (rules/batched.py): tangents that carry a leading
batch axis, one column of a Jacobian per entry (`jacfwd`'s matrix of tangent columns).

A batched tangent of a value `x` has shape `(nb,) + np.shape(x)` (`(nb,)` for a
float); a batched list or tuple holds batched tangents. These helpers make such
values (zeros, the broadcast of a tangent to a result's shape) and do what a rule's
own helper does for one tangent, over the batch: they take the batch size or a
batched tangent first, the primal values after, as the rules' helpers do.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...runtime import unreduce
from .core import reduced_axes

__all__ = ["batch_zeros", "batch_array", "batch_items", "batch_axis", "batch_transpose", "batch_rebroadcast",
           "batch_float", "batch_squeeze", "batch_broadcast_to", "batch_minmax_jvp"]


def batch_zeros(x: Any, nb: int) -> Any:
    """`nb` zero tangents of x, stacked: float zeros of shape (nb,) + x.shape for a number
    or an array; a list or tuple of them for a list or tuple (what zero_tangent is, batched)."""
    if isinstance(x, np.ndarray):
        return np.zeros((nb,) + x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, list):
        return [batch_zeros(v, nb) for v in x]
    if isinstance(x, tuple):
        items = [batch_zeros(v, nb) for v in x]
        return type(x)._make(items) if hasattr(type(x), "_make") else tuple(items)
    if isinstance(x, (bool, np.bool_, str, bytes, type(None))):
        return x   # (carries no tangent: kept, as zero_tangent keeps it)
    if isinstance(x, (int, float, complex, np.number)):
        return np.zeros(nb)
    raise TypeError(f"no batched zero tangent for a {type(x).__name__}")   # (jacfwd: the per-column sweeps)


def batch_array(v: Any) -> np.ndarray:
    """`np.array(v)`'s tangents, of a batched list or tuple `v` (nested ones too): its
    entries' tangents stacked after the batch axis, shape (nb, len(v), ...)."""
    if isinstance(v, (list, tuple)):
        return np.stack([batch_array(x) for x in v], axis=1)
    return np.asarray(v)


def batch_items(v: Any) -> list:
    """The entries of a batched sequence as arrays (a list entry stacked: `batch_array`),
    for np.concatenate and np.stack, which read a list entry as an array."""
    return [batch_array(x) for x in v]


def batch_axis(axis: Any) -> Any:
    """An axis option (an int or a tuple of them) of a primal op, for its batched tangent:
    a non-negative axis moves up by one (past the batch axis), a negative one stays."""
    if isinstance(axis, (tuple, list)):
        return tuple(batch_axis(a) for a in axis)
    return axis + 1 if axis >= 0 else axis


def batch_transpose(t: Any, axes: Any = None) -> np.ndarray:
    """`np.transpose(x, axes)`'s tangents: the batch axis stays first."""
    t = np.asarray(t)
    r = t.ndim - 1
    perm = range(r - 1, -1, -1) if axes is None else (a % r for a in axes)
    return np.transpose(t, (0,) + tuple(a + 1 for a in perm))


def batch_rebroadcast(t: Any, ans: Any) -> np.ndarray:
    """The batched tangent `t` of an elementwise result at the result's shape (`rebroadcast`
    over a batch): `t` already has the result's rank plus the batch axis."""
    shape = (np.shape(t)[0],) + np.shape(ans)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(t, shape))   # (a copy: the tangent may be written in place)


def batch_float(t: Any) -> np.ndarray:
    """`float(x)`'s tangents, of a batched tangent `t` of a one-element x: shape (nb,)."""
    t = np.asarray(t)
    return t.reshape(t.shape[0]).astype(float)


def batch_squeeze(t: Any) -> np.ndarray:
    """`np.squeeze(x)`'s tangents: every axis of length 1 but the batch axis dropped."""
    t = np.asarray(t)
    return np.squeeze(t, axis=tuple(i for i in range(1, t.ndim) if t.shape[i] == 1))


def batch_broadcast_to(t: Any, shape: Any) -> np.ndarray:
    """`np.broadcast_to(x, shape)`'s tangents (a view, as the primal's is)."""
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    return np.broadcast_to(t, (np.shape(t)[0],) + shape)


def batch_minmax_jvp(d: Any, a: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """`minmax_jvp` (np.max / np.min's tangent: the mean of the tangents of the elements
    equal to the result) for a batch of tangents `d` of shape (nb,) + a.shape."""
    a = np.asarray(a)
    hit = a == unreduce(ans, a, axis, keepdims)
    axes = reduced_axes(axis, a.ndim)
    picked = np.sum(np.where(hit, d, 0.0), axis=tuple(x + 1 for x in axes), keepdims=keepdims)
    return picked / np.sum(hit, axis=axes, keepdims=keepdims)
