"""Cleanups that bring a generated adjoint to the hand-written limit (issue 14), run by
cleanup.run after its own: IR -> IR rewrites of the final adjoint that change no value
(up to rounding: sums reassociated, equal terms merged).

    merge_item_updates   `a[i] += E1; ...; a[i] += E2` -> `...; a[i] += E1 + E2`: one NumPy
                         item update instead of several (each is a getitem and a setitem)
    merge_terms          equal terms of an adjoint's sum merged, `g*x + g*x` -> `2 * (g*x)`
                         (the product rule's halves), and `-a * 2.0` -> `a * -2.0`
    drop_copies          `y_bar = np.copy(x_bar)` -> `y_bar = x_bar` where the sharing cannot be
                         seen (the zeros pass copies wherever an adjoint is updated in place
                         anywhere; this looks at where, and at who else may hold the object)
    increments           `u[1:-1] = u[1:-1] + E` -> `u[1:-1] += E` for a real float array u and a real
                         E (the bits are the same: NumPy adds into the view, overlap-safe; one
                         temporary array less per step of a stencil)
    dot_products         `np.sum(a * b)` -> `a @ b` in an adjoint's value, for two arrays certainly
                         1-D of one length and real (a scalar's adjoint from a vector: the
                         hand-written `g @ lap`; one BLAS call instead of a product and a sum)

What they may assume about names comes from the types pass (cleanup.kinds_of: which names
certainly hold numbers or arrays) and from `_may_share`, a flow-insensitive
over-approximation of which names may hold one object. Each is linear in the size of
the function per block (drop_copies: times the statements between a copy and its
names' last reads).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from ..ir import (Assign, AugAssign, AugSetItem, Block, Break, Call, Comment, Const, Continue, Expr, ExprStmt,
                  For, Name, Return, SetItem, Stmt, map_expr, names_in, stmt_reads, stmt_writes, walk,
                  with_bodies)
from .. import types as T
from .cleanup import _COMPOUND, _deep_reads, _deep_writes, _reads_all, _replace_use


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
        root = a
        while parent.get(root, root) != root:
            root = parent[root]
        while a != root:  # (path compression: near-linear over the whole function)
            parent[a], a = root, parent[a]
        return root

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
    frozen = {r: frozenset(g) for r, g in groups.items()}  # (one object per group, shared by its names)
    return {n: frozen[find(n)] for n in parent}


_OF_FIRST = ("as_adjoint", "unbroadcast", "unreduce")  # runtime helpers returning (a view of) args[0] or new
_BARRIERS = _COMPOUND + (Break, Continue, Return)  # (nothing moves across these, nor is scanned past them)


def merge_item_updates(b: Block, adjoints: set[str], arrays: frozenset[str] = frozenset(),
                       share: dict[str, frozenset[str]] | None = None) -> Block:
    """`a[I] += E1`, then simple statements, then `a[I] += E2` (the same index expression)
    becomes the statements, then `a[I] += E1 + E2`, for an adjoint a.

    Invariant: every value is unchanged. The statements in between neither read nor write
    a nor anything that may share its object (`_may_share`), and write nothing E1 or I
    reads, so moving the first update down to the second is not observable; E1 and E2 do
    not read a's object, so neither sees the other update. No loop or branch in between.
    (`share`: `_may_share(b, arrays)` when the caller has it: these rewrites keep it true.)"""
    share = _may_share(b, arrays) if share is None else share

    def block(blk: Block) -> Block:
        out: list[Stmt | None] = [with_bodies(st, block) for st in blk]
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
                if isinstance(u, _BARRIERS) or not group.isdisjoint(stmt_reads(u)) or \
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
    # (still arithmetic: `2*a - a` is not rewritten to the bare `a`, which would make the
    # adjoint share a's object where `_may_share` was computed without it)
    return out if type(out) is Call and out.op in ("add", "sub", "mul", "neg") else None


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

    return _map_adjoint_values(b, adjoints, fix)


def _map_adjoint_values(body: Block, adjoints: set[str], fix) -> Block:
    """`body` with `fix` (map_expr's callback) applied to the value of every assignment to
    an adjoint (`x_bar = ...`, `x_bar += ...`, `x_bar[i] += ...`), in every block."""
    def stmt(st: Stmt) -> Stmt:
        t = type(st)
        if t in _COMPOUND:
            return with_bodies(st, lambda blk: tuple(stmt(x) for x in blk))
        if t in (Assign, AugAssign, AugSetItem) and st.target in adjoints:
            v = map_expr(st.value, fix)
            if v is not st.value:
                return replace(st, value=v)
        return st
    return tuple(stmt(x) for x in body)


# ------------------------------------------------------------------ drop_copies
def _sliced(e: Expr) -> bool:
    """A basic slice index (`1:-1`, `:, 2:`): getitem with it is a view, never a number."""
    if type(e) is Call and e.op == "slice":
        return True
    return type(e) is Call and e.op == "tuple" and bool(e.args) and all(_sliced(a) for a in e.args)


def drop_copies(body: Block, adjoints: set[str], params: set[str], arrays: frozenset[str],
                share: dict[str, frozenset[str]] | None = None) -> Block:
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
    share = _may_share(body, arrays) if share is None else share
    counts: Counter = Counter()
    fresh_only: dict[str, bool] = {}
    total_reads: Counter = Counter()
    copies = False
    for st in walk(body):  # (one walk for the three)
        t = type(st)
        if t is Comment:
            continue
        for n in _reads_all(st):
            total_reads[n] += 1
        if t is Assign:
            counts[st.target] += 1
            v = st.value
            ok = isinstance(v, Call) and (v.op in FRESH and v.op not in ("list", "zeros_like", "np.sum") or
                                          v.op == "as_adjoint" and v.args[0] == Name(st.target))
            fresh_only[st.target] = fresh_only.get(st.target, True) and ok
            copies = copies or type(v) is Call and v.op == "np.copy"
    if not copies:
        return body  # (no `y = np.copy(X)` to drop)
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
        stmts: list[Stmt | None] = [with_bodies(st, lambda b: block(b, False)) for st in blk]
        if any(isinstance(w, (Break, Continue)) for w in walk(blk)):
            return tuple(stmts)  # (a jump would leave the two sharing past where they are proved dead)
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


# ------------------------------------------------------------------ dot_products
_ARITH = ("add", "sub", "mul", "truediv", "neg", "pow")  # (an ndarray operand makes an ndarray)
_UFUNCS = ("np.sin", "np.cos", "np.tan", "np.exp", "np.log", "np.sqrt", "np.tanh", "np.sinh", "np.cosh",
           "np.abs", "np.sign", "np.square")  # (of an ndarray: an ndarray of its shape)


def certain_arrays(body: Block, types: dict, oracle: Any) -> frozenset[str]:
    """The names that, wherever they are read, certainly hold an ndarray of rank >= 1.

    A primal name the types pass types so is trusted (the rest of the compiler relies on
    the same facts; its tape placeholder `None` is never read by arithmetic). An adjoint
    `x_bar` is not trusted from x's type: it may be the symbolic zero 0.0 on some path or
    trip. It is certain when every binding of it is such a value: arithmetic with one such
    operand, a NumPy ufunc of one, `np.copy` of one, a basic slice of one or of any value typed as an array
    (slicing 0.0 fails: the run never gets further), `as_adjoint(g, x)`, `unreduce(g, x)` or
    `np.zeros_like(x)` of one (runtime.py: ndarrays of x's shape). A greatest fixpoint:
    each binding is checked assuming the names it reads hold what they are claimed to,
    true by induction over the run (a name is read only after it is bound; `+=` and item
    updates of an ndarray keep it one). A loop target, a pop, a parameter of the
    generated function or any other binding: not certain."""
    def primal(n: str) -> bool:
        t = types.get(n)
        return not n.endswith("_bar") and t is not None and t.kind == "array" and bool(t.rank)
    binds: dict[str, list] = {}
    for st in walk(body):
        t = type(st)
        if t is Assign and not primal(st.target):
            binds.setdefault(st.target, []).append(st.value)
        elif t is For and not primal(st.target):
            binds.setdefault(st.target, []).append(None)
    live = set(binds)

    def sure(e: Expr) -> bool:
        t = type(e)
        if t is Name:
            return e.id in live or primal(e.id)
        if t is not Call or e.kwargs:
            return False
        op, args = e.op, e.args
        if op in _ARITH:
            return any(sure(a) for a in args)
        if op in _UFUNCS and len(args) == 1:
            return sure(args[0])
        if op == "np.copy" and len(args) == 1:
            return sure(args[0])
        if op == "getitem" and len(args) == 2 and _sliced(args[1]):
            # (a basic slice of a value typed as an array: an ndarray, or the run has already
            # failed there, slicing the symbolic zero 0.0 or a 0-d array)
            t = oracle.of(args[0])
            parts = len(args[1].args) if args[1].op == "tuple" else 1
            return sure(args[0]) or t.kind == "array" and t.rank is not None and t.rank >= parts
        if op == "np.zeros_like" and len(args) == 1:
            return sure(args[0])
        if op in ("as_adjoint", "unreduce") and len(args) >= 2:
            return sure(args[1])
        return False
    changed = True
    while changed:
        changed = False
        for n in list(live):
            if any(v is None or not sure(v) for v in binds[n]):
                live.discard(n)
                changed = True
    return frozenset(live | {n for n in types if primal(n)})


def dot_products(body: Block, adjoints: set[str], types: dict) -> Block:
    """`np.sum(a * b)` -> `a @ b` in what is assigned or added to an adjoint, where a and b
    are names certainly holding ndarrays (`certain_arrays`) that the types pass types as
    1-D, of one symbolic length and real floats (`x_bar` typed as x).

    Invariant: the value is unchanged up to rounding (a dot product sums the same products
    in another order): same dtype (numpy's result type of the two), a scalar either way;
    never where broadcasting could differ (a length-1 operand, 2-D, a number, the symbolic
    zero), nor on ints, bools or complex values (where `@` is exact but the types are not
    proved), nor in the primal's arithmetic (its value must be f's, to the bit)."""
    if not types:
        return body
    from .simplify import TypeOracle
    oracle = TypeOracle(types)
    sure: frozenset[str] | None = None  # (certain_arrays, found at the first `np.sum(a * b)`: most adjoints have none)

    def vector(e: Expr) -> T.T | None:
        nonlocal sure
        if type(e) is not Name:
            return None
        if sure is None:
            sure = certain_arrays(body, types, oracle)
        if e.id not in sure:
            return None
        t = oracle.of(e)
        ok = t.kind == "array" and t.rank == 1 and t.dtype == "f" and isinstance(t.shape, tuple)
        return t if ok else None

    def fix(e: Expr) -> Expr | None:
        if type(e) is Call and e.op == "np.sum" and len(e.args) == 1 and not e.kwargs:
            p = e.args[0]
            if type(p) is Call and p.op == "mul" and len(p.args) == 2 and not p.kwargs:
                a, b = vector(p.args[0]), vector(p.args[1])
                if a is not None and b is not None and a.shape == b.shape:
                    return Call("matmul", p.args)
        return None

    return _map_adjoint_values(body, adjoints, fix)


# ------------------------------------------------------------------- increments
def increments(body: Block, types: dict) -> Block:
    """`x[I] = x[I] + E` -> `x[I] += E` (I a basic slice, the same expression twice) where the
    types pass types x as a real float array of rank >= 1 and E as a real value (a float or
    int number or array). In the primal's statements too: x holds f's values to the bit.

    Invariant: the same bits in x. `x[I] + E` is computed in the result type of the two and
    cast into x's dtype on assignment; `x[I] += E` is np.add(x[I], E, out=x[I]), the same
    loop and the same cast (float into float: allowed by the same-kind rule), and NumPy
    copies an operand that overlaps the output first (`u[1:-1] += u[2:]` reads the old
    u[2:]), so E sees what it saw. Shapes that do not fit raise in both. Not for a complex
    or unknown E (`+=` would refuse the cast where `=` drops the imaginary part), nor an
    int, bool or complex x."""
    if not types:
        return body
    from .simplify import TypeOracle
    oracle = TypeOracle(types)

    def real(t: T.T) -> bool:
        return t.kind in ("float", "int") or t.kind == "array" and t.dtype in ("f", "i", "b")

    def stmt(st: Stmt) -> Stmt:
        t = type(st)
        if t in _COMPOUND:
            return with_bodies(st, lambda blk: tuple(stmt(x) for x in blk))
        if t is not SetItem or not _sliced(st.index):
            return st
        v = st.value
        if not (type(v) is Call and v.op == "add" and len(v.args) == 2 and not v.kwargs):
            return st
        old, e = v.args
        if old != Call("getitem", (Name(st.target), st.index)):
            return st
        xt = types.get(st.target)
        if xt is None or st.target.endswith("_bar") or xt.kind != "array" or not xt.rank or xt.dtype != "f":
            return st
        try:
            et = oracle.of(e)
        except Exception:  # (a type the oracle cannot tell, a TypeProblem: left as written)
            return st
        if not real(et):
            return st
        return AugSetItem(st.target, st.index, "add", e, st.loc)
    return tuple(stmt(x) for x in body)
