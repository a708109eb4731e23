"""The tape: what the forward sweep keeps for the backward sweep, decided in one place.

The backward sweep reads primal values: a template's operands (``g * cos(x)``),
a loop's range, a branch's test, and values read only for their *shape or
dtype* (``as_adjoint(u_bar, u)``, ``unbroadcast(g, x)``, ``zeros_like(x)``).
Each such read must see the value the forward sweep saw at that statement,
although the forward sweep may have overwritten it since. For every primal
value read, this module makes one of three decisions:

* **recompute** (`Recompute`): the backward sweep redoes the assignment where
  it reads the result. One cost rule (`recomputable`, from the op knowledge
  in `rules.Rule.recompute`) for every assignment, whether its target is a
  temporary (`_t7`) or a name the user chose (`b = 1.0 - x[i]`): a view is
  free, up to two operations on Python numbers (over views and the values at
  hand, `0.1 * math.sin(x)`) cost about a push and a pop; a longer chain is
  stored (it would be redone at every read) -- unless it is long only because
  of recomputed operands the block reads again elsewhere: those are stored
  instead (each of their reads then costs nothing) and the value is redone
  over them (Rosenbrock: `a = x[i + 1] - x[i] * x[i]` is stored, `100.0 * a`
  redone from it). Valid while
  the statement's inputs are not overwritten, nor memory they may share written
  in place, between it and the read (same block).
* **store** the value: before an overwrite of a value the backward sweep reads,
  the forward sweep saves it (``_tape_x.append(x)`` in loops, ``_saved_x = x``
  outside) and the backward sweep restores it after that statement's adjoint.
  Only the restores that run before some read of the name, and after the last
  restore rebinding it, are kept (`Tape`); none for a loop-invariant assignment.
* **store the shape only**: an array the backward sweep reads only for its
  shape and dtype is never stored. When the types give the name one shape and
  dtype for all its values (`_static_shape`: `np.array` of a 3-element list,
  `u + kappa * lap` of u0's shape), the value at hand answers the read: nothing
  is recorded. Else a rebinding saves ``stand_in(x)`` (a read-only array of
  x's shape and dtype that holds one element, one shared object per shape; a
  tuple of arrays and numbers: one per entry); an in-place write (``x[i] = v``)
  changes neither, so it records nothing. Lists (which can grow) are stored whole.

How reverse.py uses it: while it builds the two sweeps it consults `Recompute`
(block by block) and leaves a `Site` pair (a `Save` in the forward sweep, a
`Restore` in the backward sweep) at every overwrite. `decide` then reads the
backward sweep once and returns the `Tape` fact; `record.Emit` turns each site
into push/pop, a stand-in, or nothing, as the fact says. The decision never
depends on dead-code elimination (simplify.DCE), which runs later.

Invariants: a value read by value is stored or recomputed, never a stand-in;
a value read also keeps the in-place writes through every name that may share
its memory (`Sharing`, from sharing.base_map) undone as far as it reaches; a
kept in-place restore reads its target and index like any statement; the
decisions are linear in the function's size (alias groups aside).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Mapping

from .. import rules
from .. import types as T
from ..ir import (Assign, Block, Call, Comment, Expr, ExprStmt, For, If, Name, Return, SetItem, Stmt,
                  While, all_writes, names_in, stmt_writes, walk)

# Runtime helpers that read the argument at this position only for its shape and dtype
# (adjointc/runtime.py, rules/helpers/): `np.shape`, `np.ndim`, `.dtype`, `zeros_like`.
SHAPE_ARGS: dict[str, int] = {"as_adjoint": 1, "shape_adjoint": 1, "unbroadcast": 1, "unreduce": 1,
                              "zeros_like": 0, "np.zeros_like": 0, "unpad": 1, "unreshape": 1,
                              "unconcatenate": 1, "unstack": 1, "unhstack": 1, "unvstack": 1}
# A view of its first argument has a shape that depends only on that argument's shape
# (and on the index values, which are read by value).
SHAPE_VIEWS = {"getitem", "attr:T", "np.transpose"}


# ------------------------------------------------------------------ memory
class Sharing:
    """Which names may share memory, from the primal's view/alias relation
    (sharing.base_map: name -> every name it may view, transitively)."""

    def __init__(self, bases: Mapping[str, set[str]]):
        self.bases = bases
        self.viewers: dict[str, set[str]] = {}
        for n, bs in bases.items():
            for b in bs:
                self.viewers.setdefault(b, set()).add(n)
        self._memo: dict[str, set[str]] = {}

    def shared(self, n: str) -> bool:
        return n in self.bases or n in self.viewers

    def related(self, n: str) -> set[str]:
        """The names that may share memory with n: those n views, those viewing n, and
        those viewing what n views (n itself only if it may view an earlier value of n)."""
        if n not in self._memo:
            mine = self.bases.get(n, set())
            out = set(mine) | self.viewers.get(n, set())
            for b in mine:
                out |= self.viewers.get(b, set())
            self._memo[n] = out - ({n} if n not in mine else set())
        return self._memo[n]


# ------------------------------------------------------------------ recompute
def recomputable(s: Stmt, types: Mapping[str, T.T]) -> bool:
    """The one cost rule: may the backward sweep redo `s` where it reads s's target,
    instead of the forward sweep storing it? Named and unnamed targets alike."""
    if not (isinstance(s, Assign) and isinstance(s.value, Call)):
        return False
    rule = rules.lookup(s.value.op)
    if rule is None or rule.nondiff:
        return False
    return rule.cheap_to_recompute(types.get(s.target, T.UNKNOWN))


def _operations(e: Expr) -> int:
    """The operations the backward sweep redoes to recompute e: element and slice reads
    (and the index arithmetic inside them) are not counted."""
    if not isinstance(e, Call):
        return 0
    if e.op in ("getitem", "attr:T"):
        return _operations(e.args[0]) if e.args else 0
    return 1 + sum(_operations(a) for a in e.args) + sum(_operations(v) for _, v in e.kwargs)


class Recompute:
    """The recomputable assignments of one block, valid at the statement being handled.

    `step(s)` after each statement: drops the entries s invalidates (it writes
    their target or one of their inputs, or writes in place into memory an input
    may share: `w = u; c = u[0] * 2.0; w[0] = y` drops c), then adds s if
    `recomputable` and its chain is at most two operations. A longer chain that
    fits once the recomputed operands read by more than one statement of the
    block (`uses`) are left as names drops those operands instead (they are
    stored: the backward sweep reads them anyway) and adds s over them. Entries
    are indexed by input name: a block of n statements costs O(n)."""

    def __init__(self, types: Mapping[str, T.T], sharing: Sharing, block: Block = ()):
        self.types = types
        self.sharing = sharing
        self.exprs: dict[str, Expr] = {}
        self.users: dict[str, set[str]] = {}  # input name -> entries reading it
        self.uses: dict[str, int] = {}        # name -> the statements of the block reading it
        self._last: tuple = (None, set())       # (the statement writes() was last asked about, its answer)
        for st in walk(block):
            for n in {n for e in _exprs(st) for n in names_in(e)}:
                self.uses[n] = self.uses.get(n, 0) + 1

    def writes(self, s: Stmt) -> set[str]:
        """The names s rebinds or modifies, and the names sharing memory it modifies."""
        if s is self._last[0]:  # (asked for each of s's contributions, then to step past s)
            return self._last[1]
        if type(s) is Assign:  # (a simple statement: its own writes; a rebinding shares nothing)
            out = stmt_writes(s)
        elif not isinstance(s, (For, While, If)):
            out = stmt_writes(s)
            for w in list(out):
                out |= self.sharing.related(w)
        else:
            out = set(all_writes((s,)))
            for x in walk((s,)):
                if not isinstance(x, (Assign, For)):
                    for w in stmt_writes(x):
                        out |= self.sharing.related(w)
        self._last = (s, out)
        return out

    def _forget(self, k: str) -> None:
        e = self.exprs.pop(k, None)
        if e is not None:
            for n in set(names_in(e)):
                self.users.get(n, set()).discard(k)

    def _drop(self, written: set[str]) -> None:
        # (`written` holds every name sharing memory with what s modifies, a set that grows
        # with the program: most have no entry and no users. Only those that do are visited,
        # found by C-level set intersection; the result does not depend on the order of the
        # visits, taken sorted all the same.)
        exprs, users = self.exprs, self.users
        for w in sorted((users.keys() & written) | (exprs.keys() & written)):
            readers = users.pop(w, None)
            if w in exprs:
                self._forget(w)
            if readers:
                for k in sorted(readers):
                    self._forget(k)

    def step(self, s: Stmt, writes: set[str]) -> None:
        self._drop(writes)
        if not recomputable(s, self.types):
            return
        e = self.valid_for(set()).substitute(s.value)
        if _operations(e) > 2:
            # (a longer chain is redone at every read of it: storing it costs less, unless
            # the operands making it long are read again: storing those costs the same
            # tape and saves redoing them at their own reads)
            again = {n for n in names_in(s.value)
                     if self.uses.get(n, 0) > 1 and _operations(self.exprs.get(n, Name(n))) > 0}
            e = Valid(self, set(), again).substitute(s.value)
            if not again or _operations(e) > 2:
                return
            for n in sorted(again):
                self._forget(n)
        self.exprs[s.target] = e
        for n in set(names_in(e)):
            self.users.setdefault(n, set()).add(s.target)

    def valid_for(self, writes: set[str]) -> "Valid":
        """Entries valid while the backward sweep handles a statement writing `writes`:
        the statement's targets still hold their new values then, so none may be read."""
        return Valid(self, writes)


