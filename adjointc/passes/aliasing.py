"""Refuse in-place updates the transform cannot track through aliases.

NumPy views share memory: after `a = u[1:]`, writing `u[0:2] = ...` also
changes `a`. The reverse transform reasons about values by name, so a
variable that may share memory with an array modified in place, *and is read
after that write* (later, or on a later trip of a loop around it), is
rejected with an `AliasingError` naming the line that made the alias, rather
than risking a wrong gradient. Aliases are tracked in time: one made after the
write does not count, nor does one nobody reads after it (a temporary used up
inside its statement, a finished helper's local, a view no longer read). The
backward sweep's own reads of such aliases are safe: reverse.py records a
write into shared memory whenever an alias of it is read backwards.

The "aliasing" pass (`run`) changes nothing: after it, no in-place write in
`fn` (a SetItem, or an `x += e` on an array: `Assign.aug`) can be seen through
an alias the transform does not know about.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .. import types as T
from ..errors import AliasingError
from ..ir import (Assign, Call, ExprStmt, For, Function, Name, SetItem, Stmt, While, names_in, stmt_reads,
                  walk)
from .sharing import base_map

if TYPE_CHECKING:
    from ..program import Program


def run(prog: "Program") -> "Program":
    """The "aliasing" pass: refuse what `check` refuses; the program is unchanged."""
    check(prog.fn, prog.types, set(prog.user_names))
    return prog


def check(fn: Function, types: dict[str, T.T], user_names: set[str]) -> None:
    """Refuses an in-place write into `c` when a variable that may share c's memory at
    that moment (aliases made before the write, or on an earlier trip of a loop around
    it) is read after it (later, or on a later trip): that read would see the change
    by a name the transform believes unchanged. An alias no one reads after the write
    (a temporary used up inside its statement, a finished helper's local, a view no
    longer read) sees nothing; the backward sweep's own reads are recorded like any
    overwritten value (reverse.py widens `needed` over aliases)."""
    order = list(walk(fn.body))
    def in_place(s: Stmt) -> bool:  # (`x += e` lowered: in place unless x is a Python scalar)
        if not (isinstance(s, Assign) and s.aug):
            return False
        t = types.get(s.target, T.UNKNOWN)
        return not (t.is_scalar and t.kind != "array")
    writes = [(k, s) for k, s in enumerate(order) if isinstance(s, SetItem) or in_place(s)]
    if not writes:
        return
    uses = Counter(n for s in order for n in stmt_reads(s))
    reads: dict[str, list[int]] = {}
    for k, s in enumerate(order):
        for n in stmt_reads(s):
            reads.setdefault(n, []).append(k)
    spans = [(k + 1, k + sum(1 for _ in walk(s.body))) for k, s in enumerate(order) if isinstance(s, (For, While))]
    params = {p.name for p in fn.params}
    defs: dict[str, list[int]] = {}
    for k, s in enumerate(order):
        if isinstance(s, Assign):
            defs.setdefault(s.target, []).append(k)

    # (a tuple holding an array links it to what is taken out of it: `t = (s, y); s, u = t`
    # makes u share y's memory, and a read of t after a write into y sees the change too;
    # a temporary read once still links: `u = np.reshape(v, s)[0]` views v through it)
    edges = [(k, n, b) for k, s in enumerate(order) if isinstance(s, (Assign, ExprStmt))
             for n, bs in base_map((s,), types).items() for b in bs]
    # The alias edges a write sees are those before it or in a loop around it: the edges of
    # statements up to `end` (start <= i). `end` never decreases from one write to the next
    # (a later write is in the same loops, or after them), so one union-find grows with it.
    classes, seen_to = _Classes(), 0
    for i, w in writes:
        c = w.target
        around = [(a, b) for a, b in spans if a <= i <= b]
        start = min((a for a, _ in around), default=i)  # the outermost loop around the write
        end = max((b for _, b in around), default=i)
        while seen_to < len(edges) and edges[seen_to][0] <= end:
            classes.union(edges[seen_to][1], edges[seen_to][2])
            seen_to += 1
        mates = {n for n in classes.of(c) if n != c}
        # observers: read after the write, or anywhere in a loop around it; parameters always
        def sees(o: str, j: int) -> bool:
            if not (j > i or start <= j <= end):
                return False
            # a frontend temporary is assigned right before its reads: one assigned after
            # the write (later in the trip, or on the next trip) holds a new value
            return o in user_names or not any((i < d < j) or (j <= i and (start <= d < j or d > i))
                                              for d in defs.get(o, ()))
        seen = sorted(o for o in mates if (o in user_names or uses[o] > 1)
                      and (o in params or any(sees(o, j) for j in reads.get(o, ()))))
        named = [o for o in seen if o in user_names]
        if not seen or (c not in user_names and not named):
            continue  # (the frontend's own temporaries are consumed in order)
        _refuse(order, c, w, seen, named, set(classes.of(c)), user_names, edges)


class _Classes:
    """Union-find over alias edges, with each class's members (edges added one at a
    time; a class is the set of names connected to each other)."""

    def __init__(self) -> None:
        self.up: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}  # root -> its class

    def find(self, n: str) -> str:
        while self.up.get(n, n) != n:
            n = self.up[n]
        return n

    def union(self, n: str, b: str) -> None:
        for x in (n, b):
            if x not in self.up:
                self.up[x] = x
                self.members[x] = {x}
        rn, rb = self.find(n), self.find(b)
        if rn != rb:
            if len(self.members[rn]) > len(self.members[rb]):
                rn, rb = rb, rn
            self.up[rn] = rb
            self.members[rb] |= self.members.pop(rn)

    def of(self, n: str) -> set[str]:
        """n's class (empty when no edge names n); not to be modified."""
        return self.members[self.find(n)] if n in self.up else set()


def _refuse(order: list[Stmt], culprit: str, w: Stmt, seen: list[str], named: list[str], group: set[str],
            user_names: set[str], edges: list) -> None:
    """Raise the error naming the assignment (or append) that made the alias."""
    appends = [s for s in order if isinstance(s, ExprStmt) and isinstance(s.value, Call)
               and s.value.op == "method:append" and isinstance(s.value.args[0], Name)
               and s.value.args[0].id in named and isinstance(s.value.args[1], Name)
               and s.value.args[1].id in group]
    if appends:  # `out.append(buf)`: the list holds buf itself, not a copy
        d, how, v, other = appends[0], "appended", appends[0].value.args[0].id, culprit
    else:
        # an observer made from the culprit's memory (`v = u`), or the culprit made from
        # an observer's (`u = x`)
        made = [o for o in named if any(n == o and b in group for _, n, b in edges)]
        if made or culprit not in user_names:
            v, other = (made or named)[0], culprit
        else:
            v, other = culprit, (named or seen)[0]
        d = next((s for s in order if isinstance(s, Assign) and s.target == v
                  and set(names_in(s.value)) & (group - {v})), None)
        how = "assigned"
    raise AliasingError(
        f"'{v}' may share memory with '{other}' ({how} at line {d.loc.line if d else '?'}), and "
        f"'{culprit}' is modified in place at line {w.loc.line}: adjointc cannot track an in-place "
        f"update through an alias",
        d.loc if d else w.loc,
        "make the copy explicit, e.g. `a = u[1:].copy()`, `u = u0.copy()` or `out.append(buf.copy())`")
