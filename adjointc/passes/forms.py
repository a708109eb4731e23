"""Plain forms of the linear-algebra and broadcasting helpers where the types prove them
valid (called by simplify.fold_step on every folded node): what a careful hand-written
adjoint prints instead of a general helper whose per-call checks cost more than the
arithmetic on small arrays.

* `matmul_lhs(g, x, y)` / `matmul_rhs(g, x, y)` of a 2-D @ 2-D product: `g @ y.T` and
  `x.T @ g`; of a 2-D @ 1-D one: `g[:, None] * y` and `x.T @ g`; of 1-D @ 2-D: `y @ g`
  and `x[:, None] * g`; of 1-D @ 1-D (g a number): `g * y` and `g * x`. Only when both operands are arrays of exactly those ranks (the
  reverse pass gives g its shape first: matmul_lhs does not take the symbolic zero, see
  rules.ZERO_COTANGENT_SAFE). Stacked (3-D and more), 1-D @ 1-D, and unknown ranks keep
  the helper, which broadcasts batch dimensions. The forms hold for complex values too
  (no conjugate: rules/complex.py) and for integer operands (their adjoints are not read).
* `unreduce(s, a, None, False) * e` (the adjoint of a full sum or mean, times an
  elementwise factor) with s a number and e of a's shape: `s * e` (no broadcast array
  of a's shape is made). Number factors on the way (`* np.size(ans) / np.size(a)`)
  stay numbers.
* `np.size(v)` of a number: 1.
* `unbroadcast(-e, x)`: `-unbroadcast(e, x)` (negate the reduced array, not the big one),
  and `unbroadcast(e, x)` where the types say which axes of x were broadcast (length 1
  in x, not in e; the other axes provably equal): `np.sum(e, axis=..., keepdims=True)`.
Invariant: a rewrite never changes a value's shape or elements (a float32 operand times the
number s stays float32 where the broadcast float64 array of s made it float64; the gradient
is cast to the input's dtype in the end either way).
"""
from __future__ import annotations

from dataclasses import replace

from .. import types as T
from ..ir import Assign, AugAssign, AugSetItem, Block, Call, Const, Expr, Return, SetItem, map_stmts

_ALL = Call("slice", (Const(None), Const(None), Const(None)))


def _rank(t: T.T) -> int | None:
    return t.rank if t.kind == "array" else None


def _number(t: T.T) -> bool:
    return t.kind in ("float", "int")


def _column(v: Expr) -> Expr:
    """`v[:, None]` of a 1-D v."""
    return Call("getitem", (v, Call("tuple", (_ALL, Const(None)))))


def matmul_form(op: str, g: Expr, x: Expr, y: Expr, types) -> Expr | None:
    rx, ry, rg = _rank(types.of(x)), _rank(types.of(y)), _rank(types.of(g))
    if (rx, ry) == (2, 2) and rg == 2:
        return Call("matmul", (g, Call("attr:T", (y,)))) if op == "matmul_lhs" else \
            Call("matmul", (Call("attr:T", (x,)), g))
    if (rx, ry) == (2, 1) and rg == 1:
        return Call("mul", (_column(g), y)) if op == "matmul_lhs" else Call("matmul", (Call("attr:T", (x,)), g))
    if (rx, ry) == (1, 2) and rg == 1:
        return Call("matmul", (y, g)) if op == "matmul_lhs" else Call("mul", (_column(x), g))
    if (rx, ry) == (1, 1) and _number(types.of(g)):   # a dot product of vectors
        return Call("mul", (g, y)) if op == "matmul_lhs" else Call("mul", (g, x))
    return None


def _scalar_broadcast(e: Expr, types) -> tuple[Expr, Expr] | None:
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


def form(n: Call, types) -> Expr | None:
    """The plain form of node n (its arguments folded already), None if none applies."""
    a = n.args
    if n.op in ("matmul_lhs", "matmul_rhs") and len(a) == 3 and not n.kwargs:
        return matmul_form(n.op, *a, types)
    if n.op == "np.size" and len(a) == 1 and not n.kwargs and _number(types.of(a[0])):
        return Const(1)
    if n.op == "mul" and len(a) == 2:
        for i in (0, 1):
            hit = _scalar_broadcast(a[i], types)
            if hit is not None and T.same_shape(types.of(a[1 - i]), types.of(hit[1])):
                return Call("mul", (hit[0], a[1]) if i == 0 else (a[0], hit[0]))
    if n.op == "unbroadcast" and len(a) == 2:
        e, x = a
        if isinstance(e, Call) and e.op == "neg" and len(e.args) == 1:
            inner = form(Call("unbroadcast", (e.args[0], x)), types)
            return Call("neg", (inner or Call("unbroadcast", (e.args[0], x)),))
        axes = _summed_axes(types.of(e), types.of(x))
        if axes is not None:
            axis = Const(axes[0]) if len(axes) == 1 else Call("tuple", tuple(Const(i) for i in axes))
            return Call("np.sum", (e,), (("axis", axis), ("keepdims", Const(True))))
    return None


_HELPERS = frozenset({"matmul_lhs", "matmul_rhs", "unreduce", "unbroadcast"})


def _calls_helper(e: Expr) -> bool:
    return isinstance(e, Call) and (e.op in _HELPERS or any(_calls_helper(x) for x in e.args)
                                    or any(_calls_helper(v) for _, v in e.kwargs))


def refold(body: Block, types: dict) -> Block:
    """Fold again (simplify.fold, these forms included) every statement value that calls
    one of the helpers above, once cleanup.fold_temporaries has put single-use temporaries
    back into their uses: `unreduce(g, a, None, False)` of a mean and the `* 2 * t` of the
    square it feeds meet only there."""
    from .simplify import TypeOracle, fold
    oracle = TypeOracle(types)

    def visit(s, rest):
        if isinstance(s, (Assign, AugAssign, AugSetItem, SetItem, Return)) and s.value is not None \
                and _calls_helper(s.value):
            v = fold(s.value, oracle)
            return None if v == s.value else replace(s, value=v)
        return None
    return map_stmts(body, visit)
