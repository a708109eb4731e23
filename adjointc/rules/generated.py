"""Rules for the runtime helpers generated adjoints call, so that generated code can
be differentiated again (reverse-over-reverse, adjointc/higher.py) and run forward
(forward-over-reverse: the tangent pass reads the same rules).

Every helper here is linear in its first argument (an adjoint), so its VJP with
respect to it is the transposed map, which is another helper of the family, and
its tangent is the same call on the tangent (`defjvp(..., "linear")`):

    unbroadcast(v, x)   sums v back to x's shape   <->  unbroadcast_vjp(g, v, x)
    unreduce(v, x, ...) broadcasts v over x        <->  reduce_like(g, v, x, ...)
    as_adjoint, seed_adjoint, add_adjoint          broadcasts and sums: unbroadcast
    copy_adjoint, real_adjoint_check               the identity on values
    piece(t, i), list_adjoint, unarray             <->  unpiece, relist, rearray (lists)
    unroll, unflip (np.roll's, np.flip's)          <->  np.roll, np.flip
    unreduce_minmax (max/min's, ties split)        <->  minmax_jvp (max/min's tangent)
    unsort (np.sort's)                             <->  sort_jvp (np.sort's tangent)
    untile, unrepeat, untake, unpad, undiagonal,   <->  the forward ops: np.tile, np.repeat,
    untrace, undiag, unmoveaxis, untril, untriu,        np.take, np.pad, np.diagonal, ...
    undiff
    unstack, unhstack, unvstack, unappend          <->  restack, rehstack, revstack, reappend
    linspace_vjp (an endpoint's adjoint)           <->  relinspace
    written_part (`u[idx] = v`, repeated idx)      <->  rewritten

np.var's adjoint `unreduce_var(c, a)` and tangent `var_jvp(d, a)` are bilinear (in
the cotangent or tangent and in a): each transposes into the other in its first
argument, and their VJPs in `a` are unreduce_var_da and var_jvp_da.

The two operand adjoints of matmul are bilinear in (the cotangent, the other
operand), read the differentiated operand for its shape only, and transpose into
each other: ``<d, matmul_lhs(c, x, y)> = <c, d @ y>``, so
``matmul_lhs``'s VJP is ``c: g @ y`` and ``y: matmul_rhs(c, g, y)`` (and
symmetrically), and their tangents are product rules (`"multilinear"`).

What the generated code makes but never differentiates (zero adjoints, stand-ins
of recorded shapes) is `nondiff`. A helper without a rule here (the VJP helpers of
nonlinear operations such as `norm_vjp`) is refused when generated code is
differentiated, with its location (frontend/resolve.py): never lowered as user code.

The rules register under the helpers' own names (`unbroadcast`, not
`adjointc.runtime.unbroadcast`): that is how generated code spells them. What is
printed instead of unbroadcast, unreduce and matmul_lhs/rhs where the types allow
(their plain forms): generated_forms.py.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import runtime
from .. import types as T
from . import Rule, defjvp, defvjp, nondiff, register
from ..ir import Const
from .helpers import elementwise, linalg, reductions, shape, zero_adjoint
from .helpers.core import reduced_axes
from .np_results import rank_of, same_rank, type_of


def unbroadcast_vjp(g: Any, v: Any, x: Any) -> Any:
    """The VJP of `unbroadcast(v, x)` with respect to v: the cotangent `g` (shaped
    like unbroadcast's result) spread back over v's shape, step by step undoing
    unbroadcast's sums (leading axes, kept size-1 axes) and its final broadcast."""
    vshape, shape = np.shape(v), np.shape(x)
    if vshape == shape or not vshape:
        return g
    if runtime.is_zero(g):
        return zero_adjoint(v)
    extra = len(vshape) - len(shape)
    inner = vshape[extra:] if extra > 0 else (1,) * -extra + vshape  # after the leading sums / reshape
    summed = tuple(1 if n == 1 and inner[i] != 1 else inner[i] for i, n in enumerate(shape))
    # unbroadcast's last step broadcast `summed` to x's shape: sum g back to it first
    h = runtime.unbroadcast(np.asarray(g), np.broadcast_to(0.0, summed)) if summed != shape else np.asarray(g)
    h = np.broadcast_to(np.reshape(h, summed), inner)
    return np.broadcast_to(h, vshape) if extra > 0 else np.reshape(h, vshape)


def reduce_like(g: Any, v: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The VJP of `unreduce(v, x, axis, keepdims)` with respect to v: the cotangent
    `g` (shaped like x) summed over what unreduce broadcast, to v's shape."""
    if runtime.is_zero(g):
        return zero_adjoint(v)
    if np.ndim(v) == 0:  # (a scalar v broadcasts as it is)
        return np.sum(g)
    vshape = np.shape(v)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        vshape = np.shape(np.expand_dims(np.empty(vshape), tuple(a % np.ndim(x) for a in axes)))
    return np.reshape(runtime.unbroadcast(np.asarray(g), np.broadcast_to(0.0, vshape)), np.shape(v))


def unpiece(g: Any, t: Any, i: int) -> Any:
    """The VJP of `piece(t, i)` (the adjoint of a tuple output's element i): `g` at
    position i of a list of zero adjoints shaped like t's elements. `piece` of the
    symbolic zero is the constant 0.0, so its adjoint is the zero."""
    if runtime.is_zero(t) or runtime.is_zero(g):
        return zero_adjoint(t) if isinstance(t, (list, tuple)) else 0.0
    return [g if j == i else zero_adjoint(v) for j, v in enumerate(t)]


def relist(g: Any, v: Any) -> Any:
    """The VJP of `list_adjoint(v, vals)` with respect to v: the list of adjoints `g`
    back in v's form (a list stays a list, an array's rows are stacked again; the
    symbolic zero made fresh zeros, which depend on nothing)."""
    if isinstance(v, list):
        return g
    if isinstance(v, np.ndarray) and v.ndim:
        return np.array([np.broadcast_to(x, v.shape[1:]) for x in g], dtype=np.result_type(v.dtype, float))
    return 0.0


def rearray(g: Any, v: Any, obj: Any) -> Any:
    """The VJP of `unarray(v, obj)` (v, an array's adjoint, split into obj's nested lists)
    with respect to v: the nested list of adjoints `g` stacked back into v's shape."""
    if not isinstance(obj, (list, tuple)):
        return g
    if runtime.is_zero(v):  # (unarray of the zero is zeros whatever v is)
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(v)
    return np.array([np.broadcast_to(rearray(gi, vi, oi), np.shape(vi)) for gi, vi, oi in zip(g, v, obj)],
                    dtype=np.result_type(np.asarray(v).dtype, float))


# ------------------------------------------- transposes of linear layout helpers
# Each receives the cotangent `g` of the helper's result and the helper's own adjoint
# input `c`; where `c` is the symbolic zero (which no cotangent reaches: only adjoints
# no path from a seed reached stay 0.0), nothing flows back.
def reshape_like(g: Any, c: Any) -> Any:
    """The VJP of `unreshape(c, a)` (c reshaped to a's shape): g in c's shape."""
    return 0.0 if runtime.is_zero(c) else np.reshape(g, np.shape(c))


def retranspose(g: Any, c: Any, axes: Any = None) -> Any:
    """The VJP of `untranspose(c, a, axes)`: g transposed forward again."""
    return 0.0 if runtime.is_zero(c) else np.transpose(g, axes)


def reswapaxes(g: Any, c: Any, axis1: int, axis2: int) -> Any:
    """The VJP of `unswapaxes(c, a, axis1, axis2)`."""
    return 0.0 if runtime.is_zero(c) else np.swapaxes(g, axis1, axis2)


def recumsum(g: Any, c: Any, axis: Any = None) -> Any:
    """The VJP of `uncumsum(c, a, axis)` (a cumulative sum from the end): a cumulative
    sum from the start, in c's shape (for axis=None, c is the flat cumsum's)."""
    if runtime.is_zero(c):
        return 0.0
    return np.cumsum(g) if axis is None else np.cumsum(g, axis)


def resum(g: Any, c: Any, x: Any) -> Any:
    """The VJP of `unsum(c, x)` (c given to every element of x): the elements' adjoints summed."""
    if runtime.is_zero(g):
        return zero_adjoint(c)
    if isinstance(x, np.ndarray):
        return runtime.unbroadcast(np.asarray(g), c)
    total: Any = 0.0
    for e in g:
        total = total + e
    return runtime.unbroadcast(total, c)


def reconcatenate(g: Any, c: Any, arrays: Any, axis: Any = 0) -> Any:
    """The VJP of `unconcatenate(c, arrays, axis)` (c split into pieces shaped like
    arrays): the pieces' adjoints concatenated again."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    parts = [np.broadcast_to(p, np.shape(a)) for p, a in zip(g, arrays)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in parts])
    return np.concatenate(parts, axis)


# --------------------------------------------- elementwise derivative helpers
def pow_dx_dx(x: Any, y: Any) -> Any:
    """d pow_dx(x, y) / dx = y (y - 1) x ** (y - 2); 0 where y == 0 (pow_dx is 0 there)."""
    from .helpers.elementwise import pow_dx
    y = np.asarray(y, dtype=np.result_type(y, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = y * pow_dx(x, y - 1)
    return np.where(y == 0, 0.0, d)[()]


def pow_dx_dy(x: Any, y: Any) -> Any:
    """d pow_dx(x, y) / dy = x ** (y - 1) (1 + y log x) (the limit, 1 / x, at y == 0 too)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.power(x, y - 1) * (1 + y * np.log(x)))[()]


def restack(g: Any, c: Any, arrays: Any, axis: int = 0) -> Any:
    """The VJP of `unstack(c, arrays, axis)` (c's slices along axis): the slices'
    adjoints stacked again (a piece no cotangent reached is the zero)."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    return np.stack([np.broadcast_to(p, np.shape(a)) for p, a in zip(g, arrays)], axis)


def rehstack(g: Any, c: Any, tup: Any) -> Any:
    """The VJP of `unhstack(c, tup)`: the pieces' adjoints hstacked again."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    return np.hstack([np.broadcast_to(p, np.shape(a)) for p, a in zip(g, tup)])


def revstack(g: Any, c: Any, tup: Any) -> Any:
    """The VJP of `unvstack(c, tup)`: the pieces' adjoints vstacked again."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    return np.vstack([np.broadcast_to(p, np.shape(a)) for p, a in zip(g, tup)])


def reappend(g: Any, c: Any, arr: Any, values: Any, axis: Any, which: int) -> Any:
    """The VJP of `unappend(c, arr, values, axis, which)` (the part of c that was arr,
    which=0, or values, which=1): `g` in that part of zeros shaped like c."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    parts = [np.zeros(np.shape(arr)), np.zeros(np.shape(values))]
    parts[which] = np.broadcast_to(g, np.shape(parts[which]))
    return np.append(parts[0], parts[1], axis)


def relinspace(g: Any, c: Any, x: Any, num: int, endpoint: bool, weight_from: float) -> Any:
    """The VJP of `linspace_vjp(c, x, num, endpoint, weight_from)` (c's rows weighted by
    the endpoint's weights, summed to x's shape) with respect to c: `g` spread back over
    the row shape, each row times its weight."""
    if runtime.is_zero(c):
        return 0.0
    h = unbroadcast_vjp(g, np.broadcast_to(0.0, np.shape(c)[1:]), x)
    return np.multiply.outer(np.linspace(weight_from, 1.0 - weight_from, num, endpoint), h)


def rewritten(g: Any, c: Any, index: Any) -> Any:
    """The VJP of `written_part(c, index)` (c[index] where `u[index] = v` stored, zero
    at the earlier writes of a repeated index): `g` at the stored elements, added into
    zeros shaped like c (each position of c is stored from one element at most)."""
    sel = runtime.written_part(np.arange(np.size(c)).reshape(np.shape(c)), index).astype(int)  # (flat positions)
    kept = runtime.written_part(np.ones(np.shape(c)), index) != 0  # (sel is 0 for both position 0 and skipped)
    out = np.zeros(np.shape(c), dtype=np.result_type(np.asarray(c).dtype, np.asarray(g).dtype, float))
    np.add.at(out.reshape(-1), sel[kept], np.broadcast_to(g, np.shape(sel))[kept])
    return out


def var_jvp_da(g: Any, d: Any, a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The VJP of `var_jvp(d, a, ...)` with respect to a. var_jvp is 2 / (n - ddof) times
    <a - mean(a), d> over the reduced axes, symmetric in (a, d): this is np.var's adjoint
    with the tangent in a's place (broadcast to a's shape first, as var_jvp reads it)."""
    return reductions.unreduce_var(g, np.broadcast_to(d, np.shape(a)), axis, ddof, keepdims)


def unreduce_var_da(g: Any, c: Any, a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The VJP of `unreduce_var(c, a, ...)` (c broadcast back, times 2 / (n - ddof) (a - mean(a)))
    with respect to a: centring is its own transpose, so the product c * g, centred over
    the reduced axes, times 2 / (n - ddof) (nan where np.var is)."""
    a = np.asarray(a)
    axes = reduced_axes(axis, a.ndim)
    n = int(np.prod([a.shape[k] for k in axes], dtype=int))
    u = runtime.unreduce(c, a, axis, keepdims) * np.broadcast_to(g, a.shape)
    if n - ddof <= 0:
        return u * np.full(a.shape, np.nan)
    return (u - np.mean(u, axis=axes, keepdims=True)) * (2 / (n - ddof))


for _name, _fn in (("unbroadcast_vjp", unbroadcast_vjp), ("rearray", rearray), ("reshape_like", reshape_like),
                   ("retranspose", retranspose), ("reswapaxes", reswapaxes), ("recumsum", recumsum),
                   ("resum", resum), ("reconcatenate", reconcatenate), ("pow_dx_dx", pow_dx_dx),
                   ("pow_dx_dy", pow_dx_dy), ("reduce_like", reduce_like), ("unpiece", unpiece),
                   ("relist", relist), ("restack", restack), ("rehstack", rehstack), ("revstack", revstack),
                   ("reappend", reappend), ("relinspace", relinspace),
                   ("rewritten", rewritten), ("var_jvp_da", var_jvp_da),
                   ("unreduce_var_da", unreduce_var_da)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)


def _unbroadcast_result(types: dict, bound: dict) -> T.T:
    v = type_of(types, "v")
    return v if rank_of(v) == 0 else same_rank("x")(types, bound)


def _as_adjoint_result(types: dict, bound: dict) -> T.T:
    x = type_of(types, "x")
    return same_rank("x")(types, bound) if x.kind == "array" else type_of(types, "v")


defvjp(runtime.unbroadcast, "v, x", name="unbroadcast", v="unbroadcast_vjp(g, v, x)", result=_unbroadcast_result)
defvjp(unbroadcast_vjp, "c, v, x", name="unbroadcast_vjp", c="unbroadcast(g, x)", result=same_rank("v"))
defvjp(runtime.unreduce, "v, x, axis=None, keepdims=False", name="unreduce",
       v="reduce_like(g, v, x, axis, keepdims)", result=same_rank("x"))
defvjp(reduce_like, "c, v, x, axis=None, keepdims=False", name="reduce_like",
       c="unreduce(g, x, axis, keepdims)", result=lambda types, bound: type_of(types, "v"))
defvjp(runtime.as_adjoint, "v, x", name="as_adjoint", v="unbroadcast(g, v)", result=_as_adjoint_result)
def _seeded(t: T.T) -> T.T:
    """The type of `seed_adjoint(seed, y)` for y of type t: a tuple's cotangent is a list."""
    if t.kind in ("tuple", "list"):
        return T.T("list", elts=tuple(_seeded(e) for e in t.elts))
    return t


defvjp(runtime.seed_adjoint, "seed, y", name="seed_adjoint", seed="unbroadcast(g, seed)",
       result=lambda types, bound: _seeded(type_of(types, "y")))
defvjp(runtime.copy_adjoint, "v", name="copy_adjoint", v="g", result="same")
defvjp(runtime.snapshot, "x", name="snapshot", x="g", result="same")  # (a copy, as a tape save of an entry)
defjvp("snapshot", "linear")
defvjp(runtime.real_adjoint_check, "v, x", name="real_adjoint_check", v="g", result="same")
def _added(types: dict, bound: dict) -> T.T:
    """add_adjoint's result: a list where either side is a container's adjoint (the other
    then is the symbolic zero or of the same structure), else the elementwise sum."""
    a, b = type_of(types, "a"), type_of(types, "b")
    for side, other in ((a, b), (b, a)):
        if side.kind in ("list", "tuple"):
            if other.kind in ("list", "tuple") and len(other.elts) == len(side.elts) and side.elts:
                from ..passes.types import join
                return T.T("list", elts=tuple(join(x, y) for x, y in zip(side.elts, other.elts)))
            return T.T("list", elts=side.elts) if other.kind in ("float", "int") else T.T("list")
    return T.broadcast(a, b) if a.kind in ("float", "int", "array") and b.kind in ("float", "int", "array") \
        else T.UNKNOWN


defvjp(runtime.add_adjoint, "a, b", name="add_adjoint", a="unbroadcast(g, a)", b="unbroadcast(g, b)",
       result=_added)
defvjp(shape.piece, "t, i", name="piece", t="unpiece(g, t, i)",
       result=lambda types, bound: _element(type_of(types, "t"), bound["i"]))
defvjp(unpiece, "c, t, i", name="unpiece", c="piece(g, i)", result=lambda types, bound: type_of(types, "t"))
defvjp(runtime.list_adjoint, "v, vals", name="list_adjoint", v="relist(g, v)", result="same")
defvjp(relist, "c, v", name="relist", c="list_adjoint(g, v)", result=lambda types, bound: type_of(types, "v"))
defvjp(shape.unarray, "v, obj", name="unarray", v="rearray(g, v, obj)", result=lambda types, bound: type_of(types, "obj"))
defvjp(rearray, "c, v, obj", name="rearray", c="unarray(g, obj)", result=lambda types, bound: type_of(types, "v"))
for _op in ("unarray", "rearray", "piece", "unpiece", "list_adjoint", "relist", "unbroadcast", "unbroadcast_vjp", "unreduce", "reduce_like", "as_adjoint", "seed_adjoint",
            "copy_adjoint", "real_adjoint_check", "add_adjoint"):
    defjvp(_op, "linear")

defvjp(shape.unreshape, "c, a", name="unreshape", c="reshape_like(g, c)", result=same_rank("a"))
defvjp(reshape_like, "d, c", name="reshape_like", d="unreshape(g, d)", result=same_rank("c"))
defvjp(shape.untranspose, "c, a, axes=None", name="untranspose", c="retranspose(g, c, axes)", result=same_rank("a"))
defvjp(retranspose, "d, c, axes=None", name="retranspose", d="untranspose(g, d, axes)", result=same_rank("c"))
defvjp(shape.unswapaxes, "c, a, axis1, axis2", name="unswapaxes", c="reswapaxes(g, c, axis1, axis2)",
       result=same_rank("a"))
defvjp(reswapaxes, "d, c, axis1, axis2", name="reswapaxes", d="unswapaxes(g, d, axis1, axis2)",
       result=same_rank("c"))
defvjp(reductions.uncumsum, "c, a, axis=None", name="uncumsum", c="recumsum(g, c, axis)", result=same_rank("a"))
defvjp(recumsum, "d, c, axis=None", name="recumsum", d="uncumsum(g, d, axis)", result=same_rank("c"))
defvjp(shape.unsum, "c, x", name="unsum", c="resum(g, c, x)", result=lambda types, bound: type_of(types, "x"))
defvjp(resum, "d, c, x", name="resum", d="unsum(g, x)", result=lambda types, bound: type_of(types, "c"))
defvjp(shape.unconcatenate, "c, arrays, axis=0", name="unconcatenate", c="reconcatenate(g, c, arrays, axis)",
       result=lambda types, bound: type_of(types, "arrays"))
defvjp(reconcatenate, "d, c, arrays, axis=0", name="reconcatenate", d="unconcatenate(g, arrays, axis)",
       result=lambda types, bound: type_of(types, "c"))
for _op in ("unreshape", "reshape_like", "untranspose", "retranspose", "unswapaxes", "reswapaxes", "uncumsum",
            "recumsum", "unsum", "resum", "unconcatenate", "reconcatenate"):
    defjvp(_op, "linear")

# dot's operand adjoints transpose into each other like matmul's: <d, dot_lhs(c, a, b)> = <c, dot(d, b)>
defvjp(linalg.dot_lhs, "c, a, b", name="dot_lhs", c="np.dot(g, b)", b="dot_rhs(c, g, b)", result=same_rank("a"))
defvjp(linalg.dot_rhs, "c, a, b", name="dot_rhs", c="np.dot(a, g)", a="dot_lhs(c, a, g)", result=same_rank("b"))
defjvp("dot_lhs", "multilinear")
defjvp("dot_rhs", "multilinear")

# the division helpers, elementwise (fdiv: inf where b == 0; div0: 0 there, a constant)
defvjp(elementwise.fdiv, "a, b", name="fdiv", a="unbroadcast(fdiv(g, b), a)",
       b="unbroadcast(-fdiv(fdiv(g * a, b), b), b)")
defjvp("fdiv", a="fdiv(d, b)", b="-fdiv(fdiv(d * a, b), b)")
defvjp(elementwise.div0, "a, b", name="div0", a="unbroadcast(div0(g, b), a)",
       b="unbroadcast(-div0(div0(g * a, b), b), b)")
defjvp("div0", a="div0(d, b)", b="-div0(div0(d * a, b), b)")
defvjp(elementwise.pow_dx, "x, y", name="pow_dx", x="unbroadcast(g * pow_dx_dx(x, y), x)",
       y="unbroadcast(g * pow_dx_dy(x, y), y)")
defjvp("pow_dx", x="d * pow_dx_dx(x, y)", y="d * pow_dx_dy(x, y)")
# (pow_dx_dx and pow_dx_dy have no rules: a third derivative of x ** y is refused, located)

defvjp(linalg.matmul_lhs, "c, x, y", name="matmul_lhs", c="np.matmul(g, y)", y="matmul_rhs(c, g, y)",
       result=same_rank("x"))
defvjp(linalg.matmul_rhs, "c, x, y", name="matmul_rhs", c="np.matmul(x, g)", x="matmul_lhs(c, x, g)",
       result=same_rank("y"))
defjvp("matmul_lhs", "multilinear")
defjvp("matmul_rhs", "multilinear")

# np.roll's and np.flip's adjoints are a roll back and a flip: permutations, whose
# transposes are the inverse permutations (a roll forward, the same flip)
defvjp(shape.unroll, "c, a, shift, axis=None", name="unroll", c="np.roll(g, shift, axis)", result=same_rank("c"))
defjvp("unroll", "linear")
defvjp(shape.unflip, "c, m, axis=None", name="unflip", c="np.flip(g, axis)", result=same_rank("c"))
defjvp("unflip", "linear")

# max/min's adjoint sends the cotangent to the maxima, split evenly among ties: linear
# in it, and piecewise constant in `a` (which elements are maxima changes only where
# they tie), so it has no derivative in `a` or the max `m`; its transpose is max/min's tangent
defvjp(reductions.unreduce_minmax, "c, a, m, axis=None, keepdims=False", name="unreduce_minmax",
       c="minmax_jvp(g, a, m, axis, keepdims)", result=same_rank("a"))  # (m: the max; `ans` is the result)
defjvp("unreduce_minmax", "linear")

# `v = vals.pop()` (a tape): lowered as this op, differentiated by passes/adjoints.pop
# (its adjoint moves along an adjoint list: no template says that)
register(Rule("method:pop", ("L",), {}, templates={}, result=lambda types, bound: _popped(type_of(types, "L"))))


# forward mode: the tangents of a tape's values ride on a tangent list pushed and popped
# in lockstep with it (the tangent of `vals.append(v)` is `vals_dot.append(v_dot)`)
defjvp("method:pop", L="d.pop()")


def _element(t: T.T, i: Any) -> T.T:
    if t.kind in ("list", "tuple") and t.elts and isinstance(i, Const) and isinstance(i.value, int) \
            and -len(t.elts) <= i.value < len(t.elts):
        return t.elts[i.value]
    return T.UNKNOWN


def _popped(t: T.T) -> T.T:
    if t.kind == "list" and t.elts:
        return t.elts[-1]
    return T.UNKNOWN


nondiff(runtime.zeros_like, "x", name="zeros_like", result="same")
nondiff(runtime.stand_in, "x", name="stand_in", result="same")
nondiff(runtime.is_zero, "g", name="is_zero", result="unknown")
nondiff(zero_adjoint, "x", name="zero_adjoint", result="same")


# ---------------------------------------- the shape / selection / scan helpers
# Each is linear in its adjoint `c` and reads its other arguments for shapes and
# options only, so its VJP is the forward op on the cotangent (a transpose's
# transpose) and its tangent the same call on the tangent (`"linear"`).
defvjp(shape.untile, "c, a, reps", name="untile", c="np.tile(g, reps)", result=same_rank("a"))
defvjp(shape.unrepeat, "c, a, repeats, axis=None", name="unrepeat", c="np.repeat(g, repeats, axis)",
       result=same_rank("a"))
defvjp(shape.untake, "c, a, indices, axis=None", name="untake", c="np.take(g, indices, axis)",
       result=same_rank("a"))
defvjp(shape.unpad, "c, array, pad_width", name="unpad", c="np.pad(g, pad_width)", result=same_rank("array"))
defvjp(shape.undiagonal, "c, a, offset=0, axis1=0, axis2=1", name="undiagonal",
       c="np.diagonal(g, offset, axis1, axis2)", result=same_rank("a"))
defvjp(shape.untrace, "c, a, offset=0, axis1=0, axis2=1", name="untrace",
       c="np.trace(g, offset, axis1, axis2)", result=same_rank("a"))
defvjp(shape.undiag, "c, v, k=0", name="undiag", c="np.diag(g, k)", result=same_rank("v"))
defvjp(shape.unmoveaxis, "c, a, source, destination", name="unmoveaxis",
       c="np.moveaxis(g, source, destination)", result=same_rank("a"))
# (np.tril of a 1-D array broadcasts it along the rows first: the transpose of untril's unbroadcast)
defvjp(shape.untril, "c, m, k=0", name="untril", c="np.tril(g, k)", result=same_rank("m"))
defvjp(shape.untriu, "c, m, k=0", name="untriu", c="np.triu(g, k)", result=same_rank("m"))
defvjp(reductions.undiff, "c, a, n=1, axis=-1", name="undiff", c="np.diff(g, n, axis)", result=same_rank("a"))
# sort's adjoint and tangent are the permutation by argsort and its inverse: transposes
# of each other, piecewise constant in `a` (the order changes only where elements tie)
defvjp(reductions.unsort, "c, a, axis=-1", name="unsort", c="sort_jvp(g, a, axis)", result=same_rank("a"))
defvjp(reductions.sort_jvp, "d, a, axis=-1", name="sort_jvp", d="unsort(g, a, axis)", result=same_rank("a"))
# max/min's tangent is the transpose of its adjoint (the same even split among ties)
defvjp(reductions.minmax_jvp, "d, a, m, axis=None, keepdims=False", name="minmax_jvp",
       d="unreduce_minmax(g, a, m, axis, keepdims)", result=lambda types, bound: type_of(types, "m"))
for _op in ("untile", "unrepeat", "untake", "unpad", "undiagonal", "untrace", "undiag", "unmoveaxis", "untril",
            "untriu", "undiff", "unsort", "sort_jvp", "minmax_jvp"):
    defjvp(_op, "linear")


# the assembling helpers split a cotangent into pieces (stack, hstack, vstack, append)
# or weigh it (linspace's endpoints): linear in it; their transposes assemble again
def _appended_part(types: dict, bound: dict) -> T.T:
    which = bound.get("which")
    if isinstance(which, Const) and which.value in (0, 1):
        return same_rank("arr" if which.value == 0 else "values")(types, bound)
    return T.UNKNOWN


def _endpoint(types: dict, bound: dict) -> T.T:
    x = type_of(types, "x")
    return x if rank_of(x) == 0 and x.kind == "float" else same_rank("x")(types, bound)


defvjp(shape.unstack, "c, arrays, axis=0", name="unstack", c="restack(g, c, arrays, axis)",
       result=lambda types, bound: type_of(types, "arrays"))
defvjp(restack, "d, c, arrays, axis=0", name="restack", d="unstack(g, arrays, axis)",
       result=lambda types, bound: type_of(types, "c"))
defvjp(shape.unhstack, "c, tup", name="unhstack", c="rehstack(g, c, tup)",
       result=lambda types, bound: type_of(types, "tup"))
defvjp(rehstack, "d, c, tup", name="rehstack", d="unhstack(g, tup)", result=lambda types, bound: type_of(types, "c"))
defvjp(shape.unvstack, "c, tup", name="unvstack", c="revstack(g, c, tup)",
       result=lambda types, bound: type_of(types, "tup"))
defvjp(revstack, "d, c, tup", name="revstack", d="unvstack(g, tup)", result=lambda types, bound: type_of(types, "c"))
defvjp(shape.unappend, "c, arr, values, axis, which", name="unappend",
       c="reappend(g, c, arr, values, axis, which)", result=_appended_part)
defvjp(reappend, "d, c, arr, values, axis, which", name="reappend", d="unappend(g, arr, values, axis, which)",
       result=lambda types, bound: type_of(types, "c"))
defvjp(shape.linspace_vjp, "c, x, num, endpoint, weight_from", name="linspace_vjp",
       c="relinspace(g, c, x, num, endpoint, weight_from)", result=_endpoint)
defvjp(relinspace, "d, c, x, num, endpoint, weight_from", name="relinspace",
       d="linspace_vjp(g, x, num, endpoint, weight_from)", result=lambda types, bound: type_of(types, "c"))
for _op in ("unstack", "restack", "unhstack", "rehstack", "unvstack", "revstack", "unappend", "reappend",
            "linspace_vjp", "relinspace"):
    defjvp(_op, "linear")

# `u[idx] = v`'s adjoint of v, with a repeated integer index (only the last write was stored)
defvjp(runtime.written_part, "x, index", name="written_part", x="rewritten(g, x, index)", result="getitem")
defjvp("written_part", "linear")

# np.var's tangent (in tangent code read again): bilinear in (d, a); its transpose in d is np.var's adjoint
defvjp(reductions.var_jvp, "d, a, axis=None, ddof=0, keepdims=False", name="var_jvp",
       d="unbroadcast(unreduce_var(g, a, axis, ddof, keepdims), d)", a="var_jvp_da(g, d, a, axis, ddof, keepdims)",
       result=lambda types, bound: T.FLOAT if all(isinstance(bound.get(k), Const) and not bound[k].value
                                                  for k in ("axis", "keepdims")) else T.array(None))
defjvp("var_jvp", "multilinear")
defvjp(reductions.unreduce_var, "c, a, axis=None, ddof=0, keepdims=False", name="unreduce_var",
       c="unbroadcast(var_jvp(g, a, axis, ddof, keepdims), c)", a="unreduce_var_da(g, c, a, axis, ddof, keepdims)",
       result=same_rank("a"))
defjvp("unreduce_var", "multilinear")