@dataclass
class Valid:
    env: Recompute
    writes: set[str]
    keep: set[str] = field(default_factory=set)  # names left as they are

    def get(self, k: str) -> Expr | None:
        e = self.env.exprs.get(k)
        if e is None or k in self.writes or k in self.keep or (self.writes and set(names_in(e)) & self.writes):
            return None
        return e

    def substitute(self, e: Expr) -> Expr:
        """`e` with the valid entries in place of their names (a call none of whose
        arguments changes is `e` itself: it would be rebuilt equal)."""
        if type(e) is Name:
            return self.get(e.id) or e
        if type(e) is Call and (e.args or e.kwargs):
            args = tuple([self.substitute(a) for a in e.args])
            kwargs = tuple([(k, self.substitute(v)) for k, v in e.kwargs])
            if type(e.args) is tuple and type(e.kwargs) is tuple and all(
                    [x is y for x, y in zip(args, e.args)]) and all([x[1] is y[1] for x, y in zip(kwargs, e.kwargs)]):
                return e
            return Call(e.op, args, kwargs)
        return e


def loop_invariant(s: Stmt, loop_written: set[str] | None, assign_count: Mapping[str, int]) -> bool:
    """A loop statement that computes the same value on every trip (`_t = -k`: inputs
    not written in the loop, its target's only assignment) needs no recording: the
    value left after the loop is each trip's."""
    if not (isinstance(s, Assign) and loop_written is not None and assign_count.get(s.target) == 1):
        return False
    return not (set(names_in(s.value)) & loop_written)


