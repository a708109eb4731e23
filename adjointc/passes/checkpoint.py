"""Checkpointed loops: the adjoint of a long loop in bounded memory.

Store-all (what the reverse pass builds) records every trip of a loop in the forward
sweep and pops the records in the backward sweep: memory grows with the trip count.
A checkpointed loop records nothing in the forward sweep. It keeps snapshots of the
loop-carried state at the trips a schedule names (adjointc/checkpointing.py: binomial,
at most K), and its backward sweep, for each trip from the last down, restores the
latest snapshot, recomputes the plain trips up to that trip, runs the trip *recorded*
(the store-all forward body: its pushes) and at once backpropagates through it (the
store-all backward body: its pops). Each trip's pushes and pops are the store-all
ones in the same order, so the gradient is the store-all gradient.

    forward sweep                          backward sweep
    _ckpt1 = Checkpoints(len(_range1), K)  for _step1 in reversed(range(len(_range1))):
    for _step1, n in enumerate(_range1):       u, = _ckpt1.restore(_step1)
        if _step1 == _ckpt1.next:              for _redo1 in range(_ckpt1.restored, _step1):
            _ckpt1.save(_step1, (u,))              (save if _redo1 == _ckpt1.next; the plain trip)
        (the plain trip)                       n = _range1[_step1]
                                               (the recorded trip; its backward)

The loop-carried state is what a trip reads before writing it (its upward-exposed
reads, the tape pushes' reads included) among what the loop writes. What a trip reads
and the loop does not write is the same at every trip, unless the code after the loop
rebinds it: such values are kept once (`_entry1`) and put back before the backward
loop. A `while` loop (the trip count known when it ends) gets the online schedule.

The rewrite runs on the cleaned adjoint (after passes/cleanup.py), because it
duplicates the loop's forward body: cleanup's folds assume one definition per
temporary. It runs only where a checkpoint is asked for (grad(..., checkpoints=K) for
the outermost loops, or a `# adjointc: checkpoint K` comment on a loop's line or the
line above it); what it cannot do safely it refuses, naming the loop.

Invariants: a loop without a directive and without the default is printed as before;
the pushes and pops of a recorded trip are exactly the store-all ones.
"""
from __future__ import annotations

import linecache
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .. import types as T
from ..errors import UnsupportedSyntax
from ..ir import (Assign, AugAssign, AugSetItem, Block, Break, Call, Comment, Const, Continue, Expr, ExprStmt,
                  For, Function, If, Loc, Name, Return, SetItem, Stmt, While, all_writes, backward_start, calls_in,
                  names_in, stmt_reads, stmt_writes, substitute, sweep_of, walk, with_bodies)
from .liveness import drop_orphan_comments

_DIRECTIVE = re.compile(r"#\s*adjointc\s*:\s*(no[ -]checkpoints?|checkpoints?\b\s*(?:=\s*)?(\S+)?)", re.I)
_FRESH = {"np.zeros", "np.zeros_like", "np.ones", "np.ones_like", "np.empty", "np.empty_like", "np.full",
          "np.full_like", "np.copy", "method:copy", "np.array", "zeros_like"}
_OK_KINDS = {"float", "int", "bool", "complex", "array", "none", "tuple"}


@dataclass(frozen=True)
class Request:
    """How to checkpoint one loop: K snapshots (an int or "auto"), or a memory budget."""
    snapshots: int | str | None = None
    memory: int | None = None

    def args(self) -> tuple[tuple, tuple]:
        if self.memory is not None:
            return (Const(None),), (("memory", Const(self.memory)),)
        return (Const(self.snapshots),), ()


def parse_memory(text: Any) -> int:
    """`memory="200MB"` (or an int of bytes) -> bytes."""
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*", str(text), re.I)
    if not m:
        raise ValueError(f"memory={text!r} is not a size: give bytes (an int) or e.g. '200MB', '1.5GB'")
    unit = m.group(2).lower().rstrip("b").rstrip("i")
    scale = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}[unit]
    if "i" in m.group(2).lower():
        scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[unit]
    return int(float(m.group(1)) * scale)


