"""NumPy's shape and indexing rules: reshaping and rearranging (reshape,
transpose, flip, roll, rot90, rollaxis...), splitting (split, array_split,
hsplit, vsplit, dsplit), selecting (take, diagonal, triangles, select, partition),
assembling (concatenate, stack, column_stack, array, pad, tile, and the index
expressions np.r_[...] / np.c_[...]), np.gradient, constructors with a value input
(full, linspace), and, without a derivative, index queries (nonzero,
searchsorted...), index builders (tril_indices, triu_indices, diag_indices, ix_),
constructors (zeros, arange, eye...) and shape queries (`np.size(v)` of a number has
the plain form 1, and reads v for its shape only: passes/forms.py).
Every differentiable rule here but np.partition is linear in its differentiable
arguments (it moves, selects, copies or interpolates values): its tangent (forward
mode) is the same call on the tangents (`defjvp(f, "linear")`, below the rules).
np.partition moves values by their order, so its tangent moves the input tangents
the same way (`partition_jvp`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import types as T
from ..ir import Const, Expr
from . import defjvp, defvjp, nondiff, plain_form, shape_only
from .np_results import (append_result, arange_result, array_result, array_type, atleast_result,
                         atleast_vararg_result, broadcast_to_result, concatenate_result, const_value, diag_result,
                         dtype_of, flat_unless_axis, full_like_result, gradient_result, index_concat_result,
                         index_tuple_result, ix_result, linspace_result, rank_plus, repeat_result, reshape_result,
                         same_rank, select_result, shape_arg_result, split_result, squeeze_result, stack_result,
                         take_result, tile_result, tri_result, type_of)


# -------------------------------------------------- shapes and rearrangement
defvjp(np.reshape, "a, shape=None, *, newshape=None", a="unreshape(g, a)",
       result=reshape_result, returns_view=True)   # `newshape`: NumPy 1 spelling
defvjp(np.ravel, "a", a="unreshape(g, a)",
       result=lambda types, bound: array_type(1, dtype_of(type_of(types, "a"))), returns_view=True)
defvjp(np.squeeze, "a, axis=None", a="unreshape(g, a)", result=squeeze_result, returns_view=True)
defvjp(np.expand_dims, "a, axis", a="unreshape(g, a)", result=rank_plus(1, axis="axis"), returns_view=True)
defvjp(np.swapaxes, "a, axis1, axis2", a="unswapaxes(g, a, axis1, axis2)", result=same_rank("a"), returns_view=True)
defvjp(np.moveaxis, "a, source, destination", a="unmoveaxis(g, a, source, destination)",
       result=same_rank("a"), returns_view=True)
defvjp(np.broadcast_to, "array, shape", array="unbroadcast(g, array)", result=broadcast_to_result, returns_view=True)
defvjp(np.copy, "a", a="g", result="same")
defvjp(np.flip, "m, axis=None", m="unflip(g, m, axis)", result="same", returns_view=True)
defvjp(np.fliplr, "m", m="unflip(g, m, 1)", result="same", returns_view=True)
defvjp(np.flipud, "m", m="unflip(g, m, 0)", result="same", returns_view=True)
defvjp(np.tril, "m, k=0", m="untril(g, m, k)", result=tri_result)  # 1-D m: rows broadcast
defvjp(np.triu, "m, k=0", m="untriu(g, m, k)", result=tri_result)
defvjp(np.diagonal, "a, offset=0, axis1=0, axis2=1", a="undiagonal(g, a, offset, axis1, axis2)",
       result=rank_plus(-1), returns_view=True)
defvjp(np.diag, "v, k=0", v="undiag(g, v, k)", result=diag_result)
defvjp(np.tile, "A, reps", A="untile(g, A, reps)", result=tile_result)
defvjp(np.repeat, "a, repeats, axis=None", a="unrepeat(g, a, repeats, axis)", result=repeat_result)
defvjp(np.take, "a, indices, axis=None", a="untake(g, a, indices, axis)", result=take_result)
defvjp(np.concatenate, "arrays, axis=0", arrays="unconcatenate(g, arrays, axis)",
       result=concatenate_result)
defvjp(np.append, "arr, values, axis=None", arr="unappend(g, arr, values, axis, 0)",
       values="unappend(g, arr, values, axis, 1)", result=append_result)
defvjp(np.stack, "arrays, axis=0", arrays="unstack(g, arrays, axis)", result=stack_result)
defvjp(np.hstack, "tup", tup="unhstack(g, tup)", result=atleast_result(1))
defvjp(np.vstack, "tup", tup="unvstack(g, tup)", result=atleast_result(2))
defvjp(np.array, "object, dtype=None", object="unarray(g, object)", result=array_result)
defvjp(np.asarray, "a, dtype=None", a="unarray(g, a)",
       result=lambda types, bound: array_result({"object": types.get("a")}, bound), returns_view=True)


@defvjp(np.pad, "array, pad_width, mode='constant'", result=same_rank("array"))
def _pad(array, pad_width, mode):
    """Constant padding: the adjoint cuts the padding off g."""
    if const_value(mode) != "constant":
        raise TypeError("np.pad: only mode='constant' is differentiable")
    return {"array": "unpad(g, array, pad_width)"}


defvjp(np.transpose, "a, axes=None", a="untranspose(g, a, axes)", result=same_rank("a"), returns_view=True)
defvjp(np.roll, "a, shift, axis=None", a="unroll(g, a, shift, axis)", result="same")


def _atleast_rule(n: int):
    def rule(arys):
        if len(arys) == 1:
            return {"arys": ["unreshape(g, arys[0])"]}
        return {"arys": [f"unreshape(piece(g, {i}), arys[{i}])" for i in range(len(arys))]}
    return rule


defvjp(np.atleast_1d, "*arys", result=atleast_vararg_result(1), returns_view=True)(_atleast_rule(1))
defvjp(np.atleast_2d, "*arys", result=atleast_vararg_result(2), returns_view=True)(_atleast_rule(2))
defvjp(np.atleast_3d, "*arys", result=atleast_vararg_result(3))(_atleast_rule(3))

defvjp(np.rot90, "m, k=1, axes=(0, 1)", m="unrot90(g, m, k, axes)", result=same_rank("m"), returns_view=True)
defvjp(np.rollaxis, "a, axis, start=0", a="unrollaxis(g, a, axis, start)", result=same_rank("a"),
       returns_view=True)
# Splitting: the adjoint joins the pieces' adjoints (`ans` gives their shapes).
defvjp(np.split, "ary, indices_or_sections, axis=0", ary="unsplit(g, ans, ary, axis)", result=split_result,
       returns_view=True)   # (the pieces are views of ary)
defvjp(np.array_split, "ary, indices_or_sections, axis=0", ary="unsplit(g, ans, ary, axis)",
       result=split_result, returns_view=True)
for _f, _axis in ((np.hsplit, "h"), (np.vsplit, "v"), (np.dsplit, "d")):
    defvjp(_f, "ary, indices_or_sections", ary=f"unsplit(g, ans, ary, {_axis!r})", result=split_result,
           returns_view=True)
defvjp(np.column_stack, "tup", tup="uncolumn_stack(g, tup)", result=atleast_result(2))
if hasattr(np, "row_stack"):   # (NumPy 2 deprecates it: np.vstack under another name)
    defvjp(np.row_stack, "tup", tup="unvstack(g, tup)", result=atleast_result(2))
# np.select: g goes to the choice picked at each element (or to default where none is).
defvjp(np.select, "condlist, choicelist, default=0", choicelist="unselect(g, condlist, choicelist, default, 'choices')",
       default="unselect(g, condlist, choicelist, default, 'default')", result=select_result)
# np.partition moves values (as sort does): matched by value, ties in order.
defvjp(np.partition, "a, kth, axis=-1", a="unpartition(g, a, ans, axis)", result=flat_unless_axis)
defjvp(np.partition, a="partition_jvp(d, a, ans, axis)")
# np.gradient is linear in f; the spacings (numbers or coordinate arrays) are constants.
defvjp(np.gradient, "f, *varargs, axis=None, edge_order=1", f="ungradient(g, f, varargs, axis, edge_order)",
       result=gradient_result)


# np.r_[a, b] / np.c_[a, b]: index expressions, not calls. The frontend lowers one whose
# items are all values (no slices, no string directives) to a call of these rules, which
# the printer writes back as `np.r_[...]` (see expressions.ExprLowerer.concatenator).
defvjp("np.r_", "*arys", result=index_concat_result(1))(
    lambda arys: {"arys": [f"unr_(g, arys, {i})" for i in range(len(arys))]})
defvjp("np.c_", "*arys", result=index_concat_result(2))(
    lambda arys: {"arys": [f"unc_(g, arys, {i})" for i in range(len(arys))]})

# -------------------------------------------- constructors with a value input
defvjp(np.full, "shape, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)",
       result=shape_arg_result("shape"))
defvjp(np.full_like, "a, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)",
       result=full_like_result)
# linspace is linear in start and stop: out = start * (1 - t) + stop * t.
defvjp(np.linspace, "start, stop, num=50, endpoint=True, *, dtype=None",
       start="linspace_vjp(g, start, num, endpoint, 1.0)",
       stop="linspace_vjp(g, stop, num, endpoint, 0.0)",
       result=linspace_result)

# ---------------------------------------------------------------- tangents
for _f in (np.reshape, np.ravel, np.squeeze, np.expand_dims, np.swapaxes, np.moveaxis, np.broadcast_to,
           np.copy, np.flip, np.fliplr, np.flipud, np.tril, np.triu, np.diagonal, np.diag, np.tile, np.repeat,
           np.take, np.concatenate, np.append, np.stack, np.hstack, np.vstack, np.array, np.asarray, np.pad,
           np.transpose, np.roll, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.full, np.full_like,
           np.linspace, np.rot90, np.rollaxis, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit,
           np.column_stack, np.select, np.gradient, "np.r_", "np.c_") + \
        ((np.row_stack,) if hasattr(np, "row_stack") else ()):
    defjvp(_f, "linear")

# ---------------------------------------------------------- no derivative
# Indices.
for _f in (np.nonzero, np.argwhere):
    nondiff(_f, "a", result="unknown")
nondiff(np.flatnonzero, "a", result=lambda types, bound: T.array(1, dtype="i"))
nondiff(np.searchsorted, "a, v, side='left', sorter=None", result="unknown")
nondiff(np.digitize, "x, bins, right=False", result="unknown")
nondiff(np.unique, "ar, return_index=False, return_inverse=False, return_counts=False, axis=None",
        result="unknown")
# Index builders: integer arrays.
for _f in (np.tril_indices, np.triu_indices):
    nondiff(_f, "n, k=0, m=None", result=index_tuple_result(2))
for _f in (np.tril_indices_from, np.triu_indices_from):
    nondiff(_f, "arr, k=0", result=index_tuple_result(2))
nondiff(np.diag_indices, "n, ndim=2", result=index_tuple_result("ndim"))
nondiff(np.diag_indices_from, "arr", result="unknown")
nondiff(np.ix_, "*args", result=ix_result)
# Constructors: the output does not depend on a differentiable value.
for _f in (np.zeros, np.ones, np.empty):
    nondiff(_f, "shape, dtype=None", result=shape_arg_result("shape"))
for _f in (np.zeros_like, np.ones_like, np.empty_like):
    nondiff(_f, "a, dtype=None", result=full_like_result)
nondiff(np.arange, "*args, dtype=None", result=arange_result)
nondiff(np.eye, "N, M=None, k=0, dtype=None", result=lambda types, bound: T.array(2, dtype=None))
nondiff(np.identity, "n, dtype=None", result=lambda types, bound: T.array(2, dtype=None))
# Shape queries.
nondiff(np.shape, "a", result="object")
nondiff(np.ndim, "a", result="int")
nondiff(np.size, "a, axis=None", result="int")
shape_only("np.size", 0)


@plain_form("np.size")
def _size_of_number(args: tuple[Expr, ...], types: Any) -> Expr | None:
    return Const(1) if len(args) == 1 and types.of(args[0]).kind in ("float", "int") else None