# ------------------------------------------------------------------ sites
@dataclass(eq=False)
class Site:
    """One place where the forward sweep may have to save `name`: before `stmt`
    overwrites it (whole: a rebinding; else the slice a SetItem writes), or an
    `append` the backward sweep may have to undo (`undo`)."""
    name: str
    stmt: Stmt
    whole: bool
    in_loop: bool
    invariant: bool = False
    undo: bool = False
    index: int = 0            # its place in the order the reverser made the sites (the key of facts)
    undefined: bool = False   # the name may be unbound there (the save needs `x = None` first)


@dataclass(eq=False)
class Save:
    """Placeholder in the forward sweep (before the overwrite), replaced by reverse.py."""
    site: Site


@dataclass(eq=False)
class Restore:
    """Placeholder in the backward sweep (after the statement's adjoint)."""
    site: Site


# ------------------------------------------------------------------ the fact
VALUE, SHAPE, NOTHING = "value", "shape", "nothing"
_NUMBERS = ("float", "int", "bool", "complex")


def _fixed_shape(t: T.T) -> bool:
    """Can `stand_in` keep what a shape read needs, and no in-place write change it? An
    array, or a tuple of arrays and numbers (a list may grow: it is stored whole)."""
    if t.kind == "array":
        return True
    return t.kind == "tuple" and bool(t.elts) and all(e.kind == "array" or e.kind in _NUMBERS for e in t.elts)