def request_of(checkpoints: Any = None, memory: Any = None) -> Request | None:
    """The default request of grad(..., checkpoints=, memory=), validated (ValueError)."""
    if isinstance(checkpoints, Request):  # (a caller's, handed to its callees)
        return checkpoints
    if memory is not None:
        return Request(memory=parse_memory(memory))
    if checkpoints is None or checkpoints is False:
        return None
    if checkpoints == "auto":
        return Request("auto")
    if isinstance(checkpoints, bool) or not isinstance(checkpoints, int) or checkpoints < 1:
        raise ValueError(f"checkpoints={checkpoints!r}: give the number of snapshots (an int >= 1), "
                         "'auto', or memory='200MB'")
    return Request(int(checkpoints))


def directive(loc: Loc) -> Request | str | None:
    """The `# adjointc: checkpoint K|auto|memory=200MB` (or `no checkpoint`) comment on a
    loop's line or on the comment line just above it; "none" for `no checkpoint`."""
    for line in (loc.line, loc.line - 1):
        text = linecache.getline(loc.file, line) if line > 0 else ""
        if line != loc.line and not text.lstrip().startswith("#"):
            continue
        m = _DIRECTIVE.search(text)
        if not m:
            continue
        if m.group(1).lower().startswith("no"):
            return "none"
        arg = (m.group(2) or "auto").strip()
        try:
            if arg.lower().startswith("memory="):
                return Request(memory=parse_memory(arg.split("=", 1)[1]))
            return request_of(int(arg) if arg.isdigit() else arg.lower())
        except ValueError as e:
            raise UnsupportedSyntax(f"cannot read the checkpoint directive: {e}", Loc(loc.file, line),
                                    "write `# adjointc: checkpoint 20`, `checkpoint auto` or "
                                    "`checkpoint memory=200MB` on the loop's line") from None
    return None


def refuse(loop: Stmt, why: str, hint: str) -> UnsupportedSyntax:
    return UnsupportedSyntax(f"cannot checkpoint the loop at line {loop.loc.line}: {why}", loop.loc, hint)


# ------------------------------------------------------------------ the analysis
def exposed_reads(block: Block) -> list[str]:
    """Names a trip of `block` may read before writing them, in order of first read: what
    a trip needs from the trips before it (or from before the loop)."""
    out: dict[str, None] = {}
    _exposed(block, set(), out)
    return list(out)


def _exposed(block: Block, defined: set[str], out: dict[str, None]) -> set[str]:
    """Adds block's exposed reads given `defined`; returns what it surely defines."""
    defined = set(defined)
    for s in block:
        for n in _header_reads(s):
            if n not in defined:
                out.setdefault(n, None)
        if isinstance(s, If):
            d1 = _exposed(s.body, defined, out)
            d2 = _exposed(s.orelse, defined, out)
            defined |= d1 & d2
        elif isinstance(s, (For, While)):
            _exposed(s.body, defined | ({s.target} if isinstance(s, For) else set()), out)
        elif isinstance(s, Assign) and not s.aug:
            defined.add(s.target)
    return defined


def _header_reads(s: Stmt) -> list[str]:
    r = stmt_reads(s)
    if isinstance(s, Assign) and s.aug:
        r = r | {s.target}
    return sorted(r)


def in_place_targets(block: Block) -> set[str]:
    """Names whose object a statement of `block` modifies (an item write, `+=` on an
    array, a mutating call's first argument)."""
    out: set[str] = set()
    for s in walk(block):
        if isinstance(s, (SetItem, AugSetItem, AugAssign)) or (isinstance(s, Assign) and s.aug):
            out.add(s.target)
        elif isinstance(s, ExprStmt):
            out |= stmt_writes(s)
    return out


def is_push(s: Stmt, tapes: set[str]) -> bool:
    return (isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append"
            and isinstance(s.value.args[0], Name) and s.value.args[0].id in tapes)


