"""The few helpers generated adjoint code calls. Kept tiny and dependency-free."""
from __future__ import annotations

import numpy as np


def unbroadcast(g, x):
    """Sum the adjoint `g` of a broadcast result back to the shape of `x`."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if not shape:
        return g[()] if isinstance(g, np.ndarray) else g
    return g


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the adjoint `g` of a reduction over `axis` back to x's shape."""
    shape = np.shape(x)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


def zeros_like(x):
    """A zero adjoint for a value of x's type: 0.0 for scalars, zeros for arrays."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        return type(x)(zeros_like(v) for v in x)
    return 0.0


def add_at(g_full, index, g):
    """Adjoint of `x[index]`: scatter-add `g` into a zero array shaped like x."""
    np.add.at(g_full, index, g)
    return g_full


from .vjp_helpers import *  # noqa: E402,F401,F403  helpers that rule templates call