def _static_shape(t: T.T) -> bool:
    """Does every value the name ever holds have one shape and dtype? The type pass gives
    a name a shape of symbols only when all its assignments agree (else UNSTABLE), and a
    symbol stands for one length during a call. Then a shape read of whatever value the
    name holds in the backward sweep answers for the value the forward sweep saw (a
    name the read needs is bound then: it was before): nothing to save. (Rank 0 is
    left out: a NumPy scalar and a 0-d array answer differently.)"""
    if t.kind == "array":
        return bool(t.rank) and isinstance(t.shape, tuple) and t.dtype is not None
    return t.kind == "tuple" and bool(t.elts) and all(_static_shape(e) or e.kind in _NUMBERS for e in t.elts)


@dataclass
class Tape:
    """The tape pass's result: which overwrites of the primal the backward sweep needs undone.

    Positions number the backward sweep's statements in order (nested ones
    included). A restore at position r runs before a read at p when r < p, or
    when both sit in one loop of the backward sweep (a later trip): so a read
    needs the restores in [start, reach). Its *reach* is its position, or the
    end of the outermost backward loop holding it. Its *start* is 0, or the
    position of a whole restore of the name that runs before it on every path
    with no loop between them, or of the backward `for` header binding it (it
    rebinds the name to the very object the read needs: the name's restores
    before it wrote into objects it no longer holds).

    value[x] / shape[x]: {start: furthest reach} of the reads of x by value / for
      its shape or dtype only; memory[x]: the furthest reach of a value read of a
      name sharing memory with x (an in-place write through x changes it);
    restore_at[site.index]: the position of each site's restore.
    A site whose restore some value read needs is VALUE (saved and restored);
    else one some shape read needs: SHAPE (a rebinding of a name whose shape
    may change saves a stand-in; one of a name of one known shape, and an
    in-place write, change no shape and save NOTHING); else NOTHING."""
    value: dict[str, dict[int, int]] = field(default_factory=dict)
    shape: dict[str, dict[int, int]] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    restore_at: dict[int, int] = field(default_factory=dict)
    kinds: Mapping[str, T.T] = field(default_factory=dict)
    # (_needs' index of a name's many spans, by id of its spans: starts ascending, the
    # furthest reach up to each; decide drops an entry when it widens those spans)
    _index: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict, repr=False, compare=False)

    def _needs(self, spans: dict[int, int] | None, r: int) -> bool:
        """Does a read with one of these spans [start, reach) need the restore at r?"""
        if not spans:
            return False
        if len(spans) <= 8:
            return any(start <= r < reach for start, reach in spans.items())
        # (a name read by many statements after many rebindings has a span per rebinding:
        # scanning them all at each of its sites made the decisions quadratic)
        index = self._index.get(id(spans))
        if index is None:
            starts = sorted(spans)
            furthest, m = [], -1
            for st in starts:
                reach = spans[st]
                if reach > m:
                    m = reach
                furthest.append(m)
            index = self._index[id(spans)] = (starts, furthest)
        k = bisect_right(index[0], r)  # (the spans starting at or before r)
        return k > 0 and index[1][k - 1] > r

    def decision(self, site: Site) -> str:
        r = self.restore_at.get(site.index, -1)
        if r < 0:
            return NOTHING
        v = site.name
        in_memory = r < self.memory.get(v, -1)
        if site.undo:  # a list the backward sweep reads at all: undo its appends
            return VALUE if (in_memory or self._needs(self.value.get(v), r)
                             or self._needs(self.shape.get(v), r)) else NOTHING
        if site.invariant:
            return NOTHING
        if self._needs(self.value.get(v), r) or (in_memory and not site.whole):
            return VALUE
        if self._needs(self.shape.get(v), r):
            kind = self.kinds.get(v, T.UNKNOWN)
            if not _fixed_shape(kind):
                return VALUE  # (a list, or a tuple holding one, can change its length)
            return SHAPE if site.whole and not _static_shape(kind) else NOTHING
        return NOTHING