def plain(block: Block, tapes: set[str], live: set[str]) -> Block:
    """The trip without its recordings, and without what only they read."""
    def strip(b: Block) -> Block:
        return tuple(with_bodies(s, strip) for s in b if not is_push(s, tapes))
    body = strip(block)
    while True:  # (a dead assignment's reads may make another one dead)
        reads = set(live)
        for s in walk(body):
            reads |= set(_header_reads(s)) if not isinstance(s, Assign) or s.aug else set(names_in(s.value))
        pruned = _prune(body, reads)
        if pruned == body:
            return drop_orphan_comments(body)
        body = pruned


def _prune(b: Block, reads: set[str]) -> Block:
    out: list[Stmt] = []
    for s in b:
        if isinstance(s, Assign) and s.target not in reads and _pure(s.value):
            continue
        s = with_bodies(s, lambda b: _prune(b, reads))
        if isinstance(s, If) and not s.body and not s.orelse:
            continue
        out.append(s)
    return tuple(out)


def _pure(e: Any) -> bool:
    return not any(isinstance(c, Call) and c.kind in ("user", "user_method", "method")
                   for c in calls_in(e))


def _fresh_defs(block: Block) -> set[str]:
    return {s.target for s in block if isinstance(s, Assign) and isinstance(s.value, Call)
            and s.value.op in _FRESH}


