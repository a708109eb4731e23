"""Cleanups of the final adjoint IR, before it is printed: IR -> IR rewrites that
make the adjoint read like a hand-written one. None of them changes a value (those
of passes/peephole.py: up to rounding, sums reassociated).

    fold_temporaries     single-use temporaries back into the expression they came from
    dedupe_comments      one `# line N: ...` comment per run of statements from one line
    merge_accumulations  `a = E1; a += E2` -> `a = E1 + E2`
    (passes/peephole.py, the hand-written limit:)
    merge_item_updates   `a[i] += E1; ...; a[i] += E2` -> `...; a[i] += E1 + E2` (one item
                         update instead of several: each costs a NumPy getitem and setitem)
    merge_terms          `E + E` -> `2 * E` in an adjoint's value: the product rule's two
                         equal halves (`x * x`), factors compared in any order where they commute
    drop_copies          `y_bar = np.copy(x_bar)` -> `y_bar = x_bar` where no one can see the
                         two share their object (the zeros pass copies wherever an adjoint is
                         updated in place anywhere; this looks at where)
    dot_products         `np.sum(a * b)` -> `a @ b` in an adjoint's value (two real vectors of
                         one length, certainly arrays)
    increments           `u[1:-1] = u[1:-1] + E` -> `u[1:-1] += E` (a real float array u, E real)
    with_tape_report     a `tape_report(...)` call where the backward sweep starts (stats builds)
    drop_value_copy      `result_value = result` undone when the backward sweep never
                         rebinds result (run by the dce pass, passes/__init__.py)

`run(fn, is_temp, tape_report=...)` applies them in that order (the order the
printed text depends on): the `cleanup` pass of PIPELINE (passes/__init__.py), and
forward mode's last step (compile_tangent.py). Temporaries are recognised by the predicate `is_temp`
the caller passes (today a name pattern, `_t3` / `_t3_bar` / `_cond2`).

Every pass here is linear in the size of the function (times the nesting
depth): each builds its indexes once per block instead of rescanning the block
after each rewrite, so a 1,000-statement adjoint cleans up as fast, per
statement, as a 100-statement one.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from typing import Callable

from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Comment, Expr, ExprStmt, For, Function, If,
                  Name, Return, SetItem, Stmt, While, all_writes, backward_start, map_expr, names_in,
                  stmt_writes, sweep_of, walk, with_bodies)

IsTemp = Callable[[str], bool]


def run(fn: Function, is_temp: IsTemp, tape_report: bool = False, scalars: frozenset[str] = frozenset(),
        numeric: frozenset[str] = frozenset(), types: dict | None = None) -> Function:
    """The cleanups in order; `tape_report` adds the statistics build's report call.
    `scalars`: names certainly holding a number (merge_terms reorders products of them);
    `numeric`: those and the names certainly holding an array (their sums may be reordered);
    `types`: the program's types, to fold the helpers' plain forms again (passes/forms.py);
    peephole.dot_products and increments read them too."""
    before: set[int] = set()  # (fn.body is alive throughout: the ids are its statements')
    body = fold_temporaries(fn.body, is_temp, before)
    if types is not None:
        from .forms import refold
        body = refold(body, types, before)
    adjoints = {s.target for s in walk(body) if isinstance(getattr(s, "target", None), str)
                and s.target.endswith("_bar")}
    body = merge_accumulations(dedupe_comments(body), adjoints)
    from . import peephole  # (it reuses this module's statement helpers)
    share = peephole._may_share(body, numeric | scalars)  # (neither merge changes who holds what)
    body = peephole.merge_item_updates(body, adjoints, numeric | scalars, share)
    body = peephole.merge_terms(body, adjoints, scalars, numeric | scalars)
    body = peephole.drop_copies(body, adjoints, {p.name for p in fn.params}, numeric | scalars, share)
    body = peephole.dot_products(body, adjoints, types or {})
    body = peephole.increments(body, types or {})
    if tape_report:
        body = with_tape_report(body)
    return Function(fn.name, fn.params, body, fn.file, fn.line)


# ------------------------------------------------------------ fold_temporaries
def _reads_all(s: Stmt) -> list[str]:
    """Names one statement reads itself (a compound statement: its header only); an
    item assignment or augmented assignment reads its target too."""
    t = type(s)  # (no class derives from a statement class)
    if t is Assign or t is ExprStmt or t is Return:
        return list(names_in(s.value))
    if t is SetItem or t is AugSetItem:
        return list(names_in(s.index)) + list(names_in(s.value)) + [s.target]
    if t is AugAssign:
        return list(names_in(s.value)) + [s.target]
    if t is For:
        return list(names_in(s.iter))
    if t is While or t is If:
        return list(names_in(s.test))
    return []


_COMPOUND = (For, While, If)


def fold_temporaries(body: Block, is_temp: IsTemp, seen: set[int] | None = None) -> Block:
    """Inline each temporary that is assigned once and read once, by a later
    statement of the same block, when nothing in between writes what it reads.

    Invariant: the value of every statement is unchanged. A temporary `t = E`
    (E a call, or t an adjoint) moves into its one reader R when no statement
    strictly between them writes a name E reads (a loop or branch in between
    counts all the writes of its body). R may be any simple statement (it
    evaluates E before it writes anything) or the test of an `if`; a loop's
    header, or a reader nested inside a loop or branch, keeps the temporary.
    Recordings (`tape.pop()`, list builds) are never moved. Blocks are cleaned
    innermost first; within a block the temporaries are taken in order, each
    once: a temporary that cannot move cannot become movable by a later fold
    (folds only delete assignments to temporaries and add reads to readers).
    `seen`, if given, gets the ids of body's statements (comments aside).
    """
    uses: dict[str, int] = {}  # (plain dicts: a Counter's missing keys cost a Python call each)
    defs: dict[str, int] = {}
    own: dict[int, tuple[list[str], set[str]]] = {}  # id(s) -> its own reads and writes (`clean` reads them)
    for s in walk(body):
        if type(s) is Comment:  # (reads and writes nothing: most statements of an adjoint are)
            continue
        r, w = own[id(s)] = _reads_all(s), stmt_writes(s)
        for n in r:
            uses[n] = uses.get(n, 0) + 1
        for n in w:
            defs[n] = defs.get(n, 0) + 1
    if seen is not None:
        seen.update(own)
    temps: dict[str, bool] = {}

    def candidate(s: Stmt) -> bool:
        if type(s) is not Assign or defs.get(s.target, 0) != 1 or uses.get(s.target, 0) != 1:
            return False
        t = temps.get(s.target)
        if t is None:
            t = temps[s.target] = bool(is_temp(s.target))
        v = s.value
        return t and (isinstance(v, Call) or s.target.endswith("_bar")) \
            and not (isinstance(v, Call) and v.op in ("method:pop", "list"))

    def clean(s: Stmt) -> tuple[Stmt, set[str], set[str]]:
        """s with its bodies cleaned, and its reads and writes (its own and its nested
        statements': a loop or branch is summarised from its cleaned bodies, not walked again)."""
        r, w = own.get(id(s)) or (_reads_all(s), stmt_writes(s))  # (body is alive: its ids are its own)
        reads = set(r)
        if type(s) not in _COMPOUND:
            return s, reads, w
        writes = set(w)
        bodies = []
        for inner in (s.body, s.orelse) if type(s) is If else (s.body,):
            cleaned, r, w = block(inner)
            bodies.append(cleaned)
            reads |= r
            writes |= w
        if type(s) is If:
            return replace(s, body=bodies[0], orelse=bodies[1]), reads, writes
        return replace(s, body=bodies[0]), reads, writes

    def block(b: Block) -> tuple[Block, set[str], set[str]]:
        """b cleaned, and its reads and writes (see `clean`)."""
        stmts: list[Stmt | None] = []
        deep: list[tuple[set[str], set[str]]] = []
        for s in b:
            s, r, w = clean(s)
            stmts.append(s)
            deep.append((r, w))
        read_at: dict[str, list[int]] = {}   # name -> positions of the statements reading it (headers
        written_at: dict[str, list[int]] = {}  # and nested bodies) / writing it, ascending
        reads: set[str] = set()
        writes: set[str] = set()
        folded: set[str] = set()
        for j, s in enumerate(stmts):
            if type(s) is Comment:
                continue
            r, w = deep[j]
            for n in r:
                read_at.setdefault(n, []).append(j)
            for n in w:
                written_at.setdefault(n, []).append(j)
            reads |= r
            writes |= w
        for i, s in enumerate(stmts):
            if not candidate(s):
                continue
            t = s.target
            where = [j for j in read_at.get(t, ()) if j > i]
            if not where:
                continue
            j = where[0]
            u = stmts[j]
            if t not in _reads_all(u) or isinstance(u, (For, While)):
                continue  # read inside a nested block, or by a loop header
            moved = set(names_in(s.value))
            if any(_between(written_at.get(n, ()), i, j) for n in moved):
                continue
            if isinstance(u, If):
                stmts[j] = replace(u, test=map_expr(u.test, _sub(t, s.value)))
            else:
                stmts[j] = _replace_use(u, t, s.value)
            stmts[i] = None
            folded.add(t)
            for n in moved:  # their reads moved from i to j (only single readers matter)
                if uses.get(n, 0) == 1:
                    read_at[n] = [j]
        # (a folded temporary was written and read here only, and is no longer)
        return tuple(s for s in stmts if s is not None), reads - folded, writes - folded
    try:
        return block(body)[0]
    finally:  # (block and clean refer to each other, a cycle holding is_temp's Program: broken here, the
        del block, clean  # Program is freed when the transform drops it, not by the cyclic collector)


def _between(positions, i: int, j: int) -> bool:
    """Is any of the ascending `positions` strictly between i and j?"""
    k = bisect_right(positions, i)
    return k < len(positions) and positions[k] < j


def _deep_reads(s: Stmt) -> list[str]:
    if isinstance(s, _COMPOUND):
        return [n for x in walk((s,)) for n in _reads_all(x)]
    return _reads_all(s)


def _deep_writes(s: Stmt) -> set[str]:
    if isinstance(s, _COMPOUND):
        return {n for x in walk((s,)) for n in stmt_writes(x)}
    return stmt_writes(s)


def _sub(name: str, value: Expr):
    return lambda e: value if isinstance(e, Name) and e.id == name else None


def _replace_use(s: Stmt, name: str, value: Expr) -> Stmt:
    f = _sub(name, value)
    if isinstance(s, Assign):
        return Assign(s.target, map_expr(s.value, f), s.loc)
    if isinstance(s, SetItem):
        return SetItem(s.target, map_expr(s.index, f), map_expr(s.value, f), s.loc)
    if isinstance(s, AugAssign):
        return AugAssign(s.target, s.op, map_expr(s.value, f), s.loc)
    if isinstance(s, AugSetItem):
        return AugSetItem(s.target, map_expr(s.index, f), s.op, map_expr(s.value, f), s.loc)
    if isinstance(s, Return):
        return Return(map_expr(s.value, f), s.loc)
    if isinstance(s, ExprStmt):
        return ExprStmt(map_expr(s.value, f), s.loc)
    return s


# ------------------------------------------------------------- dedupe_comments
def dedupe_comments(b: Block) -> Block:
    """One `# line N: ...` comment per run of statements from the same line.

    Invariant: only `line ...` comments are removed, and only one equal to the
    last such comment of the same block with no loop or branch in between."""
    out: list[Stmt] = []
    last = None
    for s in b:
        if isinstance(s, Comment) and s.text.startswith("line "):
            if s.text == last:
                continue
            last = s.text
        elif isinstance(s, _COMPOUND):
            last = None
            s = with_bodies(s, dedupe_comments)
        out.append(s)
    return tuple(out)


# -------------------------------------------------------- merge_accumulations
_FRESH_BUFFERS = ("np.copy", "copy_adjoint", "as_adjoint", "np.zeros_like")


def merge_accumulations(b: Block, adjoints: set[str]) -> Block:
    """`a = E1` followed by `a += E2` (or `a = a + E2`), E2 not reading a, becomes
    `a = E1 + E2`, for an adjoint a.

    Invariant: a's value after the pair is unchanged and no other name changes.
    Not when E1 makes a fresh buffer (`np.copy(...)`, `as_adjoint(...)`, ...):
    that buffer is what later in-place updates of a must not share."""
    out: list[Stmt] = []
    for s in b:
        s = with_bodies(s, lambda blk: merge_accumulations(blk, adjoints))
        prev = out[-1] if out else None
        if isinstance(prev, Assign) and prev.target in adjoints:
            a = prev.target
            e2 = None
            if isinstance(s, AugAssign) and s.target == a and s.op == "add":
                e2 = s.value
            elif isinstance(s, Assign) and s.target == a and isinstance(s.value, Call) \
                    and s.value.op == "add" and s.value.args[0] == Name(a):
                e2 = s.value.args[1]
            if e2 is not None and a not in set(names_in(e2)) and not (
                    isinstance(prev.value, Call) and prev.value.op in _FRESH_BUFFERS):
                out[-1] = Assign(a, Call("add", (prev.value, e2)), s.loc)
                continue
        out.append(s)
    return tuple(out)


# ------------------------------------------------------------ with_tape_report
def recordings(body: Block) -> list[str]:
    """Names of the tapes and saved values the forward sweep fills, in order of
    first assignment (top level first, then nested `_saved_` values)."""
    out: list[str] = []
    seen: set[str] = set()
    for s in body:
        if isinstance(s, Assign) and (s.target.startswith("_tape_") or s.target.startswith("_saved_")):
            if s.target not in seen:
                seen.add(s.target)
                out.append(s.target)
    for s in walk(body):
        if isinstance(s, Assign) and s.target.startswith("_saved_") and s.target not in seen:
            seen.add(s.target)
            out.append(s.target)
    return out


def with_tape_report(body: Block) -> Block:
    """Insert `tape_report(name=name, ...)` of every recording where the backward
    sweep starts (statistics builds only).

    Invariant: adds one call that reads the recordings; changes no value."""
    names = recordings(body)
    out: list[Stmt] = []
    for s in body:
        if sweep_of(s) == "backward":
            out.append(ExprStmt(Call("tape_report", (), tuple((n, Name(n)) for n in names))))
        out.append(s)
    return tuple(out)


def drop_value_copy(body: tuple, result: str) -> tuple:
    """Undo the `result_value = result` copy when the backward sweep never rebinds result."""
    i = backward_start(body)
    copy, ret = body[i - 1], body[-1]
    value = Name(getattr(copy, "target", ""))
    if not (isinstance(copy, Assign) and isinstance(copy.value, Name) and copy.value.id == result):
        return body
    if value.id not in names_in(ret.value) or result in all_writes(body[i:]):  # (no copy: grad, no value)
        return body
    new_ret = Return(map_expr(ret.value, lambda e: Name(result) if e == value else None), ret.loc)
    return body[:i - 1] + body[i:-1] + (new_ret,)


def kinds_of(types: dict) -> dict[str, frozenset[str]]:
    """`run`'s `scalars` and `numeric` from a Program's types: a primal name and its
    adjoint (`x_bar` has x's type; the symbolic zero 0.0 is a number too)."""
    scalars, arrays = set(), set()
    for n, t in types.items():
        if t.kind in ("float", "int"):
            scalars.update((n, f"{n}_bar"))
        elif t.kind == "array":
            arrays.update((n, f"{n}_bar"))
    return {"scalars": frozenset(scalars), "numeric": frozenset(arrays), "types": types}
