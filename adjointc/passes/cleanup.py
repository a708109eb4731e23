"""Cleanups of the final adjoint IR, before it is printed: IR -> IR rewrites that
make the adjoint read like a hand-written one. None of them changes a value.

    fold_temporaries     single-use temporaries back into the expression they came from
    dedupe_comments      one `# line N: ...` comment per run of statements from one line
    merge_accumulations  `a = E1; a += E2` -> `a = E1 + E2`
    merge_item_updates   `a[i] += E1; ...; a[i] += E2` -> `...; a[i] += E1 + E2` (one item
                         update instead of several: each costs a NumPy getitem and setitem)
    merge_terms          `E + E` -> `2 * E` in an adjoint's value: the product rule's two
                         equal halves (`x * x`), factors compared in any order where they commute
    drop_copies          `y_bar = np.copy(x_bar)` -> `y_bar = x_bar` where no one can see the
                         two share their object (the zeros pass copies wherever an adjoint is
                         updated in place anywhere; this looks at where)
    with_tape_report     a `tape_report(...)` call where the backward sweep starts (stats builds)
    drop_value_copy      `result_value = result` undone when the backward sweep never
                         rebinds result (run by the dce pass, passes/__init__.py)

`run(fn, is_temp, tape_report=...)` applies them in that order (the order the
printed text depends on). Temporaries are recognised by the predicate `is_temp`
the caller passes (today a name pattern, `_t3` / `_t3_bar` / `_cond2`).

Every pass here is linear in the size of the function (times the nesting
depth): each builds its indexes once per block instead of rescanning the block
after each rewrite, so a 1,000-statement adjoint cleans up as fast, per
statement, as a 100-statement one.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Any, Callable

from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Comment, Const, Expr, ExprStmt, For, Function,
                  If, Name, Return, SetItem, Stmt, While, all_writes, backward_start, map_expr, names_in,
                  stmt_reads, stmt_writes, sweep_of, walk)

IsTemp = Callable[[str], bool]


def run(fn: Function, is_temp: IsTemp, tape_report: bool = False, scalars: frozenset[str] = frozenset(),
        numeric: frozenset[str] = frozenset()) -> Function:
    """The cleanups in order; `tape_report` adds the statistics build's report call.
    `scalars`: names certainly holding a number (merge_terms reorders products of them);
    `numeric`: those and the names certainly holding an array (their sums may be reordered)."""
    body = fold_temporaries(fn.body, is_temp)
    adjoints = {s.target for s in walk(body) if isinstance(getattr(s, "target", None), str)
                and s.target.endswith("_bar")}
    body = merge_accumulations(dedupe_comments(body), adjoints)
    body = merge_item_updates(body, adjoints, numeric | scalars)
    body = merge_terms(body, adjoints, scalars, numeric | scalars)
    body = drop_copies(body, adjoints, {p.name for p in fn.params}, numeric | scalars)
    if tape_report:
        body = with_tape_report(body)
    return Function(fn.name, fn.params, body, fn.file, fn.line)


# ------------------------------------------------------------ fold_temporaries
def _reads_all(s: Stmt) -> list[str]:
    """Names one statement reads itself (a compound statement: its header only); an
    item assignment or augmented assignment reads its target too."""
    if isinstance(s, Assign):
        return list(names_in(s.value))
    if isinstance(s, (SetItem, AugSetItem)):
        return list(names_in(s.index)) + list(names_in(s.value)) + [s.target]
    if isinstance(s, AugAssign):
        return list(names_in(s.value)) + [s.target]
    if isinstance(s, (ExprStmt, Return)):
        return list(names_in(s.value))
    if isinstance(s, For):
        return list(names_in(s.iter))
    if isinstance(s, (While, If)):
        return list(names_in(s.test))
    return []


_COMPOUND = (For, While, If)


def fold_temporaries(body: Block, is_temp: IsTemp) -> Block:
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
    """
    uses: Counter = Counter()
    defs: Counter = Counter()
    for s in walk(body):
        if type(s) is Comment:  # (reads and writes nothing: most statements of an adjoint are)
            continue
        for n in _reads_all(s):
            uses[n] += 1
        for n in stmt_writes(s):
            defs[n] += 1
    temps: dict[str, bool] = {}

    def candidate(s: Stmt) -> bool:
        if type(s) is not Assign or defs[s.target] != 1 or uses[s.target] != 1:
            return False
        t = temps.get(s.target)
        if t is None:
            t = temps[s.target] = bool(is_temp(s.target))
        v = s.value
        return t and (isinstance(v, Call) or s.target.endswith("_bar")) \
            and not (isinstance(v, Call) and v.op in ("method:pop", "list"))

    def block(b: Block) -> Block:
        stmts: list[Stmt | None] = [_with_blocks(s, block) for s in b]
        read_at: dict[str, list[int]] = {}   # name -> positions of the statements reading it (headers
        written_at: dict[str, list[int]] = {}  # and nested bodies) / writing it, ascending
        for j, s in enumerate(stmts):
            if type(s) is Comment:
                continue
            for n in set(_deep_reads(s)):
                read_at.setdefault(n, []).append(j)
            for n in _deep_writes(s):
                written_at.setdefault(n, []).append(j)
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
            reads = set(names_in(s.value))
            if any(_between(written_at.get(n, ()), i, j) for n in reads):
                continue
            if isinstance(u, If):
                stmts[j] = If(map_expr(u.test, _sub(t, s.value)), u.body, u.orelse, u.loc)
            else:
                stmts[j] = _replace_use(u, t, s.value)
            stmts[i] = None
            for n in reads:  # their reads moved from i to j (only single readers matter)
                if uses[n] == 1:
                    read_at[n] = [j]
        return tuple(s for s in stmts if s is not None)
    return block(body)


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


