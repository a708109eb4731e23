"""NumPy's reduction rules: sums, means, products, variances, extrema and norms
(`unreduce` broadcasts g back over the reduced axes), scans and sorting, and
the reductions without a derivative (all/any, argmax/argmin, argsort).
Each rule's tangent (`defjvp`, forward mode) follows its adjoint: the sums,
means, cumsum and diff are linear; the others transpose their adjoints (the
same conventions at ties and zeros), over `d`, the input's tangent.
"""
from __future__ import annotations

import numpy as np

from . import defjvp, defvjp, nondiff
from .np_results import arg_reduce_result, const_value, flat_unless_axis, same_rank


# --------------------------------------------------------------- reductions
# `unreduce(g, a, axis, keepdims)` broadcasts g back over the reduced axes.
R = "reduce"
defvjp(np.sum, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims)", result=R)
defjvp(np.sum, "linear")
defvjp(np.mean, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims) * np.size(ans) / np.size(a)", result=R)
defjvp(np.mean, "linear")
defvjp(np.prod, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims) * prod_of_others(a, axis)", result=R)
defjvp(np.prod, a="np.sum(d * prod_of_others(a, axis), axis=axis, keepdims=keepdims)")
defvjp(np.var, "a, axis=None, dtype=None, *, ddof=0, keepdims=False",
       a="unreduce_var(g, a, axis, ddof, keepdims)", result=R)
defjvp(np.var, a="var_jvp(d, a, axis, ddof, keepdims)")
defvjp(np.std, "a, axis=None, dtype=None, *, ddof=0, keepdims=False",
       a="unreduce_var(div0(g, 2 * ans), a, axis, ddof, keepdims)", result=R)  # std = 0: 0
defjvp(np.std, a="div0(var_jvp(d, a, axis, ddof, keepdims), 2 * ans)")
# max/min: ties share g equally (JAX), so the tangent is the mean of the tied tangents;
# NaNs never match, so nanmax/nanmin skip them.
for _f in (np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin):
    defvjp(_f, "a, axis=None, *, keepdims=False",
           a="unreduce_minmax(g, a, ans, axis, keepdims)", result=R)
    defjvp(_f, a="minmax_jvp(d, a, ans, axis, keepdims)")
defvjp(np.nansum, "a, axis=None, dtype=None, *, keepdims=False",
       a="np.where(np.isnan(a), 0.0, unreduce(g, a, axis, keepdims))", result=R)
defjvp(np.nansum, a="np.sum(np.where(np.isnan(a), 0.0, d), axis=axis, keepdims=keepdims)")
defvjp(np.nanmean, "a, axis=None, dtype=None, *, keepdims=False",
       a="np.where(np.isnan(a), 0.0, unreduce(g / np.sum(~np.isnan(a), axis=axis, keepdims=keepdims), a, axis, keepdims))",
       result=R)
defjvp(np.nanmean, a="np.sum(np.where(np.isnan(a), 0.0, d), axis=axis, keepdims=keepdims) "
                     "/ np.sum(~np.isnan(a), axis=axis, keepdims=keepdims)")


@defvjp(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", result=R)
def _norm(x, ord, axis, keepdims):
    """2-norm / Frobenius: x / norm. Other orders: see `norm_vjp`."""
    if const_value(ord) is None:
        return {"x": "x * unreduce(div0(g, ans), x, axis, keepdims)"}   # 0 at x = 0 (JAX: nan)
    return {"x": "norm_vjp(g, x, ans, ord, axis, keepdims)"}


@defjvp(np.linalg.norm)
def _norm_tangent(x, ord, axis, keepdims):
    """2-norm / Frobenius: sum(x * d) / norm. Other orders: see `norm_jvp`."""
    if const_value(ord) is None:
        return {"x": "div0(np.sum(x * d, axis=axis, keepdims=keepdims), ans)"}   # 0 at x = 0
    return {"x": "norm_jvp(d, x, ans, ord, axis, keepdims)"}


# ------------------------------------------------------------ scans, sorting
defvjp(np.cumsum, "a, axis=None, dtype=None", a="uncumsum(g, a, axis)", result=flat_unless_axis)
defjvp(np.cumsum, "linear")
defvjp(np.cumprod, "a, axis=None, dtype=None", a="cumprod_vjp(g, a, ans, axis)",
       result=flat_unless_axis)
defjvp(np.cumprod, a="cumprod_jvp(d, a, ans, axis)")
defvjp(np.sort, "a, axis=-1, kind=None", a="unsort(g, a, axis)", result=flat_unless_axis)
defjvp(np.sort, a="sort_jvp(d, a, axis)")
defvjp(np.diff, "a, n=1, axis=-1", a="undiff(g, a, n, axis)", result=same_rank("a"))
defjvp(np.diff, "linear")

# ---------------------------------------------------------- no derivative
# Tests over an axis, the indices of extrema, the sorting permutation.
for _f in (np.all, np.any, np.count_nonzero):
    nondiff(_f, "a, axis=None, *, keepdims=False", result="unknown")
for _f in (np.argmax, np.argmin):
    nondiff(_f, "a, axis=None, *, keepdims=False", result=arg_reduce_result)
nondiff(np.argsort, "a, axis=-1, kind=None, *, stable=None", result="unknown")
