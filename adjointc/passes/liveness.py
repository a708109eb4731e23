"""Dead-code elimination of the adjoint: liveness over both sweeps.

`dce(body, keep, bases, holders)` deletes generated statements whose target is
dead, repeatedly, until a round deletes nothing. A loop's live set is a fixpoint
(live after an iteration: after the loop, or the next iteration). What is
recorded is decided by passes/tape.py; a recording dies here only with its last
restore. The user's own statements (`keep`, by sid) are never deleted. A `# line N`
comment left with no statement of its own goes too (as `drop_orphan_comments`).

Liveness is of names and of memory: reading `n` needs n's binding and the memory
of everything n may view (marked MEM + base), so that a write into that memory
(`v[0] = ...`, `x_bar[i] += g`) stays while a name sharing it is live.

Invariants: never changes a value the program returns; deterministic; the result
is the same whatever the order the sets are built in.

Speed: a loop's live set is found by passes over its body until it no longer grows
(most loops of an adjoint take two or three). Each pass also collects the names
whose liveness decided one of its deletions (`loop`); a pass whose additions are
none of them is the last, without the confirming pass over the whole body (a
statement it kept stays kept when more is live).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Comment, ExprStmt, For, If, Name, Return, SetItem,
                  Stmt, While, names_in, stmt_reads, with_bodies)

MEM = "\0mem:"  # liveness marker: the memory a live name may view (see DCE.live_add)


def partial_target(s: Stmt) -> str | None:
    """The variable whose value (or memory) `s` changes without rebinding it, if any."""
    if isinstance(s, (SetItem, AugSetItem, AugAssign)):
        return s.target
    if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.args \
            and isinstance(s.value.args[0], Name) and s.value.op in ("method:append", "method:pop", "np.add.at"):
        return s.value.args[0].id
    return None


def _pops(s: Assign) -> bool:
    """`v = L.pop()`: an assignment that also changes the list L."""
    v = s.value
    return type(v) is Call and v.op == "method:pop" and bool(v.args) and isinstance(v.args[0], Name)


class DCE:
    def __init__(self, keep: set[int], bases: dict[str, set[str]],
                 holders: dict[str, set[str]] | None = None):
        self.keep = keep
        self.bases = bases
        self.holders = holders or {}  # name -> the tuples holding its object (`v = t[1]`: t)
        self.changed, self.capped = False, False  # (capped: a loop's fixpoint gave up)
        self.emptied = False  # (a loop or `if` kept for its sid with nothing left in it: see `dce`)
        # (while a pass over a loop's body runs: the names whose liveness decided a deletion
        # in it, see `loop`; RETURN among them when it holds a return)
        self.decisive: set[str] | None = None
        self.viewers: dict[str, set[str]] = {}
        for n, bs in bases.items():
            for b in bs:
                self.viewers.setdefault(b, set()).add(n)
        self._related: dict[str, set[str]] = {}
        self._mem: dict[str, frozenset[str]] = {}

    def live_add(self, L: set[str], names: Iterable[str]) -> None:
        """Reading n needs n's binding, and the memory of everything n may view
        (marked MEM + base: a write into that memory matters, a rebinding does not)."""
        for n in names:
            L.add(n)
            mem = self._mem.get(n)
            if mem is None:
                mem = self._mem[n] = frozenset(MEM + b for b in self.bases.get(n, ()))
            if mem:
                L |= mem

    def block(self, b: Block, L: set[str]) -> tuple[list[Stmt], set[str]]:
        # (the block's own copy of L, updated in place statement by statement: linear time;
        # the kept statements collected last first, then put in order)
        out: list[Stmt] = []
        L = set(L)
        keep = self.keep
        decisive = self.decisive
        mem_of = self._mem
        for s in reversed(b):
            if type(s) is Assign:  # (`stmt`'s first case, inline: most statements are assignments)
                if s.target not in L and s.sid not in keep:
                    if decisive is not None:
                        decisive.add(s.target)
                    if _pops(s):  # (the list it pops may still be read: `stmt` decides)
                        r, L = self.stmt(s, L)
                        out.extend(reversed(r))
                        continue
                    self.changed = True
                    continue
                L.discard(s.target)
                for n in names_in(s.value):  # (live_add, inline)
                    L.add(n)
                    mem = mem_of.get(n)
                    if mem is None:
                        mem = mem_of[n] = frozenset(MEM + x for x in self.bases.get(n, ()))
                    if mem:
                        L |= mem
                out.append(s)
                continue
            if type(s) is Comment:  # (as `stmt` would: kept, nothing read)
                if not out or type(out[-1]) is Comment:  # (out[-1]: the kept statement after s)
                    if s.text.startswith("line "):
                        continue  # (an orphan, as drop_orphan_comments would drop it)
                out.append(s)
                continue
            r, L = self.stmt(s, L)
            out.extend(reversed(r))
        out.reverse()
        return out, L

    def related(self, t: str) -> set[str]:
        """The variables (and memory, MEM + name) sharing memory with `t`: views of t,
        those t views (`v = _t1`, then `v[0] = ...` writes _t1's memory), siblings
        (`a = b = x * 1.0`: both are _t1), the tuples holding t's object."""
        rel = self._related.get(t)
        if rel is None:
            mine = {t} | self.bases.get(t, set())
            rel = set(mine).union(*(self.viewers.get(m, ()) for m in mine)) | {MEM + m for m in mine}
            rel |= self.holders.get(t, set())  # (a later read of the tuple reads t's object too)
            self._related[t] = rel
        return rel

    def aliased_live(self, t: str, L: set[str]) -> bool:
        """Does some live variable (or live memory) share memory with `t`? Then writing
        t's memory matters."""
        return not L.isdisjoint(self.related(t))

    def stmt(self, s: Stmt, L: set[str]) -> tuple[list[Stmt], set[str]]:
        """Updates L (the calling block's) in place; returns the live set before s."""
        removable = s.sid not in self.keep  # (keep: sids; a statement the transform made has sid 0)
        decisive = self.decisive
        if isinstance(s, Assign):
            # rebinding a name never changes memory: only a later read of the name keeps it
            if removable and s.target not in L:
                if decisive is not None:
                    decisive.add(s.target)
                self.changed = True
                if _pops(s):  # `v = L.pop()`, v dead: the pop still changes L (a tape, a list)
                    return self.stmt(ExprStmt(s.value, s.loc), L)
                return [], L
            L.discard(s.target)
            self.live_add(L, names_in(s.value))
            return [s], L
        t = partial_target(s)
        if t is not None:
            if removable and not self.aliased_live(t, L):
                if decisive is not None:
                    decisive |= self.related(t)
                self.changed = True
                return [], L
            self.live_add(L, stmt_reads(s))
            return [s], L
        if isinstance(s, If):
            b1, L1 = self.block(s.body, L)
            b2, L2 = self.block(s.orelse, L)
            if _empty(b1) and _empty(b2):
                if removable:
                    self.changed = True
                    return [], L
                self.emptied = True
            L = L1 | L2
            self.live_add(L, names_in(s.test))
            return [replace(s, body=tuple(b1), orelse=tuple(b2))], L
        if isinstance(s, (For, While)):
            if decisive is not None and isinstance(s, For):
                decisive.add(s.target)
            return self.loop(s, L, removable)
        if isinstance(s, Return):
            if decisive is not None:
                decisive.add(RETURN)
            L = set()
            self.live_add(L, names_in(s.value))
            return [s], L
        if isinstance(s, ExprStmt):
            self.live_add(L, names_in(s.value))
            return [s], L
        return [s], L

    def loop(self, s: For | While, L: set[str], removable: bool) -> tuple[list[Stmt], set[str]]:
        # live after an iteration: after the loop, or the next iteration (and a while's test)
        test = set(names_in(s.test)) if isinstance(s, While) else set()
        Lh = set(L) | test
        outer = self.decisive
        changed = self.changed  # (the fixpoint's passes see partial live sets: what they
        emptied = self.emptied  # drop or leave empty says nothing; only the final pass's count)
        for _ in range(50):
            self.changed, self.emptied = False, emptied
            capped = self.capped
            decisive = self.decisive = set()  # (this pass's)
            body, Lb = self.block(s.body, Lh)
            nL = L | Lb | test
            if nL == Lh:
                break  # (that pass saw the final live set: it is the final pass)
            added = nL - Lh
            if RETURN not in decisive and self.capped == capped and decisive.isdisjoint(added):
                # No name added decided a deletion of this pass: the pass from nL would make
                # this pass's decisions (a statement kept stays kept with more live), and its
                # live set at the body's start would be this one's plus the names added that
                # some path through the body does not rebind. It is the final pass.
                Lb |= added - _rebound(body, added)
                Lh = nL
                break
            Lh = nL
        else:
            self.changed, self.capped, self.emptied = False, True, emptied
            decisive = self.decisive = set()
            body, Lb = self.block(s.body, Lh)
        self.decisive = outer
        if outer is not None:  # (what decided the final pass decides the enclosing loop's pass)
            outer |= decisive
        self.changed = changed or self.changed
        if _empty(body):
            if removable:
                self.changed = True
                return [], L
            self.emptied = True
        if isinstance(s, For):  # the header binds the target before every iteration
            L = L | (Lb - {s.target})
            self.live_add(L, names_in(s.iter))
            return [replace(s, body=tuple(body))], L
        L = Lh | Lb
        self.live_add(L, names_in(s.test))
        return [replace(s, body=tuple(body))], L


def _empty(b: list[Stmt]) -> bool:
    """Nothing but comments (DCE.block drops those that are `# line N` comments with no
    statement of their own)."""
    return all(type(s) is Comment for s in b)


RETURN = "\0return"  # (among a loop's decisive names when its body holds a return)


def _rebound(b: Block, names: set[str]) -> set[str]:
    """Those of `names` that every path through b rebinds (after which liveness drops them):
    an assignment; an `if` whose two branches do (a loop may run no trip)."""
    out: set[str] = set()
    for s in b:
        t = type(s)
        if t is Assign:
            if s.target in names:
                out.add(s.target)
        elif t is If:
            out |= _rebound(s.body, names) & _rebound(s.orelse, names)
        elif t is Return:  # (never met: a body with a return takes no shortcut)
            return set(names)
    return out


def dce(body: Block, keep: set[int], bases: dict[str, set[str]],
        holders: dict[str, set[str]] | None = None) -> Block:
    """`keep`: sids of statements never deleted (ir.py: sid 0 is never kept);
    `bases`: the view/alias relation of the primal program (see passes/sharing.py);
    `holders`: name -> the tuples holding its object, which `bases` leaves out."""
    for _ in range(20):
        d = DCE(keep, bases, holders)
        out, _ = d.block(body, set())
        body = tuple(out)
        # (another round, when no loop fixpoint capped, would delete nothing: liveness grows with
        # the live set, so a backward pass is exact; unless an empty `if` or loop kept for its sid
        # lost it, `emptied`: a round rebuilds it)
        if not d.changed or not d.capped and not d.emptied:
            break
    return body  # (DCE.block drops the orphaned `# line N` comments as it goes)


def drop_orphan_comments(b: Block) -> Block:
    """b without the `# line N` comments left with no statement of their own (followed by
    another comment or by the end of their block), nested blocks too."""
    out: list[Stmt] = []
    n = len(b)
    for i, s in enumerate(b):
        t = type(s)  # (no class derives from a statement class)
        if t is Comment:
            if s.text.startswith("line "):
                nxt = b[i + 1] if i + 1 < n else None
                if nxt is None or type(nxt) is Comment:
                    continue
        elif t is If or t is For or t is While:
            s = with_bodies(s, drop_orphan_comments)
        out.append(s)
    return tuple(out)
