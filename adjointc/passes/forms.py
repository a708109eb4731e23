"""Plain forms of the linear-algebra and broadcasting helpers where the types prove them
valid (called by simplify.fold_step on every folded node): what a careful hand-written
adjoint prints instead of a general helper whose per-call checks cost more than the
arithmetic on small arrays.

* `matmul_lhs(g, x, y)` / `matmul_rhs(g, x, y)` of a 2-D @ 2-D product: `g @ y.T` and
  `x.T @ g`; of a 2-D @ 1-D one: `g[:, None] * y` and `x.T @ g`; of 1-D @ 2-D: `y @ g`
  and `x[:, None] * g`; of 1-D @ 1-D (g a number): `g * y` and `g * x`. Only when both
  operands are arrays of exactly those ranks and g has the product's rank (the reverse
  pass gives g its shape first: matmul_lhs does not take the symbolic zero, see
  rules.ZERO_COTANGENT_SAFE). Stacked (3-D and more) and unknown ranks keep the helper,
  which broadcasts batch dimensions. The forms hold for complex values too
  (no conjugate: rules/complex.py) and for integer operands (their adjoints are not read).
* `unreduce(s, a, None, False) * e` (the adjoint of a full sum or mean, times an
  elementwise factor) with s a number and e of a's shape: `s * e` (no broadcast array
  of a's shape is made). Number factors on the way (`* np.size(ans) / np.size(a)`)
  stay numbers.
* `np.size(v)` of a number: 1.
* the shape-only argument of `unreduce`, `unbroadcast` and `np.size`, an elementwise
  expression whose array operands have one shape by the types (`u * u`, once cleanup
  folded a temporary into it): its first array operand, not computed.
* `shape_from_sources`: the shape-only argument of `unreduce(g, t, ...)`, `unbroadcast(g, t)`
  and `np.size(t)` in the backward sweep, for a temporary `t = u * u` (any elementwise op)
  of u's shape, becomes u (a user's name, or a temporary whose value the backward sweep
  reads anyway): t then has one reader left, and cleanup folds it back into the
  forward expression (`np.sum(d * d, axis=-1)`), so its array is freed at once instead of
  living through the backward sweep; where no reader is left (grad computes no value,
  passes/value.py) the dce pass deletes t. Run by the dce pass, between its two rounds.
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
from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Const, Expr, Name, Return, SetItem, backward_start,
                  map_expr, map_stmts, stmt_writes, walk)

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


def _shape_source(e: Expr, types) -> Expr | None:
    """For an elementwise `u * u` (`u ** 2`, `2.0 * u - v`) whose array operands all have
    one shape by their types, the others numbers: its first array operand, of the same
    shape (what a shape-only argument can read instead of computing e)."""
    if not (isinstance(e, Call) and e.op in _ELEMENTWISE and not e.kwargs
            and all(isinstance(x, (Name, Const)) for x in e.args)):
        return None
    arrays = [x for x in e.args if types.of(x).kind == "array"]
    if not arrays or any(not _number(types.of(x)) for x in e.args if types.of(x).kind != "array"):
        return None
    first = types.of(arrays[0])
    return arrays[0] if all(x == arrays[0] or T.same_shape(first, types.of(x)) for x in arrays[1:]) else None


def form(n: Call, types) -> Expr | None:
    """The plain form of node n (its arguments folded already), None if none applies."""
    a = n.args
    i = _SHAPE_ARG.get(n.op)
    if i is not None and len(a) > i and not n.kwargs:  # (only the shape of that argument is read)
        source = _shape_source(a[i], types)
        if source is not None:
            return Call(n.op, a[:i] + (source,) + a[i + 1:])
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


_SHAPE_ARG = {"unreduce": 1, "unbroadcast": 1, "np.size": 0}
_ELEMENTWISE = frozenset({"add", "sub", "mul", "truediv", "pow", "neg"})


def shape_from_sources(body: Block, is_temp, types: dict, params: set[str]) -> Block:
    """See the module doc. Only for names bound once in the whole function, at the top
    level of the forward sweep (u a parameter never rebound, or bound before t): where the
    backward sweep reads t's shape, u holds its one value, of t's shape (the types say)."""
    try:
        start = backward_start(body)
    except StopIteration:
        return body
    writes: dict[str, int] = {}
    for st in walk(body):
        for n in stmt_writes(st):
            writes[n] = writes.get(n, 0) + 1
    where = {st.target: k for k, st in enumerate(body[:start]) if isinstance(st, Assign)}
    source: dict[str, str] = {}
    for k, st in enumerate(body[:start]):
        if not (isinstance(st, Assign) and is_temp(st.target) and writes.get(st.target) == 1
                and isinstance(st.value, Call) and st.value.op in _ELEMENTWISE):
            continue
        tt = types.get(st.target)
        if tt is None or tt.kind != "array":
            continue
        for a in st.value.args:
            if not isinstance(a, Name) or a.id == st.target:
                continue
            u, tu = a.id, types.get(a.id)
            bound_before = (u in params and u not in writes) or (writes.get(u) == 1 and where.get(u, k) < k)
            if bound_before and tu is not None and T.same_shape(tt, tu):
                source[st.target] = u
                break
    if not source:
        return body
    other = set()   # temporaries the backward sweep reads for more than their shape: kept as they are

    def reads(e: Expr, shape_only: bool = False) -> None:
        if isinstance(e, Name):
            if not shape_only:
                other.add(e.id)
        elif isinstance(e, Call):
            i = _SHAPE_ARG.get(e.op)
            for j, x in enumerate(e.args):
                reads(x, j == i)
            for _, v in e.kwargs:
                reads(v)
    for st in walk(body[start:]):
        for e in (getattr(st, "value", None), getattr(st, "index", None), getattr(st, "test", None),
                  getattr(st, "iter", None)):
            if e is not None:
                reads(e)
        if isinstance(st, (AugAssign, AugSetItem, SetItem)):
            other.add(st.target)
    # (a temporary u only if the backward sweep reads its value anyway: else u's array
    # would live instead of t's, nothing gained)
    source = {t: u for t, u in source.items() if t not in other and (u in other or not is_temp(u))}
    if not source:
        return body

    def swap(n: Expr) -> Expr | None:
        if isinstance(n, Call) and n.op in _SHAPE_ARG and len(n.args) > _SHAPE_ARG[n.op]:
            i = _SHAPE_ARG[n.op]
            t = n.args[i]
            if isinstance(t, Name) and t.id in source:
                return Call(n.op, n.args[:i] + (Name(source[t.id]),) + n.args[i + 1:], n.kwargs)
        return None

    def visit(st, rest):
        if isinstance(st, (Assign, AugAssign, AugSetItem, SetItem, Return)) and st.value is not None:
            v = map_expr(st.value, swap)
            return None if v == st.value else replace(st, value=v)
        return None
    return body[:start] + map_stmts(body[start:], visit)