def _exprs(s: Stmt) -> list[Expr]:
    if isinstance(s, Assign):
        return [s.value]
    if isinstance(s, SetItem):
        return [s.index, s.value]
    if isinstance(s, (ExprStmt, Return)):
        return [s.value]
    if isinstance(s, For):
        return [s.iter]
    if isinstance(s, (While, If)):
        return [s.test]
    return [e for e in (getattr(s, "index", None), getattr(s, "value", None)) if e is not None]


def reads(e: Expr, value: set[str], shape: set[str], shape_pos: bool = False) -> None:
    """Add the names `e` reads by value to `value`, those read for their shape to `shape`."""
    if isinstance(e, Name):
        (shape if shape_pos else value).add(e.id)
    elif isinstance(e, Call):
        if shape_pos and e.op in SHAPE_VIEWS and e.args:
            reads(e.args[0], value, shape, True)
            for a in e.args[1:]:
                reads(a, value, shape)
            return
        k = SHAPE_ARGS.get(e.op)
        for i, a in enumerate(e.args):
            reads(a, value, shape, i == k)
        for _, a in e.kwargs:
            reads(a, value, shape)


Entry = list  # [value reads {name: start}, shape reads {name: start}, reach, position]


class _Scan:
    """One walk of the backward sweep: positions, reads with their start and reach,
    and the loops/branches that hold nothing but restores (they read their range or
    test only if one of those restores is kept)."""

    def __init__(self) -> None:
        self.pos = 0
        self.restore_at: dict[int, int] = {}
        self.sites: dict[int, Site] = {}
        self.restore_reads: dict[int, Entry] = {}  # an in-place restore's own reads, if kept
        self.reads: list[Entry] = []
        self.pending: list[tuple[list[int], Entry]] = []
        self.open: list[Entry] = []       # entries inside the outermost loop being read
        self.rebound: list[dict[str, int]] = []  # per enclosing block: whole restores so far

    def entry(self, e: list[Expr], reach: int) -> Entry:
        value: set[str] = set()
        shape: set[str] = set()
        for x in e:
            reads(x, value, shape)
        ent = [{n: self.start(n) for n in value}, {n: self.start(n) for n in shape}, reach, self.pos]
        if reach == -1:
            self.open.append(ent)
        return ent

    def start(self, n: str) -> int:
        for scope in reversed(self.rebound):  # (the innermost block first)
            if n in scope:
                return scope[n]
        return 0

    def block(self, b: Block, in_loop: bool, loop_scope: bool = False,
              binds: str | None = None) -> tuple[bool, list[int]]:
        """(holds a real statement, the sites restored in it). A loop body starts a
        fresh chain: nothing before the loop runs between two of its trips; a `for`
        header rebinds its target (`binds`) before every trip."""
        real, sites = False, []
        outer = self.rebound
        if loop_scope:
            self.rebound = []
        self.rebound.append({binds: self.pos} if binds else {})
        for s in b:
            self.pos += 1
            if isinstance(s, Restore):
                self.restore_at[s.site.index] = self.pos
                self.sites[s.site.index] = s.site
                sites.append(s.site.index)
                if s.site.whole and not s.site.undo:
                    if not s.site.invariant:
                        self.rebound[-1][s.site.name] = self.pos
                else:  # (`v[i] = popped` needs v bound to the right object, and i's value)
                    index = [Name(s.site.name)] + ([s.site.stmt.index] if not s.site.undo else [])
                    self.restore_reads[s.site.index] = self.entry(index, -1 if in_loop else self.pos)
                continue
            if isinstance(s, (Save, Comment)):
                continue
            here = self.pos
            if isinstance(s, (For, While, If)):
                ent = self.entry(_exprs(s), here if not in_loop else -1)  # (a range is read once)
                loop = isinstance(s, (For, While))
                target = s.target if isinstance(s, For) else None
                if loop and not in_loop:
                    r1, s1 = self.block(s.body, True, True, target)
                    for e in self.open:  # reads inside this loop reach its end
                        e[2] = self.pos + 1
                    self.open = []
                else:
                    r1, s1 = self.block(s.body, in_loop, loop, target)
                r2, s2 = self.block(s.orelse, in_loop) if isinstance(s, If) else (False, [])
                if r1 or r2:
                    self.reads.append(ent)
                    real = True
                else:
                    self.pending.append((s1 + s2, ent))
                sites += s1 + s2
                continue
            real = True
            self.reads.append(self.entry(_exprs(s), -1 if in_loop else here))
        self.rebound.pop()
        self.rebound = outer if loop_scope else self.rebound
        return real, sites