def _with_blocks(s: Stmt, f: Callable[[Block], Block]) -> Stmt:
    """`s` with `f` applied to each block it contains."""
    if isinstance(s, If):
        return If(s.test, f(s.body), f(s.orelse), s.loc)
    if isinstance(s, For):
        return For(s.target, s.iter, f(s.body), s.loc)
    if isinstance(s, While):
        return While(s.test, f(s.body), s.loc)
    return s


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
            s = _with_blocks(s, dedupe_comments)
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
        s = _with_blocks(s, lambda blk: merge_accumulations(blk, adjoints))
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
    copy = body[i - 1]
    if not (isinstance(copy, Assign) and isinstance(copy.value, Name) and copy.value.id == result):
        return body
    if result in all_writes(body[i:]):
        return body
    ret = body[-1]
    value = Name(copy.target)
    new_ret = Return(map_expr(ret.value, lambda e: Name(result) if e == value else None), ret.loc)
    return body[:i - 1] + body[i:-1] + (new_ret,)


# ------------------------------------------------------------ merge_item_updates
def _may_share(body: Block, arrays: frozenset[str]) -> dict[str, frozenset[str]]:
    """name -> the names that may refer to (part of) the same object, itself included:
    the connected groups of "one statement puts a name's object (or a view of it) into
    another name" (an assignment of anything but a fresh value, an append, an item store
    or `+=` into what may not be an array or a number: `arrays`, which copy what they are
    given).
    Over-approximate: it only ever blocks a rewrite."""
    from .simplify import FRESH  # (simplify imports nothing from here; imported late all the same)
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def join(names) -> None:
        for n in names:
            parent.setdefault(n, n)
        names = [find(n) for n in names]
        for n in names[1:]:
            if n != names[0]:
                parent[n] = names[0]
    for st in walk(body):
        t = type(st)
        if t is Assign:
            v = st.value
            if isinstance(v, Call) and v.op in _OF_FIRST and v.args:  # (their result is the first argument's)
                join([st.target, *names_in(v.args[0])])
            elif not (isinstance(v, Call) and v.op in FRESH):
                join([st.target, *names_in(v)])
        elif t in (AugAssign, SetItem, AugSetItem) and st.target not in arrays:
            join([st.target, *names_in(st.value)])
        elif t is ExprStmt:
            join(list(names_in(st.value)))
    groups: dict[str, set[str]] = {}
    for n in list(parent):
        groups.setdefault(find(n), set()).add(n)
    return {n: frozenset(groups[find(n)] | {n}) for n in parent}


