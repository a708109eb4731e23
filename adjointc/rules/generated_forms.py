"""Plain forms of the linear-algebra and broadcasting helpers generated adjoints call
(their rules: generated.py), registered with `plain_form` (rules/__init__.py) and applied
by passes/forms.py where the types prove them valid: what a careful hand-written adjoint
prints instead of a general helper whose per-call checks cost more than the arithmetic
on small arrays.

* `matmul_lhs(g, x, y)` / `matmul_rhs(g, x, y)` of a 2-D @ 2-D product: `g @ y.T` and
  `x.T @ g`; of a 2-D @ 1-D one: `g[:, None] * y` and `x.T @ g`; of 1-D @ 2-D: `y @ g`
  and `x[:, None] * g`; of 1-D @ 1-D (g a number): `g * y` and `g * x`. Only when both
  operands are arrays of exactly those ranks and g has the product's rank (the reverse
  pass gives g its shape first: matmul_lhs does not take the symbolic zero, see
  rules.ZERO_COTANGENT_SAFE). Stacked (3-D and more) and unknown ranks keep the helper,
  which broadcasts batch dimensions. The forms hold for complex values too
  (no conjugate: rules/complex.py) and for integer operands (their adjoints are not read).
  `dot_lhs` / `dot_rhs` (np.dot's) take the same forms: np.dot of 1-D and 2-D operands
  is their matrix product (at rank 3 and more, or with a number, the two differ, and the
  helper stays).
* `unreduce(s, a, None, False) * e` (the adjoint of a full sum or mean, times an
  elementwise factor) with s a number and e of a's shape: `s * e` (no broadcast array
  of a's shape is made). Number factors on the way (`* np.size(ans) / np.size(a)`)
  stay numbers.
* `unbroadcast(-e, x)`: `-unbroadcast(e, x)` (negate the reduced array, not the big one),
  and `unbroadcast(e, x)` where the types say which axes of x were broadcast (length 1
  in x, not in e; the other axes provably equal): `np.sum(e, axis=..., keepdims=True)`.
* `unreduce(g, x, ...)` and `unbroadcast(g, x)` read x for its shape only (`shape_only`).

Invariant: a form never changes a value's shape or elements (a float32 operand times the
number s stays float32 where the broadcast float64 array of s made it float64; the gradient
is cast to the input's dtype in the end either way).
"""
from __future__ import annotations

from typing import Any

from .. import types as T
from ..ir import Call, Const, Expr
from . import plain_form, shape_only

_ALL = Call("slice", (Const(None), Const(None), Const(None)))


def _rank(t: T.T) -> int | None:
    return t.rank if t.kind == "array" else None


def _number(t: T.T) -> bool:
    return t.kind in ("float", "int")


def _column(v: Expr) -> Expr:
    """`v[:, None]` of a 1-D v."""
    return Call("getitem", (v, Call("tuple", (_ALL, Const(None)))))


def _transpose(v: Expr) -> Expr:
    return Call("attr:T", (v,))


def _matmul_ranks(g: Expr, x: Expr, y: Expr, types: Any) -> tuple[Any, Any, Any]:
    """(x's rank, y's rank, g's rank or "number"), a rank None where not an array."""
    tg = types.of(g)
    return _rank(types.of(x)), _rank(types.of(y)), "number" if _number(tg) else _rank(tg)


@plain_form("matmul_lhs")
@plain_form("dot_lhs")
def _matmul_lhs(args: tuple[Expr, ...], types: Any) -> Expr | None:
    if len(args) != 3:
        return None
    g, x, y = args
    ranks = _matmul_ranks(g, x, y, types)
    if ranks == (2, 2, 2):
        return Call("matmul", (g, _transpose(y)))
    if ranks == (2, 1, 1):
        return Call("mul", (_column(g), y))
    if ranks == (1, 2, 1):
        return Call("matmul", (y, g))
    if ranks == (1, 1, "number"):   # a dot product of vectors
        return Call("mul", (g, y))
    return None


@plain_form("matmul_rhs")
@plain_form("dot_rhs")
def _matmul_rhs(args: tuple[Expr, ...], types: Any) -> Expr | None:
    if len(args) != 3:
        return None
    g, x, y = args
    ranks = _matmul_ranks(g, x, y, types)
    if ranks in ((2, 2, 2), (2, 1, 1)):
        return Call("matmul", (_transpose(x), g))
    if ranks == (1, 2, 1):
        return Call("mul", (_column(x), g))
    if ranks == (1, 1, "number"):
        return Call("mul", (g, x))
    return None


def _scalar_broadcast(e: Expr, types: Any) -> tuple[Expr, Expr] | None:
    """(s, a) when e is `unreduce(s, a, None, False)` with s a number, times or over
    numbers (`* np.size(ans) / np.size(a)`): e is the number s' broadcast to a's shape,
    returned as s'."""
    if not isinstance(e, Call):
        return None
    if e.op == "unreduce" and len(e.args) == 4 and not e.kwargs:
        s, a, axis, keep = e.args
        if isinstance(axis, Const) and axis.value is None and isinstance(keep, Const) and keep.value is False \
                and _number(types.of(s)) and types.of(a).kind == "array":
            return s, a
        return None
    if e.op in ("mul", "truediv") and len(e.args) == 2 and _number(types.of(e.args[1])):
        inner = _scalar_broadcast(e.args[0], types)
        if inner is not None:
            return Call(e.op, (inner[0], e.args[1])), inner[1]
    if e.op == "mul" and len(e.args) == 2 and _number(types.of(e.args[0])):
        inner = _scalar_broadcast(e.args[1], types)
        if inner is not None:
            return Call("mul", (e.args[0], inner[0])), inner[1]
    return None


@plain_form("mul")
def _number_times(args: tuple[Expr, ...], types: Any) -> Expr | None:
    """unreduce's broadcast of a number, times e of its shape: the number times e."""
    if len(args) != 2:
        return None
    for i in (0, 1):
        hit = _scalar_broadcast(args[i], types)
        if hit is not None and T.same_shape(types.of(args[1 - i]), types.of(hit[1])):
            return Call("mul", (hit[0], args[1]) if i == 0 else (args[0], hit[0]))
    return None


def _summed_axes(te: T.T, tx: T.T) -> tuple[int, ...] | None:
    """The axes of x that e broadcast (length 1 in x, not in e) when e and x have one rank
    and known shapes that agree elsewhere; None otherwise."""
    if te.kind != "array" or tx.kind != "array" or te.rank is None or te.rank != tx.rank:
        return None
    if not isinstance(te.shape, tuple) or not isinstance(tx.shape, tuple) or len(te.shape) != len(tx.shape):
        return None
    axes = []
    for i, (de, dx) in enumerate(zip(te.shape, tx.shape)):
        if dx == T.ONE and de != T.ONE:
            axes.append(i)
        elif de != dx:
            return None
    return tuple(axes) or None


@plain_form("unbroadcast")
def _unbroadcast(args: tuple[Expr, ...], types: Any) -> Expr | None:
    if len(args) != 2:
        return None
    e, x = args
    if isinstance(e, Call) and e.op == "neg" and len(e.args) == 1:
        inner = (e.args[0], x)
        return Call("neg", (_unbroadcast(inner, types) or Call("unbroadcast", inner),))
    axes = _summed_axes(types.of(e), types.of(x))
    if axes is None:
        return None
    axis = Const(axes[0]) if len(axes) == 1 else Call("tuple", tuple(Const(i) for i in axes))
    return Call("np.sum", (e,), (("axis", axis), ("keepdims", Const(True))))


shape_only("unreduce", 1)
shape_only("unbroadcast", 1)
