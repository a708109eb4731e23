"""Refuse in-place updates the transform cannot track through aliases.

NumPy views share memory: after `a = u[1:]`, writing `u[0:2] = ...` also
changes `a`. The reverse transform reasons about values by name, so a
variable that may share memory with an array modified in place, *and is read
after that write* (later, or on a later trip of a loop around it), is
rejected with an `AliasingError` naming the line that made the alias, rather
than risking a wrong gradient. Aliasing follows the program (sharing.Flow, per
program point and per way of reaching it): a name rebound to a new value no
longer shares memory (`a, b = b, a` double buffering, `u = u_new` with u_new a
fresh copy, `L.append(a); a = np.zeros(n)`), a list holds what was appended to
it and gives it back (`L.pop()`, `L[i]`); an alias made after the write does not
count, nor does one nobody reads afterwards (`_live_after`: a temporary used up
inside its statement, a view rebound or no longer read, a value read for its
shape only). The backward sweep's own reads of such aliases are safe: reverse.py
records a write into shared memory whenever an alias of it is read backwards.

Containers: `L[i] = v` / `d[k] = v` replace an entry: they write the container,
not the values it holds (an alias of L itself sees it; a name holding the old
entry does not). `d[k][i] = v` (the frontend's `_held = d[k]; _held[i] = v;
d[k] = _held`) writes the held array, which d then sees by value; `L[i] += e`
on a held array (SetItem.aug) is Python's in-place update of that array, so a
name sharing it is an observer (the lowering is functional). Errors name the
user's variables, or describe a temporary's value (`describe`), never `_t23`.

The "aliasing" pass (`run`) changes nothing: after it, no in-place write in
`fn` (a SetItem, or an `x += e` on an array: `Assign.aug`) can be seen through
an alias the transform does not know about.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .. import types as T
from ..errors import AliasingError
from ..ir import (Assign, Block, Break, Call, Const, Continue, ExprStmt, For, Function, If, Name, Return, SetItem, Stmt,
                  While, names_in, stmt_reads, walk)
from .sharing import SHAPE_ONLY, Flow, base_map

if TYPE_CHECKING:
    from ..program import Program


_SLOTTED = ("list", "struct")  # containers whose item writes replace an entry (a dict is a struct)


def run(prog: "Program") -> "Program":
    """The "aliasing" pass: refuse what `check` refuses; the program is unchanged."""
    check(prog.fn, prog.types, set(prog.user_names))
    return prog


def check(fn: Function, types: dict[str, T.T], user_names: set[str]) -> None:
    """Refuses an in-place write into `c` when another variable that may share c's
    memory at that point of the program (sharing.Flow: rebinding to a new value ends
    a sharing, a list holds what was appended to it, loops and branches joined) is
    read afterwards while still bound to that memory (it is live after the write,
    through the loops around it too), or is a parameter whose argument the write
    changes: that read would see the change by a name the transform believes
    unchanged. An alias no one reads after the write (a temporary used up inside its
    statement, a finished helper's local, a view rebound or no longer read) sees
    nothing; the backward sweep's own reads are recorded like any overwritten value
    (reverse.py widens `needed` over aliases)."""
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
    live = _live_after(fn.body, {id(s) for _, s in writes})
    params = {p.name for p in fn.params}
    flow = Flow(fn, types)
    rows = _Rows(fn, types)
    held = _written_back(order)
    defs = {s.target: s.value for s in order if isinstance(s, Assign)}
    for i, w in writes:
        if i not in flow.at:
            continue  # (after a return or a break: never runs)
        c = w.target
        # (per state: one per way of reaching the write) the objects the write changes:
        # a slot of a list or dict (`L[0] = v`, `d[k] = v`, `L += M`) is rebound, what it
        # held is not changed (`_saved = snapshot(L[0]); L[0] = b` in a generated adjoint;
        # what shares a held array sees nothing, an alias of L itself does); an array's
        # memory is written.
        kind = types.get(c, T.UNKNOWN).kind
        mine = (kind != "array" and flow.own(i, c)) or flow.objects(i, c)
        checks = [(c, mine, held.get(i))]
        if isinstance(w, SetItem) and kind in _SLOTTED:
            checks = [(c, [st.pts.get(c, frozenset({("e", c)})) for st in flow.at[i]], None)]
            cur = _augmented(w, defs)
            if cur is not None:
                # `d[k] += e` (lowered `_t = d[k]; _t2 = _t + e; d[k] = _t2`): Python adds
                # into the array d[k] holds, in place; the functional form is the same
                # for everyone but another name sharing that array (d's entry is replaced)
                checks.append((cur, flow.objects(i, cur), c))
        for c, mine, by_value in checks:
            if any(mine):
                _observe(i, w, c, mine, by_value, order, flow, rows, live, uses, user_names, params, types)


def _observe(i: int, w: Stmt, c: str, mine: list, by_value: str | None, order: list[Stmt], flow: Flow,
             rows: "_Rows", live: dict, uses: Counter, user_names: set[str], params: set[str], types: dict[str, T.T]) -> None:
    """Refuse the write w (the k-th statement) into the objects `mine` (per state) that c
    holds when another name that may share them reads them later (`by_value`: a
    container whose entry the write replaces, which sees the change by value)."""
    def shares(o: str) -> bool:
        return any(a & b for a, b in zip(flow.objects(i, o), mine))
    # observers: live after the write and sharing c's memory; a parameter whose
    # argument's memory the write reaches, always (the caller's array changes)
    seen = sorted({o for o in live.get(id(w), ()) if o != c and o != by_value
                   and (o in user_names or uses[o] > 1) and shares(o) and not rows.apart(w, o)}
                  | {p for p in params if p != c and any(("e", p) in m for m in mine)})
    named = [o for o in seen if o in user_names]
    if not seen or (c not in user_names and not named):
        return  # (the frontend's own temporaries are consumed in order)
    group = {n for st in flow.at[i] for n in st.pts if shares(n)} | set(seen) | {c}
    edges = [(k, n, b) for k, s in enumerate(order) if isinstance(s, (Assign, ExprStmt))
             for n, bs in base_map((s,), types).items() for b in bs]
    _refuse(order, c, w, seen, named, group, user_names, edges, types)


def _augmented(w: SetItem, defs: dict) -> str | None:
    """The entry `_t` that `c[i] += e` (w, lowered `_t = c[i]; _t2 = _t + e; c[i] = _t2`,
    marked `aug` by the frontend) updates, or None for another write."""
    v = defs.get(w.value.id) if w.aug and isinstance(w.value, Name) else None
    if isinstance(v, Call) and v.args and isinstance(v.args[0], Name):
        return v.args[0].id
    return None


def _written_back(order: list[Stmt]) -> dict[int, str]:
    """Index of each write `_held[i] = v` that the frontend's `d[k][i] = v` became ->
    d: `_held = d[k]` before it and `d[k] = _held` right after it, so d's entry is
    replaced by the changed value and d's readers see the change by value (the
    frontend's subscript_target)."""
    defs = Counter(s.target for s in order if isinstance(s, Assign))
    got = {s.target: s.value for s in order if isinstance(s, Assign) and defs[s.target] == 1}
    out: dict[int, str] = {}
    for k, (s, nxt) in enumerate(zip(order, order[1:])):
        g = got.get(getattr(s, "target", ""))
        if isinstance(s, SetItem) and isinstance(nxt, SetItem) and nxt.value == Name(s.target) \
                and isinstance(g, Call) and g.op == "getitem" and g.args == (Name(nxt.target), nxt.index):
            out[k] = nxt.target
    return out


def describe(n: str, order: list[Stmt], types: dict[str, T.T], user_names: set[str]) -> str:
    """How an error names the variable n: a user's variable by its name; one of
    adjointc's temporaries by the expression it holds when that reads only the user's
    names (`params[k]`, `d.keys()`), else by the value it holds and its line (`the
    dict built at line 4`): the user never wrote `_t23`."""
    if n in user_names:
        return f"'{n}'"
    d = next((s for s in order if isinstance(s, Assign) and s.target == n), None)
    v = d.value if d is not None else None
    if isinstance(v, Name):
        return describe(v.id, order, types, user_names) if v.id != n else f"'{n}'"
    if isinstance(v, Call) and all(x in user_names for x in names_in(v)):
        methods = {"dict_keys": "keys", "dict_values": "values", "dict_items": "items"}
        if v.op in methods and isinstance(v.args[0], Name):
            return f"`{v.args[0].id}.{methods[v.op]}()`"
        if v.op == "getitem" and isinstance(v.args[0], Name):
            from ..printer import expr
            return f"`{expr(v)}`"
    t = types.get(n, T.UNKNOWN)
    kind = "dict" if T.is_dict(t) else t.kind if t.kind in ("list", "tuple", "array") else "value"
    return f"the {kind} built at line {d.loc.line}" if d is not None else "a value adjointc made"


class _Rows:
    """Tells a view of one row of an array from a write into another row: `y = hist[i]`
    then `hist[i + 1] = ...` (a preallocated history) leaves y as it was. `apart(w, o)`:
    the write w is `c[e2] = v` on an array c, and o's value there is `c[e1]`, assigned
    earlier in w's block with nothing between rebinding o, c or the index's variable,
    where e1 and e2 (their first axes) are different rows: `i + a` and `i + b` with
    a != b both >= 0 and i only ever a `for` target over a range from >= 0, or two
    constants of one sign."""

    def __init__(self, fn: Function, types: dict[str, T.T]) -> None:
        self.types = types
        self.where: dict[int, tuple[list, int]] = {}  # id of a statement -> (its block, its position)
        def index(b: Block) -> None:
            for j, s in enumerate(b):
                self.where[id(s)] = (b, j)
                for sub in (getattr(s, "body", None), getattr(s, "orelse", None)):
                    if sub:
                        index(sub)
        index(fn.body)
        del index  # (a recursive closure is a cycle: without it, this object is freed by refcount)
        order = list(walk(fn.body))
        self.bound: dict[str, list] = {}  # name -> the statements that bind it
        for s in order:
            if isinstance(s, (Assign, For)):
                self.bound.setdefault(s.target, []).append(s)
        self.params = {p.name for p in fn.params}

    def _natural(self, n: str) -> bool:
        """Is n only ever bound by `for n in range(...)` counting up from >= 0?"""
        binds = self.bound.get(n, [])
        if n in self.params or not binds:
            return False
        for s in binds:
            it = s.iter if isinstance(s, For) else None
            if isinstance(it, Name) and len(self.bound.get(it.id, [])) == 1 and it.id not in self.params:
                it = getattr(self.bound[it.id][0], "value", None)  # (`_range1 = range(n)`)
            if not (isinstance(it, Call) and it.op == "range" and 1 <= len(it.args) <= 3 and not it.kwargs):
                return False
            if len(it.args) > 1 and not (isinstance(it.args[0], Const) and type(it.args[0].value) is int
                                         and it.args[0].value >= 0):
                return False
            if len(it.args) == 3 and not (isinstance(it.args[2], Const) and type(it.args[2].value) is int
                                          and it.args[2].value > 0):
                return False
        return True

    def _row(self, index) -> tuple[str | None, int] | None:
        """The first axis of an index as (variable, offset): `i + 1` -> (i, 1), `3` -> (None, 3)."""
        e = index.args[0] if isinstance(index, Call) and index.op == "tuple" and index.args else index
        def int_name(x) -> bool:
            return isinstance(x, Name) and self.types.get(x.id, T.UNKNOWN).kind == "int"
        def int_const(x) -> bool:
            return isinstance(x, Const) and type(x.value) is int
        if int_const(e):
            return None, e.value
        if int_name(e):
            return e.id, 0
        if isinstance(e, Call) and e.op in ("add", "sub") and len(e.args) == 2:
            a, b = e.args
            if int_name(a) and int_const(b):
                return a.id, b.value if e.op == "add" else -b.value
            if e.op == "add" and int_const(a) and int_name(b):
                return b.id, a.value
        return None

    def apart(self, w: Stmt, o: str) -> bool:
        if not isinstance(w, SetItem) or self.types.get(w.target, T.UNKNOWN).kind != "array" \
                or id(w) not in self.where:
            return False
        c, (block, j) = w.target, self.where[id(w)]
        for k in range(j - 1, -1, -1):
            d = block[k]
            if isinstance(d, Assign) and d.target == o and not d.aug:
                v = d.value
                if not (isinstance(v, Call) and v.op == "getitem" and len(v.args) == 2 and v.args[0] == Name(c)):
                    return False
                r1, r2 = self._row(v.args[1]), self._row(w.index)
                if r1 is None or r2 is None or r1[0] != r2[0] or r1[1] == r2[1]:
                    return False
                between = {n for s in block[k + 1:j] for x in walk([s]) for n in ((x.target,) if isinstance(
                    x, (Assign, For)) else ())}
                if between & {o, c, r1[0]}:
                    return False
                if r1[0] is None:
                    return (r1[1] >= 0) == (r2[1] >= 0)
                return r1[1] >= 0 and r2[1] >= 0 and self._natural(r1[0])
        return False


def _value_reads(s: Stmt) -> set[str]:
    """The names whose values s reads: not the target of `x[i] = v` (unless i or v
    reads it), the list of `L.append(v)` or `L.pop()`, nor a name whose shape alone s
    reads (`np.zeros_like(u)`, `unbroadcast(g, x)`: sharing.SHAPE_ONLY), none of which
    sees what a write in place changed (a read after them is still a read)."""
    v = getattr(s, "value", None)
    if isinstance(s, SetItem):
        return set(names_in(s.index)) | set(names_in(v))
    if isinstance(s, ExprStmt) and isinstance(v, Call) and v.op in ("method:append", "method:extend", "method:pop") \
            and v.args and isinstance(v.args[0], Name):
        return {n for a in v.args[1:] for n in names_in(a)}
    reads = stmt_reads(s)
    if isinstance(s, Assign) and isinstance(v, Call) and v.op in SHAPE_ONLY:
        only = {a.id for j, a in enumerate(v.args) if j in SHAPE_ONLY[v.op] and isinstance(a, Name)}
        rest = {n for j, a in enumerate(v.args) if j not in SHAPE_ONLY[v.op] for n in names_in(a)}
        rest |= {n for _, e in v.kwargs for n in names_in(e)}
        reads -= only - rest
    return reads


def _live_after(body: Block, wanted: set[int]) -> dict[int, set[str]]:
    """id of each statement in `wanted` -> the names live after it: read later (on a
    later trip of a loop around it too) before being rebound. A backward analysis over
    the structured IR; `break`/`continue` continue where the loop does."""
    out: dict[int, set[str]] = {}

    def block(b: Block, live: set[str], brk: set[str], cont: set[str]) -> set[str]:
        for s in reversed(b):
            live = stmt(s, live, brk, cont)
        return live

    def stmt(s: Stmt, live: set[str], brk: set[str], cont: set[str]) -> set[str]:
        if id(s) in wanted:
            out[id(s)] = out.get(id(s), set()) | live
        if isinstance(s, Return):
            return set(names_in(s.value))
        if isinstance(s, Break):
            return set(brk)
        if isinstance(s, Continue):
            return set(cont)
        if isinstance(s, If):
            return stmt_reads(s) | block(s.body, live, brk, cont) | block(s.orelse, live, brk, cont)
        if isinstance(s, (For, While)):
            head = set(live)
            while True:  # (the live set at the loop's head, to a fixpoint)
                inner = block(s.body, head, live, head)
                new = live | (inner - {s.target} if isinstance(s, For) else inner | stmt_reads(s))
                if new <= head:
                    break
                head |= new
            return head | stmt_reads(s)
        if isinstance(s, Assign) and not s.aug:
            # (a value no one reads later reads nothing that matters: `t = f(u)` with t
            # dead, unless f is a user function, which may do more than return)
            dead = s.target not in live and not (isinstance(s.value, Call) and s.value.calls_user)
            return (live - {s.target}) | (set() if dead else _value_reads(s))
        v = getattr(s, "value", None)
        if isinstance(s, ExprStmt) and isinstance(v, Call) and v.op in ("method:append", "method:extend") \
                and v.args and isinstance(v.args[0], Name) and v.args[0].id not in live:
            return set(live)  # (appended to a list whose elements no one reads later)
        return live | _value_reads(s)

    block(body, set(), set(), set())
    del block, stmt  # (two closures calling each other are a cycle: broken, freed by refcount)
    return out


def _refuse(order: list[Stmt], culprit: str, w: Stmt, seen: list[str], named: list[str], group: set[str],
            user_names: set[str], edges: list, types: dict[str, T.T]) -> None:
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
    def said(n: str) -> str:
        return describe(n, order, types, user_names)
    raise AliasingError(
        f"{said(v)} may share memory with {said(other)}{f' ({how} at line {d.loc.line})' if d else ''}, and "
        f"{said(culprit)} is modified in place at line {w.loc.line}: adjointc cannot track an in-place "
        f"update through an alias",
        d.loc if d else w.loc,
        "make the copy explicit, e.g. `a = u[1:].copy()`, `u = u0.copy()` or `out.append(buf.copy())`")
