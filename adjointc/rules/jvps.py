"""Forward-mode knowledge of the built-in rules that is not derived from their
VJP templates (rules/tangents.py derives the elementwise ones): which rules are
linear in their differentiable arguments (the tangent is the same call on the
tangents), which are multilinear (a product rule), and the explicit tangent
templates of the others, over the parameters, `ans` and `d` (the argument's
tangent).
"""
from __future__ import annotations

import builtins

import numpy as np

from . import defjvp

# ------------------------------------------------------------------ linear
_LINEAR = [
    # operators and syntax
    "add", "sub", "neg", "pos", "getitem", "tuple", "list", "attr:T", "attr:real", "method:copy",
    builtins.float, builtins.sum,
    # elementwise
    np.add, np.subtract, np.negative, np.positive, np.real, np.conjugate,
    # reductions and scans
    np.sum, np.mean, np.cumsum, np.trace, np.diff,
    # shape, selection, assembly
    np.reshape, np.ravel, np.squeeze, np.expand_dims, np.swapaxes, np.moveaxis, np.broadcast_to, np.copy,
    np.flip, np.fliplr, np.flipud, np.tril, np.triu, np.diagonal, np.diag, np.tile, np.repeat, np.take,
    np.concatenate, np.append, np.stack, np.hstack, np.vstack, np.array, np.asarray, np.pad, np.transpose,
    np.roll, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.full, np.full_like, np.linspace,
]
if hasattr(np.linalg, "trace"):
    _LINEAR.append(np.linalg.trace)
for _f in _LINEAR:
    defjvp(_f, "linear")

# ------------------------------------------------------------- multilinear
for _f in ("mul", "matmul", np.multiply, np.matmul, np.dot, np.inner, np.outer, np.vdot, np.tensordot,
           np.einsum):
    defjvp(_f, "multilinear")