def decide(backward: Block, extra: list[Expr], types: Mapping[str, T.T],
           bases: Mapping[str, set[str]]) -> Tape:
    """Read the backward sweep once (`extra`: expressions evaluated after it, the
    gradients returned) and decide every site (see `Tape`).

    `bases`: the primal's view/alias relation (sharing.base_map). A value read of n
    needs n's memory unchanged: the writes through a name n views, or through a name
    viewing n, are undone as far as n's reads reach. A shape read needs only the
    shape, which in-place writes never change: it does not spread over memory."""
    scan = _Scan()
    scan.block(backward, False)
    end = scan.pos + 1
    sharing = Sharing(bases)
    value: dict[str, dict[int, int]] = {}
    shape: dict[str, dict[int, int]] = {}

    index: dict[int, tuple[list[int], list[int]]] = {}  # (Tape._needs' index: stale once widened)

    def widen(spans: dict[str, dict[int, int]], n: str, start: int, reach: int) -> bool:
        sp = spans.setdefault(n, {})
        if sp.get(start, -1) < reach:
            sp[start] = reach
            index.pop(id(sp), None)
            return True
        return False

    memory: dict[str, int] = {}

    def add(ent: Entry) -> None:
        # After a rebinding restore in the same trip, a read of n needs only n's restores
        # between the two (it reaches its own position, not the end of its loop): the
        # earlier ones wrote into objects n no longer holds. The in-place writes through
        # names sharing n's memory are undone as far as the read reaches (through n
        # itself too when n may view an earlier value of itself).
        vals, shapes, reach, here = ent
        for n, start in vals.items():
            widen(value, n, start, here) if start else widen(value, n, 0, reach)
            if sharing.shared(n) and shared.get(n, -1) < reach:
                shared[n] = reach
                dirty.add(n)
        for n, start in shapes.items():
            widen(shape, n, start, here) if start else widen(shape, n, 0, reach)

    shared: dict[str, int] = {}  # a name sharing memory -> the furthest reach of its value reads
    dirty: set[str] = set()

    def spread() -> None:  # (once per name and round: linear unless alias groups are huge)
        for n in sorted(dirty):
            for m in sharing.related(n):
                if memory.get(m, -1) < shared[n]:
                    memory[m] = shared[n]
        dirty.clear()

    for ent in scan.reads:
        add(ent)
    for e in extra:
        add([{n: 0 for n in _names(e, False)}, {n: 0 for n in _names(e, True)}, end, end])
    facts = Tape(value, shape, memory, scan.restore_at, types, index)
    pending = [(ids, ent) for ids, ent in scan.pending]
    pending += [([i], ent) for i, ent in scan.restore_reads.items()]
    while True:  # kept restores read too; a loop or branch kept for them reads its range or test
        spread()
        keep, grown = [], False
        for ids, ent in pending:
            if any(facts.decision(scan.sites[i]) != NOTHING for i in ids):
                add(ent)
                grown = True
            else:
                keep.append((ids, ent))
        pending = keep
        if not grown:
            return facts


def _names(e: Expr, shape_only: bool) -> set[str]:
    value: set[str] = set()
    shape: set[str] = set()
    reads(e, value, shape)
    return shape if shape_only else value