_OF_FIRST = ("as_adjoint", "unbroadcast", "unreduce")  # runtime helpers returning (a view of) args[0] or new


def merge_item_updates(b: Block, adjoints: set[str], arrays: frozenset[str] = frozenset()) -> Block:
    """`a[I] += E1`, then simple statements, then `a[I] += E2` (the same index expression)
    becomes the statements, then `a[I] += E1 + E2`, for an adjoint a.

    Invariant: every value is unchanged. The statements in between neither read nor write
    a nor anything that may share its object (`_may_share`), and write nothing E1 or I
    reads, so moving the first update down to the second is not observable; E1 and E2 do
    not read a's object, so neither sees the other update. No loop or branch in between."""
    share = _may_share(b, arrays)

    def block(blk: Block) -> Block:
        out: list[Stmt | None] = [_with_blocks(st, block) for st in blk]
        for j, st in enumerate(out):
            if not (type(st) is AugSetItem and st.op == "add" and st.target in adjoints):
                continue
            a = st.target
            group = share.get(a, frozenset((a,)))
            if not group.isdisjoint(names_in(st.value)) or not group.isdisjoint(names_in(st.index)):
                continue
            reads = set(names_in(st.value)) | set(names_in(st.index))
            for k in range(j + 1, len(out)):
                u = out[k]
                if u is None or type(u) is Comment:
                    continue
                if type(u) is AugSetItem and u.op == "add" and u.target == a and u.index == st.index \
                        and group.isdisjoint(names_in(u.value)):
                    v2 = u.value
                    both = Call("sub", (st.value, v2.args[0])) if type(v2) is Call and v2.op == "neg" \
                        else Call("add", (st.value, v2))
                    out[k] = AugSetItem(a, u.index, "add", both, u.loc)
                    out[j] = None
                    break
                if isinstance(u, _COMPOUND) or not group.isdisjoint(stmt_reads(u)) or \
                        not group.isdisjoint(stmt_writes(u)) or not reads.isdisjoint(stmt_writes(u)):
                    break
        return tuple(x for x in out if x is not None)
    return block(b)


# ------------------------------------------------------------------ merge_terms
def _terms(e: Expr, sign: int, out: list[tuple[int, Expr]]) -> None:
    """e as a sum of signed terms (add, sub and neg flattened)."""
    if type(e) is Call and not e.kwargs:
        if e.op == "add":
            _terms(e.args[0], sign, out)
            _terms(e.args[1], sign, out)
            return
        if e.op == "sub":
            _terms(e.args[0], sign, out)
            _terms(e.args[1], -sign, out)
            return
        if e.op == "neg":
            _terms(e.args[0], -sign, out)
            return
    out.append((sign, e))


def _factors(e: Expr, out: list[Expr]) -> None:
    if type(e) is Call and e.op == "mul" and not e.kwargs:
        _factors(e.args[0], out)
        _factors(e.args[1], out)
    else:
        out.append(e)


def _number(e: Expr) -> bool:
    return type(e) is Const and type(e.value) in (int, float)


