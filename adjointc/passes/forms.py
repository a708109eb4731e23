"""The driver of the helpers' plain forms (called by simplify.fold_step on every folded
node): what a careful hand-written adjoint prints instead of a general helper whose
per-call checks cost more than the arithmetic on small arrays, where the types prove it
valid. The forms themselves sit with their helpers' rules, registered by op with
`rules.plain_form` (matmul_lhs/rhs and dot_lhs/rhs, unreduce's broadcast of a number,
unbroadcast: rules/generated_forms.py; np.size: rules/np_shape.py), each documented there
with its validity conditions. What this module adds, for every op:

* the shape-only argument of a call (`rules.shape_only`: unreduce's, unbroadcast's and
  np.size's), an elementwise expression whose array operands have one shape by the types
  (`u * u`, once cleanup folded a temporary into it): its first array operand, not
  computed.
* `shape_from_sources`: the shape-only argument of `unreduce(g, t, ...)`, `unbroadcast(g, t)`
  and `np.size(t)` in the backward sweep, for a temporary `t = u * u` (any elementwise op)
  of u's shape, becomes u (a user's name, or a temporary whose value the backward sweep
  reads anyway): t then has one reader left, and cleanup folds it back into the
  forward expression (`np.sum(d * d, axis=-1)`), so its array is freed at once instead of
  living through the backward sweep; where no reader is left (grad computes no value,
  passes/value.py) the dce pass deletes t. Run by the dce pass, between its two rounds.
* `refold`: the forms again, once cleanup has put single-use temporaries back.
Invariant: a rewrite never changes a value's shape or elements.
"""
from __future__ import annotations

from dataclasses import replace

from .. import rules
from .. import types as T
from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Const, Expr, For, If, Name, Return, SetItem, While,
                  backward_start, map_expr, map_stmts, stmt_writes, walk, with_bodies)

_ELEMENTWISE = frozenset({"add", "sub", "mul", "truediv", "pow", "neg"})


def _number(t: T.T) -> bool:
    return t.kind in ("float", "int")


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
    """The plain form of node n (its arguments folded already), None if none applies:
    its shape-only argument read from a source, else the form registered for its op.
    A call with keywords has none."""
    if n.kwargs:
        return None
    a = n.args
    i = rules.SHAPE_ONLY.get(n.op)
    if i is not None and len(a) > i:
        source = _shape_source(a[i], types)
        if source is not None:
            return Call(n.op, a[:i] + (source,) + a[i + 1:])
    plain = rules.PLAIN_FORMS.get(n.op)
    return plain(a, types) if plain is not None else None


# The helpers whose forms may show only once a temporary is folded back into a call of
# them (the operand ranks of matmul_lhs/rhs and dot_lhs/rhs, unreduce's broadcast meeting
# its factor).
_HELPERS = frozenset({"matmul_lhs", "matmul_rhs", "dot_lhs", "dot_rhs", "unreduce", "unbroadcast"})


def _calls_helper(e: Expr) -> bool:
    return isinstance(e, Call) and (e.op in _HELPERS or any(_calls_helper(x) for x in e.args)
                                    or any(_calls_helper(v) for _, v in e.kwargs))


def refold(body: Block, types: dict, unchanged: set[int] = frozenset()) -> Block:
    """Fold again (simplify.fold, these forms included) every statement value that calls
    one of the helpers above, once cleanup.fold_temporaries has put single-use temporaries
    back into their uses: `unreduce(g, a, None, False)` of a mean and the `* 2 * t` of the
    square it feeds meet only there. `unchanged`: ids of the statements fold_temporaries
    left as they were (built folded, by the reverse pass's templates and the passes
    since: no temporary moved into them, so nothing new meets there), skipped."""
    from .simplify import TypeOracle, fold
    oracle = TypeOracle(types)

    def block(b: Block) -> Block:
        # (a plain rebuild, not map_stmts: no statement here needs the ones after it)
        out = []
        for s in b:
            t = type(s)
            if t is For or t is While or t is If:
                s = with_bodies(s, block)
            elif id(s) not in unchanged and t in _VALUED and s.value is not None and _calls_helper(s.value):
                v = fold(s.value, oracle)
                if v is not s.value and v != s.value:  # (fold gives the value itself when nothing folds)
                    s = replace(s, value=v)
            out.append(s)
        return b if all(x is y for x, y in zip(out, b)) else tuple(out)
    return block(body)


_VALUED = (Assign, AugAssign, AugSetItem, SetItem, Return)


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
            i = rules.SHAPE_ONLY.get(e.op)
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
        if isinstance(n, Call) and n.op in rules.SHAPE_ONLY and len(n.args) > rules.SHAPE_ONLY[n.op]:
            i = rules.SHAPE_ONLY[n.op]
            t = n.args[i]
            if isinstance(t, Name) and t.id in source:
                return Call(n.op, n.args[:i] + (Name(source[t.id]),) + n.args[i + 1:], n.kwargs)
        return None

    def visit(st, rest):
        if isinstance(st, (Assign, AugAssign, AugSetItem, SetItem, Return)) and st.value is not None:
            v = map_expr(st.value, swap)
            return None if v == st.value else replace(st, value=v)
        return None
    backward = body[start:]
    swapped = map_stmts(backward, visit)
    return body if swapped is backward else body[:start] + swapped