# ------------------------------------------------------------------ the rewrite
class Rewriter:
    def __init__(self, fn: Function, default: Request | None, types: Mapping[str, T.T], stats: bool = False):
        self.fn, self.default, self.types, self.stats = fn, default, types, stats
        self.made: list[str] = []  # the Checkpoints objects made (statistics builds report them)
        self._taken: set[str] | None = None
        self.counters: dict[str, int] = {}

    @property
    def taken(self) -> set[str]:
        """Every name the adjoint reads or writes, and its parameters (found when a first
        name is made: most adjoints have no loop to checkpoint)."""
        if self._taken is None:
            fn = self.fn
            self._taken = {n for s in walk(fn.body) for n in stmt_writes(s) | stmt_reads(s)}
            self._taken |= {p.name for p in fn.params}
        return self._taken

    def fresh(self, hint: str) -> str:
        while True:
            self.counters[hint] = k = self.counters.get(hint, 0) + 1
            name = f"_{hint}{k}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def run(self) -> Function:
        body = self.fn.body
        k = backward_start(body)
        fwd_start = next(i for i, s in enumerate(body) if sweep_of(s) == "forward")
        prologue, fwd, bwd = list(body[:fwd_start]), list(body[fwd_start + 1:k]), list(body[k + 1:])
        tapes = {s.target for s in prologue if isinstance(s, Assign) and s.target.startswith("_tape_")}
        self._check_nested(fwd)
        jobs = []
        for i, s in enumerate(fwd):
            if not isinstance(s, (For, While)):
                continue
            d = directive(s.loc)
            req = None if d == "none" else d or self.default
            if req is not None:
                jobs.append((i, s, req))
        if not jobs:
            return self.fn
        new_fwd: dict[int, list[Stmt]] = {}
        new_bwd: dict[int, list[Stmt]] = {}
        for i, loop, req in jobs:
            j = self._partner(loop, bwd)
            if j is None:
                continue  # (nothing to backpropagate through: no tape to bound)
            f, b, init = self._rewrite(loop, bwd[j], req, tapes, fwd, i, prologue, bwd)
            new_fwd[i], new_bwd[j] = f, b
            prologue += [p for p in init if p not in prologue]
        fwd = [x for i, s in enumerate(fwd) for x in new_fwd.get(i, [s])]
        bwd = [x for j, s in enumerate(bwd) for x in new_bwd.get(j, [s])]
        if self.stats and self.made:  # (the statistics build's report names the Checkpoints too)
            def named(s: Stmt) -> Stmt:
                if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "tape_report":
                    return ExprStmt(Call("tape_report", (), s.value.kwargs + tuple((c, Name(c)) for c in self.made)))
                return s
            fwd, bwd = [named(s) for s in fwd], [named(s) for s in bwd]
        fwd, bwd = self._keep_returned(fwd, bwd)
        out = tuple(prologue) + (body[fwd_start],) + tuple(fwd) + (body[k],) + tuple(bwd)
        return Function(self.fn.name, self.fn.params, out, self.fn.file, self.fn.line)

    def _keep_returned(self, fwd: list[Stmt], bwd: list[Stmt]) -> tuple[list[Stmt], list[Stmt]]:
        """The recomputation rebinds the loop's state in the backward sweep: a value the
        adjoint returns from that state (`return (s, (x_bar,))` of a loop accumulator, or
        an aux) is kept where the forward sweep ends, as the dce pass keeps one the
        backward sweep restores (cleanup.drop_value_copy), and returned from there."""
        ret = bwd[-1] if bwd else None
        if not (isinstance(ret, Return) and isinstance(ret.value, Call) and ret.value.op == "tuple"):
            return fwd, bwd
        # (the unpacking targets this pass makes, `(b,)` and `a, x`, bind each of their names)
        rebound = {n for t in all_writes(tuple(bwd[:-1])) for n in _NAME.findall(t)}
        value = ret.value.args[0]
        names = [n for n in dict.fromkeys(names_in(value)) if n in rebound]
        if not names:
            return fwd, bwd
        env: dict[str, Expr] = {}
        for n in names:
            kept = f"{n}_value" if f"{n}_value" not in self.taken else self.fresh(f"{n}_value")
            self.taken.add(kept)
            t = self.types.get(n, T.UNKNOWN)
            fwd.append(Assign(kept, Name(n) if t.is_scalar and t.kind != "array" else Call("snapshot", (Name(n),)),
                              ret.loc))
            env[n] = Name(kept)
        pair = Call("tuple", (substitute(value, env),) + ret.value.args[1:])
        return fwd, bwd[:-1] + [Return(pair, ret.loc)]

    def _check_nested(self, fwd: list[Stmt]) -> None:
        for s in fwd:
            if isinstance(s, (For, While, If)):
                for inner in walk(s.body if not isinstance(s, If) else s.body + s.orelse):
                    if isinstance(inner, (For, While)) and isinstance(directive(inner.loc), Request):
                        raise refuse(inner, "it is nested in another loop or a branch",
                                     "put the checkpoint directive on the outermost loop (its trips "
                                     "are what the schedule recomputes)")

    @staticmethod
    def _partner(loop: Stmt, bwd: list[Stmt]) -> int | None:
        """The backward sweep's loop over `loop`'s trips (top level)."""
        for j, s in enumerate(bwd):
            if not isinstance(s, For) or s.loc.line != loop.loc.line:
                continue
            if isinstance(loop, For):
                if s.iter == Call("reversed", (loop.iter,)):
                    return j
                if isinstance(s.iter, Call) and s.iter.op == "reversed" and isinstance(s.iter.args[0], Call) \
                        and s.iter.args[0].op == "getitem" and s.iter.args[0].args[0] == loop.iter:
                    counter = _counter(loop)  # (it can leave early: its trips, counted, are known at the end)
                    if counter is None or s.iter.args[0].args[1] != Call("slice", (Const(None), Name(counter.target),
                                                                                    Const(None))):
                        raise refuse(loop, "its trip count is not recorded the way the schedule needs",
                                     "drop the checkpoint for this loop")
                    return j
            elif isinstance(s.iter, Call) and s.iter.op == "range" and _counter(loop) is not None \
                    and s.iter.args == (Name(_counter(loop).target),):
                return j
        return None

    def _rewrite(self, loop: For | While, back: For, req: Request, tapes: set[str], fwd: list[Stmt],
                 at: int, prologue: list[Stmt], bwd: list[Stmt]) -> tuple[list[Stmt], list[Stmt], list[Stmt]]:
        leaves = False  # (a trip that can end early: `break`/`continue` of this loop)
        for s in _own_level(loop.body):
            if isinstance(s, Return):
                raise refuse(loop, "it contains `return`", "assign the result and `break` instead")
            leaves = leaves or isinstance(s, (Break, Continue))
        counter = _counter(loop)
        target = loop.target if isinstance(loop, For) else None
        written = {n for s in walk(loop.body) for n in stmt_writes(s)} - tapes
        body = tuple(s for s in loop.body if s is not counter)
        exposed = [n for n in exposed_reads(body) if n not in tapes and n != target]
        # a value a trip reads only to push it (the value it overwrites) matters to the backward
        # sweep only before the first trip: kept once, not in each snapshot
        read = set(exposed_reads(plain(body, tapes, set(written))))
        state = [n for n in exposed if n in written and n in read]
        pushed_only = [n for n in exposed if n in written and n not in read]
        for n in state:
            kind = self.types.get(n, T.UNKNOWN).kind
            # (a list or dict the loop changes: a snapshot would share it; other kinds the
            # types do not know are refused for user names, and taken as values for temporaries)
            if kind in ("list", "dict") or kind not in _OK_KINDS and not n.startswith("_"):
                raise refuse(loop, f"its state `{n}` is a {kind} the loop changes",
                             "checkpointing snapshots numbers and arrays: keep lists and dicts out of "
                             "the loop's state, or drop the checkpoint for this loop")
        in_place = in_place_targets(body) - tapes
        unsure = bool(in_place - _fresh_defs(body) - set(state))  # (an in-place write through a possible view)
        copies = tuple(self.types.get(n, T.UNKNOWN).kind in ("array", "unknown") and (n in in_place or unsure)
                       for n in state)
        after = tuple(fwd[at + 1:])
        rebound_after = {n for s in walk(after) for n in stmt_writes(s)}
        invariant = [n for n in exposed if n not in written and n in rebound_after]
        # live after a plain trip: what the next trip reads, and everything read outside the loop
        outside = {n for s in walk(tuple(fwd[:at] + fwd[at + 1:] + bwd)) for n in _header_reads(s)}
        header = set(names_in(loop.test)) if isinstance(loop, While) else set(names_in(loop.iter))
        live = set(state) | outside | header | ({counter.target} if counter is not None else set())
        plain_fwd = plain(loop.body, tapes, live)
        plain_redo = plain(body, tapes, live)
        recorded = body

        ck, step, redo = self.fresh("ckpt"), self.fresh("step"), self.fresh("redo")
        self.made.append(ck)
        trip_tapes = sorted({s.value.args[0].id for s in walk(recorded) if is_push(s, tapes)})
        measure = [ExprStmt(Call("method:measure", (Name(ck), *map(Name, trip_tapes))), loop.loc)] if self.stats else []
        loc = loop.loc
        state_tuple = Call("tuple", tuple(Name(n) for n in state))
        save = lambda i: If(Call("eq", (Name(i), Call("attr:next", (Name(ck),)))),  # noqa: E731
                            (ExprStmt(Call("method:save", (Name(ck), Name(i), state_tuple)), loc),), (), loc)
        how = (f"at most {req.snapshots} snapshots" if isinstance(req.snapshots, int) else
               f"snapshots within memory={req.memory} bytes" if req.memory else "snapshots chosen from the trip count")
        online = counter is not None  # (a while loop, or a for loop that can break: trips counted)
        comment = Comment(f"line {loc.line}: checkpointed loop ({'online' if online else 'binomial'} schedule, "
                          f"{how}) of its state {', '.join(state) or '(none)'}")
        args, kwargs = req.args()
        copies_arg = Call("tuple", tuple(Const(c) for c in copies))
        if online:
            steps: Any = Const(None)
            trips = Name(counter.target)
        else:
            steps = Call("len", (loop.iter,))
        make = Assign(ck, Call("Checkpoints", (steps,) + args + (copies_arg,), kwargs), loc)
        out_f: list[Stmt] = [comment, make]
        init: list[Stmt] = []
        defined = self._defined_before(fwd[:at], prologue) | {p.name for p in self.fn.params}
        init += [Assign(n, Const(None)) for n in state if n not in defined]
        kept = {}  # name of a tuple kept before the loop -> the values in it
        if invariant:
            kept[self.fresh("invariant")] = invariant
        read_later = {n for s in walk(tuple(bwd[bwd.index(back) + 1:])) for n in _header_reads(s)}
        pushed_only = [n for n in pushed_only if n in read_later]
        if pushed_only:
            kept[self.fresh("entry")] = pushed_only
        in_place_after = in_place_targets(after)
        for name, values in kept.items():
            out_f.append(Assign(name, Call("tuple", tuple(
                Call("np.copy", (Name(n),)) if n in in_place_after else Name(n) for n in values)), loc))
        if online:
            # the step index is the trip counter before its increment (the first statement)
            out_f.append(While(loop.test, (save(counter.target),) + plain_fwd, loc) if isinstance(loop, While)
                         else For(loop.target, loop.iter, (save(counter.target),) + plain_fwd, loc))
        else:
            if target in outside or target in {n for s in walk(plain_fwd) for n in _header_reads(s)}:
                out_f.append(For(f"{step}, {target}", Call("enumerate", (loop.iter,)), (save(step),) + plain_fwd, loc))
            else:
                out_f.append(For(step, Call("range", (Call("len", (loop.iter,)),)), (save(step),) + plain_fwd, loc))
        # ---- backward
        restore_target = _targets(state)
        def at_trip(i: str, trip: Block) -> list[Stmt]:  # the loop variable, where the trip reads it
            if target is None or target not in {n for s in walk(trip) for n in _header_reads(s)}:
                return []
            return [Assign(target, Call("getitem", (loop.iter, Name(i))), loc)]
        redo_loop = For(redo, Call("range", (Call("attr:restored", (Name(ck),)), Name(step))),
                        (save(redo), *at_trip(redo, plain_redo)) + plain_redo, loc)
        trip_count = trips if online else Call("len", (loop.iter,))
        if leaves:  # (a `break` in the recorded trip ends that trip, as it ended the loop)
            recorded = (Comment("(a one-trip loop: the trip's `break` ends it, as it ended the loop)"),
                        For(self.fresh("once"), Call("range", (Const(1),)), recorded, loc))
        out_b: list[Stmt] = []
        unpack = [Assign(_targets(values), Name(name), loc) for name, values in kept.items()]
        if invariant:  # (the values the trips read, as they were: code after the loop rebinds them)
            out_b.append(unpack.pop(0))
        out_b.append(For(step, Call("reversed", (Call("range", (trip_count,)),)), (
            Comment(f"line {loc.line}: the state before trip {step}: the latest snapshot, then the plain trips up to it"),
            Assign(restore_target, Call("method:restore", (Name(ck), Name(step))), loc),
            redo_loop,
            Comment(f"line {loc.line}: trip {step} recorded, then backpropagated"),
            *at_trip(step, recorded + back.body),
            *recorded,
            *measure,
            *back.body), loc))
        out_b += unpack  # (the values the trips overwrote, as they were before the loop)
        return out_f, out_b, init

    @staticmethod
    def _defined_before(before: list[Stmt], prologue: list[Stmt]) -> set[str]:
        out = {s.target for s in prologue if isinstance(s, Assign)}
        out |= {s.target for s in before if isinstance(s, (Assign, For))}
        return out


_NAME = re.compile(r"[A-Za-z_]\w*")


def _targets(names: list[str]) -> str:
    """An assignment target unpacking a tuple of these names."""
    return f"({names[0]},)" if len(names) == 1 else ", ".join(names) if names else "_"


def _own_level(block: Block) -> Iterable[Stmt]:
    """The statements of a loop body that act on that loop (not those of nested loops)."""
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _own_level(s.body)
            yield from _own_level(s.orelse)


def _counter(loop: Stmt) -> Assign | None:
    """The trip counter's increment of a while loop or a for loop that can break
    (passes/trips.py puts it first)."""
    if loop.body and isinstance(loop.body[0], Assign):
        s = loop.body[0]
        if s.target.startswith("_trips") and s.value == Call("add", (Name(s.target), Const(1))):
            return s
    return None


def run(fn: Function, default: Request | None, types: Mapping[str, T.T], stats: bool = False) -> Function:
    """Checkpoint the loops asked for (see the module docstring); others unchanged.
    `stats`: a statistics build (tape_bytes) also measures each loop's snapshots and trips."""
    return Rewriter(fn, default, types, stats).run()