def _split(sign: int, e: Expr, scalars: frozenset[str]) -> tuple[Any, tuple[Expr, ...], bool]:
    """(coefficient, the other factors in order, may they be reordered?) of a signed term:
    reordered only when all factors but one are numbers or names of `scalars`."""
    fs: list[Expr] = []
    _factors(e, fs)
    coef: Any = sign
    rest = []
    for f in fs:
        if _number(f):
            coef = coef * f.value
        else:
            rest.append(f)
    others = sum(1 for f in rest if not (type(f) is Name and f.id in scalars))
    return coef, tuple(rest), others <= 1


def _product(coef: Any, rest: tuple[Expr, ...]) -> Expr:
    if not rest:
        return Const(coef)
    e = rest[0]
    for f in rest[1:]:
        e = Call("mul", (e, f))
    if coef == 1:
        return e
    if coef == -1:
        return Call("neg", (e,))
    return Call("mul", (Const(coef), e))


def merged_sum(e: Expr, scalars: frozenset[str], numeric: frozenset[str]) -> Expr | None:
    """`e` (a sum) with equal terms merged (`a*w + w*a` -> `2 * a*w`), or None when no two
    terms are equal. Terms are equal when their factors are, in the same order, or in any
    order where all of them but one are numbers (their product commutes with anything).
    A merged term takes the place of its first occurrence; only numeric terms (with a
    number or a `numeric` name among their factors, not a list that `+` concatenates) move."""
    terms: list[tuple[int, Expr]] = []
    _terms(e, 1, terms)
    if len(terms) < 2:
        return None
    split = [_split(sg, t, scalars) for sg, t in terms]
    groups: list[list[int]] = []
    merged = False
    for i, (coef, rest, free) in enumerate(split):
        known = len(rest) < len(_flat(terms[i][1])) or any(type(f) is Name and f.id in numeric for f in rest)
        for g in groups:
            c0, r0, f0 = split[g[0]]
            if known and (r0 == rest or (free and f0 and sorted(map(repr, r0)) == sorted(map(repr, rest)))):
                g.append(i)
                merged = True
                break
        else:
            groups.append([i])
    if not merged:
        return None
    out: Expr | None = None
    for g in groups:
        if len(g) == 1:
            sg, t = terms[g[0]]
            term, neg = t, sg < 0
        else:
            coef = sum(split[i][0] for i in g)
            if coef == 0:
                return None  # (E - E: left as written)
            term, neg = _product(abs(coef), split[g[0]][1]), coef < 0
        if out is None:
            out = Call("neg", (term,)) if neg else term
        else:
            out = Call("sub" if neg else "add", (out, term))
    return out


def _flat(e: Expr) -> list[Expr]:
    fs: list[Expr] = []
    _factors(e, fs)
    return fs


def merge_terms(b: Block, adjoints: set[str], scalars: frozenset[str], numeric: frozenset[str]) -> Block:
    """Equal terms of the sums an adjoint's value or update adds up, merged (`merged_sum`).

    Invariant: every value is unchanged up to rounding (`x + x` is `2 * x` exactly; the
    factors of a product of numbers and one other value commute). Only in what is assigned
    or added to an adjoint (`*_bar`): the backward sweep's arithmetic, never the primal's."""
    def fix(e: Expr) -> Expr | None:
        if type(e) is Call and e.op in ("add", "sub"):
            return merged_sum(e, scalars, numeric)
        if type(e) is Call and e.op == "mul" and not e.kwargs:  # -a * 2.0 -> a * -2.0 (one operation, exact)
            a, b = e.args
            if type(a) is Call and a.op == "neg" and _number(b):
                return Call("mul", (a.args[0], Const(-b.value)))
            if type(b) is Call and b.op == "neg" and _number(a):
                return Call("mul", (Const(-a.value), b.args[0]))
        return None

    def stmt(st: Stmt) -> Stmt:
        t = type(st)
        if t in _COMPOUND:
            return _with_blocks(st, lambda blk: tuple(stmt(x) for x in blk))
        if t in (Assign, AugAssign, AugSetItem) and st.target in adjoints:
            v = map_expr(st.value, fix)
            if v is not st.value:
                if t is Assign:
                    return Assign(st.target, v, st.loc)
                if t is AugAssign:
                    return AugAssign(st.target, st.op, v, st.loc)
                return AugSetItem(st.target, st.index, st.op, v, st.loc)
        return st
    return tuple(stmt(x) for x in b)


