"""Activity analysis: which variables need an adjoint.

A variable is *varied* if its value depends differentiably on an input in
`wrt`, and *useful* if the output depends differentiably on it; it is
*active* if both hold and its type can carry a derivative (ints, bools,
integer arrays never can). Only active variables get adjoints and only
statements that write an active variable from an active operand get a
backward counterpart. Flow-insensitive (per name), iterated to a fixpoint:
conservative, never misses a dependence.

The "activity" pass (`run`) attaches the fact `active` (the IR is unchanged):
every name in it has a type that can carry a derivative (or an unknown one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import rules
from .. import types as T
from ..ir import Assign, Call, Expr, ExprStmt, Function, Name, Return, SetItem, walk

if TYPE_CHECKING:
    from ..program import Program


def run(prog: "Program") -> "Program":
    """The "activity" pass: which names get adjoints."""
    return prog.but(active=frozenset(analyse(prog.fn, prog.wrt, prog.types, prog.outputs, prog.result)))


class _Append:
    """`vals.append(v)` seen as a write of v into vals (like SetItem)."""
    def __init__(self, s: ExprStmt):
        self.target, self.value = s.value.args[0].id, s.value.args[1]


class _Returned:
    """`return v` seen as `result = v`: the reverse pass assigns every returned value to
    the result variable (`return a` on one path and `return s` on another both reach it)."""
    def __init__(self, s: Return, result: str):
        self.target, self.value = result, s.value


def diff_operands(e: Expr) -> list[str]:
    """Names whose adjoint receives a contribution from evaluating `e`."""
    if isinstance(e, Name):
        return [e.id]
    if not isinstance(e, Call):
        return []
    if e.calls_user:  # a user function: every argument may carry a derivative
        return [n for a in e.args + tuple(v for _, v in e.kwargs) for n in ([a.id] if isinstance(a, Name) else [])]
    rule = rules.lookup(e.op)
    if e.kind == "attr" and rule is None:  # a field of a parameter object
        return [e.args[0].id] if isinstance(e.args[0], Name) else []
    if rule is None or rule.nondiff:
        return []
    if e.op in ("getitem", "method:pop"):  # (an element read; a pop of a tape: passes/adjoints.pop)
        return [e.args[0].id] if isinstance(e.args[0], Name) else []
    bound = rule.bind(e.args, e.kwargs)
    params = rule.differentiable_params
    out: list[str] = []
    for p in params:
        v = bound.get(p)
        vals = v if isinstance(v, tuple) else (v,)
        out += [x.id for x in vals if isinstance(x, Name)]
    return out


def analyse(fn: Function, wrt: tuple[str, ...], types: dict[str, T.T], outputs: tuple[str, ...] = (),
            result: str | None = None) -> set[str]:
    """`result`: the variable the reverse pass assigns returned values to (then it is the
    output, and each `return v` is read as `result = v`); `outputs`: further names whose
    final value is an output (besides the returned one)."""
    def can_carry(n: str) -> bool:
        t = types.get(n)
        return t is None or t.differentiable

    stmts = [_Append(s) if isinstance(s, ExprStmt) else _Returned(s, result)
             if isinstance(s, Return) and result is not None else s for s in walk(fn.body)
             if isinstance(s, (Assign, SetItem, Return)) or (
                 isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append")]
    # (each statement's operands once: both fixpoints below sweep the statements repeatedly)
    srcs = [[] if isinstance(s, Return) else diff_operands(s.value) for s in stmts]
    varied = {w for w in wrt if can_carry(w)}
    changed = True
    while changed:
        changed = False
        for s, src in zip(stmts, srcs):
            if isinstance(s, Return):
                continue
            if s.target not in varied and can_carry(s.target) and any(x in varied for x in src):  # noqa
                varied.add(s.target)
                changed = True
    useful = {s.value.id for s in stmts if isinstance(s, Return) and isinstance(s.value, Name)} | set(outputs)
    if result is not None:
        useful.add(result)
    changed = True
    while changed:
        changed = False
        for s, src in zip(reversed(stmts), reversed(srcs)):
            if isinstance(s, Return) or s.target not in useful:
                continue
            for x in src:
                if x not in useful:
                    useful.add(x)
                    changed = True
    return {n for n in varied & useful if can_carry(n)}
