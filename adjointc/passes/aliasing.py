"""Refuse in-place updates the transform cannot track through aliases.

NumPy views share memory: after `a = u[1:]`, writing `u[0:2] = ...` also
changes `a`. The reverse transform reasons about values by name, so a
user variable that may share memory with an array that is modified in
place (either side of the alias) is rejected with an `AliasingError`
naming both lines, rather than risking a wrong gradient. Temporaries
created by the frontend are consumed before the write and are safe.
"""
from __future__ import annotations

from .. import types as T
from ..errors import AliasingError
from collections import Counter

from ..ir import Assign, Call, ExprStmt, Function, Name, SetItem, Stmt, stmt_reads, walk
from .simplify import base_map


def check(fn: Function, types: dict[str, T.T], user_names: set[str],
          augmented: list[Assign] | None = None) -> None:
    """`augmented`: assignments lowered from `x += e`, which NumPy performs in place."""
    mutated: dict[str, Stmt] = {}
    for s in walk(fn.body):
        if isinstance(s, SetItem) and s.target not in mutated:
            mutated[s.target] = s
    for s in augmented or ():
        t = types.get(s.target, T.UNKNOWN)
        if not (t.is_scalar and t.kind != "array") and s.target not in mutated:
            mutated[s.target] = s
    if not mutated:
        return
    uses = Counter(n for s in walk(fn.body) for n in stmt_reads(s))
    raw = base_map(fn.body, types)
    # a temporary read once (`_t = x * 2; x = _t`) cannot be observed after the write, nor
    # can a tuple (immutable: its arrays are reached by indexing it, which records the alias)
    bases = {v: {b for b in bs if (b in user_names or uses[b] > 1) and types.get(b, T.UNKNOWN).kind != "tuple"}
             for v, bs in raw.items()}
    defs = {s.target: s for s in walk(fn.body) if isinstance(s, Assign)}
    for v in sorted(user_names):
        shared = bases.get(v, set()) - {v}  # (`u = _t; _t = u`-like cycles: u shares with itself)
        if not shared:
            continue
        culprit = v if v in mutated else next((b for b in sorted(shared) if b in mutated), None)
        if culprit is None:
            continue
        others = sorted(b for b in shared if b in user_names and b != culprit) or sorted(shared)
        other = others[0] if culprit == v else culprit
        d, w = defs.get(v), mutated[culprit]
        how = "assigned"
        appended = next((s for s in walk(fn.body) if isinstance(s, ExprStmt) and isinstance(s.value, Call)
                         and s.value.op == "method:append" and s.value.args[0] == Name(v)
                         and isinstance(s.value.args[1], Name) and s.value.args[1].id in shared), None)
        if appended is not None:  # `out.append(buf)`: the list holds buf itself, not a copy
            d, how = appended, "appended"
        raise AliasingError(
            f"'{v}' may share memory with '{other if culprit == v else culprit}' "
            f"({how} at line {d.loc.line if d else '?'}), and '{culprit}' is modified in place "
            f"at line {w.loc.line}: adjointc cannot track an in-place update through an alias",
            d.loc if d else w.loc,
            "make the copy explicit, e.g. `a = u[1:].copy()`, `u = u0.copy()` or `out.append(buf.copy())`")