def kinds_of(types: dict) -> dict[str, frozenset[str]]:
    """`run`'s `scalars` and `numeric` from a Program's types: a primal name and its
    adjoint (`x_bar` has x's type; the symbolic zero 0.0 is a number too)."""
    scalars, arrays = set(), set()
    for n, t in types.items():
        if t.kind in ("float", "int"):
            scalars.update((n, f"{n}_bar"))
        elif t.kind == "array":
            arrays.update((n, f"{n}_bar"))
    return {"scalars": frozenset(scalars), "numeric": frozenset(arrays)}


# ------------------------------------------------------------------ drop_copies
def _sliced(e: Expr) -> bool:
    """A basic slice index (`1:-1`, `:, 2:`): getitem with it is a view, never a number."""
    if type(e) is Call and e.op == "slice":
        return True
    return type(e) is Call and e.op == "tuple" and bool(e.args) and all(_sliced(a) for a in e.args)


def drop_copies(body: Block, adjoints: set[str], params: set[str], arrays: frozenset[str]) -> Block:
    """`y = np.copy(X)` (X an adjoint `x` or a slice of one) becomes `y = X` where the copy
    is not needed, in three shapes:

    pair   `y = np.copy(x); x = np.copy(y)` (an adjoint relay): `y = x`, the second
           dropped, when y dies (its last read) before x or y is written again (else the
           rebind form: `y = x; x = np.copy(y)`, one copy);
    dead   x is dead after the copy (its last read; at the top level, or x is assigned
           once, in this block, before the copy, and read only after that) and neither is
           written before then;
    rebind x is rebound to a fresh value later in the block and neither is written before.

    Invariant: no value changes. y and x name distinct adjoint objects the generated code
    made (no parameter, nothing else may share them: `_may_share`; every assignment of x
    is fresh arithmetic, so it is a writable array of its own, never a broadcast view or
    the symbolic zero), and while both are alive neither is written, so sharing the object
    is not observable. Each rewrite makes x and y share: later ones leave them alone. Not
    pair or dead when x or y is later passed through `as_adjoint` (see `hides`)."""
    from .simplify import FRESH
    share = _may_share(body, arrays)
    counts: Counter = Counter()
    fresh_only: dict[str, bool] = {}
    for st in walk(body):
        if type(st) is Assign:
            counts[st.target] += 1
            v = st.value
            ok = isinstance(v, Call) and (v.op in FRESH and v.op not in ("list", "zeros_like", "np.sum") or
                                          v.op == "as_adjoint" and v.args[0] == Name(st.target))
            fresh_only[st.target] = fresh_only.get(st.target, True) and ok
    touched: set[str] = set()

    def alone(n: str) -> bool:
        return n in adjoints and n not in params and n not in touched and share.get(n, {n}) <= {n}

    def span_clean(stmts: list, lo: int, hi: int, names: set[str]) -> bool:
        """No statement at positions lo..hi (inclusive) writes any of names (deep)."""
        return all(u is None or type(u) is Comment or names.isdisjoint(_deep_writes(u))
                   for u in stmts[lo:hi + 1])

    def last_read(stmts: list, n: str, start: int) -> int:
        last = start
        for k in range(start + 1, len(stmts)):
            u = stmts[k]
            if u is not None and n in _deep_reads(u):
                last = k
        return last

    def owned_once(stmts: list, n: str, j: int) -> bool:
        """n assigned once in the function, at a top-level statement of this block before
        j, and read nowhere but after it in this block (each trip assigns before it reads)."""
        if counts[n] != 1:
            return False
        p = next((k for k, u in enumerate(stmts[:j]) if type(u) is Assign and u.target == n), None)
        if p is None:
            return False
        reads_here = sum(_deep_reads(u).count(n) for u in stmts[p + 1:] if u is not None)
        return reads_here == total_reads[n]

    total_reads: Counter = Counter()
    for st in walk(body):
        if type(st) is not Comment:
            for n in _reads_all(st):
                total_reads[n] += 1

    def hides(stmts: list, j: int, names: set[str]) -> bool:
        """Is one of names later given to a helper returning its own object (`x = as_adjoint(x,
        u)`)? The generated code may be differentiated again (higher.py), and the transform
        reads that helper's result as a new value: sharing x before it would be missed."""
        for u in stmts[j + 1:]:
            for w in walk((u,)) if u is not None and type(u) in _COMPOUND else (u,):
                if type(w) is Assign and type(w.value) is Call and w.value.op in _OF_FIRST and (
                        w.target in names or not names.isdisjoint(names_in(w.value.args[0]))):
                    return True
        return False

    def block(blk: Block, top: bool) -> Block:
        stmts: list[Stmt | None] = [_with_blocks(st, lambda b: block(b, False)) for st in blk]
        until: dict[str, int] = {}
        for j, st in enumerate(stmts):
            if not (type(st) is Assign and type(st.value) is Call and st.value.op == "np.copy"
                    and len(st.value.args) == 1 and not st.value.kwargs):
                continue
            y, X = st.target, st.value.args[0]
            if type(X) is Name:
                x = X.id
            elif type(X) is Call and X.op == "getitem" and type(X.args[0]) is Name and _sliced(X.args[1]):
                x = X.args[0].id
                if not set(names_in(X.args[1])).isdisjoint({x, y}):
                    continue
            else:
                continue
            if x == y or not (alone(x) and alone(y) and fresh_only.get(x)) or until.get(x, -1) >= j \
                    or until.get(y, -1) >= j:
                continue
            nxt = next((k for k in range(j + 1, len(stmts)) if type(stmts[k]) is not Comment), None)
            u = stmts[nxt] if nxt is not None else None
            hidden = hides(stmts, j, {x, y})
            if not hidden and type(X) is Name and type(u) is Assign and u.target == x and u.value == Call("np.copy", (Name(y),)):
                if owned_once(stmts, y, j + 1) or counts[y] == 1 and top:  # (pair)
                    end = last_read(stmts, y, nxt)
                    if span_clean(stmts, nxt + 1, end, {x, y}):
                        stmts[j], stmts[nxt] = Assign(y, X, st.loc), None
                        touched.add(y)  # (x's object is x's again once y is dead)
                        if all(w is None or type(w) not in _COMPOUND for w in stmts[nxt + 1:end + 1]):
                            stmts[j] = None  # (and y is read as x: a relay)
                            for k in range(nxt + 1, end + 1):
                                if stmts[k] is not None:
                                    stmts[k] = _replace_use(stmts[k], y, X)
                continue
            if not hidden and (top or owned_once(stmts, x, j)):  # (dead)
                end = last_read(stmts, x, j)
                if span_clean(stmts, j + 1, end, {x, y}):
                    stmts[j] = Assign(y, X, st.loc)
                    touched.update((x, y))
                    continue
            if type(X) is Name:  # (rebind)
                for k in range(j + 1, len(stmts)):
                    w = stmts[k]
                    if w is None or type(w) is Comment:
                        continue
                    if type(w) is Assign and w.target == x and type(w.value) is Call and w.value.op in FRESH \
                            and w.value.op not in ("list", "zeros_like", "np.sum"):
                        stmts[j] = Assign(y, X, st.loc)
                        touched.add(y)
                        until[x] = k  # (x shares y's object until it is rebound at k)
                        break
                    if not {x, y}.isdisjoint(_deep_writes(w)):
                        break
        return tuple(u for u in stmts if u is not None)
    return block(body, True)
