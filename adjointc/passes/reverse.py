"""The reverse-mode core: forward sweep with recording, backward sweep with
accumulation.

Input: the normalised primal IR (three-address form; a statement never
reads its own target), the set of active variables and the types. Output:
one `Function` whose body is the forward sweep followed by the backward
sweep. The two rules of backpropagation, per statement ``t = op(a, b)``:

* backward: ``a_bar += vjp_a(t_bar)``, ``b_bar += vjp_b(t_bar)`` (templates
  from `adjointc.rules`, fan-out is accumulation), then ``t_bar = 0`` (the
  value of `t` before this statement has an adjoint of its own);
* recording: where a statement overwrites a variable (or an array slice), the
  forward sweep may save the old value (`_tape_x` lists inside loops,
  `_saved_x` variables outside) and the backward sweep restore it right after
  the statement's adjoint, so every template reads the values the forward
  sweep saw. Whether it does is the tape pass's decision (passes/tape.py):
  the reverser builds both sweeps once, leaving a `tape.Site` at every
  overwrite, `tape.decide` reads the backward sweep once and returns the
  `Tape` fact, and `record.Emit` turns each site into push/pop, a shape
  stand-in, or nothing. The tape pass also says which assignments the backward sweep
  recomputes where it reads them (`tape.Recompute`, consulted block by block).

The adjoints of the individual statement forms live in passes/adjoints.py
(a mixin). `transform` returns a Function whose body holds the two marker
statements FORWARD and BACKWARD (compare by identity: `backward_start`).

An adjoint starts as the symbolic zero 0.0 and stays it on a path (or loop
trip) that never reads its variable; before a template that needs the
adjoint's shape (anything beyond elementwise arithmetic: matmul, reshape,
cumsum...) the pass emits ``t_bar = shape_adjoint(t_bar, t)``, which
`simplify.Zeros` turns into an `as_adjoint` exactly where t_bar may still be
0.0, and deletes elsewhere.

Control flow stays structured: an `if` replays its recorded test
(`_cond` variables, recorded like any value), a `for` runs its recorded
`range` reversed (cut to the recorded trip count when it can `break`), a
`while` runs its recorded trip count (the counters: passes/trips.py, which
also turns returns into assignments of the result before the reverser runs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import rules
from .. import types as T
from ..errors import UnsupportedSyntax
from ..ir import (BACKWARD_SWEEP, FORWARD_SWEEP, Assign, AugAssign, Block, Break, Call, Comment, Const, Continue,
                  Expr, ExprStmt, For, backward_start,  # noqa: F401 (re-exported)
                  Function, If, Loc, Name, Param, Return, SetItem, Stmt, While, all_writes,
                  names_in, stmt_writes, walk)
from ..names import Namer, bar
from . import sharing
from . import simplify as S
from . import record, tape
from .cleanup import dedupe_comments
from .trips import instrument, trip_counter
from .adjoints import Adjoints, _advanced, _comment, _is_temp  # noqa: F401 (mutation.py imports these two)


@dataclass
class Context:
    active: set[str]
    types: dict[str, T.T]
    namer: Namer
    defined: set[str] = field(default_factory=set)   # definitely bound at this point
    loop_depth: int = 0
    trips: set[str] = field(default_factory=set)  # trip counters (passes/trips.py)
    adjoints: set[str] = field(default_factory=set)
    consts: dict = field(default_factory=dict)
    calls: Any = None                                 # compiles adjoints of user functions
    loop_written: list[set[str]] = field(default_factory=list)  # names written by the enclosing loops
    assign_count: dict[str, int] = field(default_factory=dict)
    sites: list[tape.Site] = field(default_factory=list)
    sharing: tape.Sharing = field(default_factory=lambda: tape.Sharing({}))


class Reverser(Adjoints):
    def __init__(self, ctx: Context):
        self.c = ctx
        self.env = tape.Recompute(ctx.types, ctx.sharing)  # what the backward sweep recomputes
        self.defs: dict[str, Expr] = {}   # values assigned earlier in the current block

    # ------------------------------------------------------------- recording
    def record(self, s: Stmt, v: str, whole: bool) -> tuple[list[Any], list[Any]]:
        """A site where `v` (or the slice `s` overwrites) may be saved before `s` and
        restored after its adjoint: the tape pass decides (see passes/tape.py)."""
        c = self.c
        site = tape.Site(v, s, whole, c.loop_depth > 0,
                         tape.loop_invariant(s, c.loop_written[-1] if c.loop_written else None, c.assign_count),
                         index=len(c.sites), undefined=v not in c.defined)
        c.sites.append(site)
        return [tape.Save(site)], [tape.Restore(site)]

    # ---------------------------------------------------------------- blocks
    def block(self, b: Block) -> tuple[list[Stmt], list[Stmt]]:
        fwd: list[Stmt] = []
        parts: list[list[Stmt]] = []
        outer, self.env = self.env, tape.Recompute(self.c.types, self.c.sharing, b)
        outer_defs, self.defs = self.defs, {}
        for s in b:
            f, r = self.stmt(s)
            fwd += f
            parts.append(r)
            self.env.step(s, self.env.writes(s))
            if isinstance(s, Assign):
                self.defs[s.target] = s.value
        self.env = outer
        self.defs = outer_defs
        return fwd, [x for r in reversed(parts) for x in r]

    def cheap_for(self, s: Stmt) -> tape.Valid:
        """Recomputable values valid while the backward sweep handles `s`."""
        return self.env.valid_for(self.env.writes(s))

    def stmt(self, s: Stmt) -> tuple[list[Stmt], list[Stmt]]:
        c = self.c
        if isinstance(s, Assign) and s.value == Name(s.target):
            return [], []  # `x = x` (from inlining `h(x)` with a parameter x): the identity
        if isinstance(s, Assign) and isinstance(s.value, Call) and s.value.op == "method:pop":
            save, restore = self.record(s, s.target, True)
            c.defined.add(s.target)
            return save + [s], self.pop(s) + restore
        if isinstance(s, Assign):
            save, restore = self.record(s, s.target, True)
            c.defined.add(s.target)
            adj = self.assign_adjoint(s) if s.target in c.active else []
            return save + [s], _comment(s, adj) + restore
        if isinstance(s, SetItem):
            save, restore = self.record(s, s.target, False)
            adj = self.setitem_adjoint(s) if s.target in c.active else []
            return save + [s], _comment(s, adj) + restore
        if isinstance(s, If) and set(names_in(s.test)) & all_writes(s.body + s.orelse):
            # The backward sweep replays the test before it restores what the branches
            # overwrote, so a test reading such a name (the flag of a `return` inside a
            # loop) would see its final value: evaluate the test once, into its own name.
            cond = c.namer.fresh("cond")
            f0, b0 = self.stmt(Assign(cond, s.test, s.loc))
            f1, b1 = self.stmt(If(Name(cond), s.body, s.orelse, s.loc))
            return f0 + f1, b1 + b0
        if isinstance(s, If):
            defined = set(c.defined)
            f1, b1 = self.block(s.body)
            d1, c.defined = c.defined, set(defined)
            f2, b2 = self.block(s.orelse)
            c.defined = d1 & c.defined
            back = [If(s.test, tuple(b1), tuple(b2), s.loc)] if b1 or b2 else []
            return [If(s.test, tuple(f1), tuple(f2), s.loc)], back
        if isinstance(s, (For, While)):
            return self.loop(s)
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
            return self.append(s)
        if isinstance(s, (Break, Continue, Comment)) or (
                isinstance(s, ExprStmt) and isinstance(s.value, Call) and getattr(rules.lookup(s.value.op), "nondiff", False)):
            return [s], []  # control transfer, or a non-differentiable call (print): forward only
        raise UnsupportedSyntax(f"cannot differentiate the statement {type(s).__name__}", s.loc)

    def loop(self, s: For | While) -> tuple[list[Stmt], list[Stmt]]:
        c = self.c
        trips = trip_counter(s, c.trips)
        save: list[Stmt] = []
        restore: list[Stmt] = []
        if isinstance(s, For):
            save, restore = self.record(s, s.target, True)
        before = set(c.defined)
        c.loop_depth += 1
        c.loop_written.append(all_writes(s.body) | ({s.target} if isinstance(s, For) else set())
                              | (c.loop_written[-1] if c.loop_written else set()))
        if isinstance(s, For):
            c.defined.add(s.target)
        f, b = self.block(s.body)
        c.loop_depth -= 1
        c.loop_written.pop()
        c.defined = before
        if isinstance(s, For):
            fwd_loop: Stmt = For(s.target, s.iter, tuple(f), s.loc)
            it: Expr = s.iter
            if trips:
                it = Call("getitem", (it, Call("slice", (Const(None), Name(trips), Const(None)))))
            back_iter = Call("reversed", (it,))
            target = s.target
        else:
            fwd_loop = While(s.test, tuple(f), s.loc)
            back_iter = Call("range", (Name(trips),))
            target = "_"
        back = [For(target, back_iter, tuple(b), s.loc)] + restore if b else restore
        return save + [fwd_loop], back

@dataclass
class Sweeps:
    """The reverser's product before the tape is decided: both sweeps with a
    `tape.Save`/`tape.Restore` placeholder at every site, the gradients the
    adjoint returns (read after the backward sweep), and the alias relation."""
    fn: Function
    ctx: Context
    fwd: list[Any]
    bwd: list[Any]
    grads: list[Expr]
    bases: dict[str, set[str]]
    wrt: tuple[str, ...]
    result: str


def sweep(fn: Function, active: set[str], types: dict[str, T.T], wrt: tuple[str, ...],
          namer: Namer, result: str, consts: dict, calls: Any = None) -> Sweeps:
    """The two rules of backpropagation over the instrumented body, once."""
    trips: set[str] = set()
    body = instrument(fn.body, namer, trips, result)

    ctx = Context(active, types, Namer(set(namer.taken)), trips=set(trips), consts=consts, calls=calls)
    ctx.namer.counters = dict(namer.counters)
    ctx.defined = {p.name for p in fn.params}
    # a parameter is bound before the body: its value before a loop that assigns it
    # once is not that assignment's (no loop statement that writes it is invariant)
    ctx.assign_count = {p.name: 1 for p in fn.params}
    for st in walk(body):
        # (a name modified in place, `w[i] = ...` or `row.append(v)`, holds a different
        # value after each trip even when its assignment is loop-invariant: count it twice)
        for w in ([st.target] if isinstance(st, (Assign, SetItem, For)) else sorted(stmt_writes(st))):
            ctx.assign_count[w] = ctx.assign_count.get(w, 0) + (1 if isinstance(st, Assign) else 2)
    bases = sharing.base_map(body, types)
    ctx.sharing = tape.Sharing(bases)
    fwd, bwd = Reverser(ctx).block(body)
    # (one `# line N` comment per run of one line's statements, as cleanup keeps them: the
    # seven statements `u[1:-1] = u[1:-1] + k * (u[2:] - u[:-2])` lowers to need one, and
    # the passes after this one handle a tenth fewer statements)
    bwd = list(dedupe_comments(tuple(bwd)))
    grads: list[Expr] = []
    for w in wrt:
        t = types.get(w, T.UNKNOWN)
        if w in active:
            grads.append(Name(bar(w)) if t.is_scalar and t.kind != "array" else
                         Call("as_adjoint", (Name(bar(w)), Name(w))))
        else:
            grads.append(Call("zeros_like", (Name(w),)))
    return Sweeps(fn, ctx, fwd, bwd, grads, bases, wrt, result)


def decide(sw: Sweeps) -> tape.Tape:
    """The tape pass reads the backward sweep (and the gradients, evaluated after it) once."""
    return tape.decide(sw.bwd, sw.grads, sw.ctx.types, sw.bases)


def assemble(sw: Sweeps, facts: tape.Tape, mutated_params: set[str] = frozenset(),
             outputs: tuple[str, ...] = (), value: bool = True) -> tuple[Function, Context]:
    """The adjoint function: the sites turned into push/pop as `facts` decided, the
    tapes' initialisations, the seeds and zero adjoints, and the return.
    `outputs`: parameters whose final values are outputs too; the adjoint function
    takes a cotangent `{p}_out_bar` for each, after the result's. `value` False: it
    returns None for the value (passes/value.py)."""
    fn, ctx, types, result, wrt, grads = sw.fn, sw.ctx, sw.ctx.types, sw.result, sw.wrt, sw.grads
    active = ctx.active
    loc = Loc(fn.file, fn.line)
    seed = bar(result)
    emit = record.Emit(ctx.sites, facts, ctx.namer, types)
    fwd, bwd = emit.sweeps(sw.fwd, sw.bwd)
    prologue: list[Stmt] = [Assign(p, Call("np.copy", (Name(p),)), loc) for p in sorted(mutated_params)]
    prologue += emit.prologue.values()  # (each tape list and `x = None` once)
    out_seeds = {bar(p): ctx.namer.exact(f"{p}_out_bar") for p in outputs}
    zero_init = [Assign(a, Call("seed_adjoint", (Name(out_seeds[a]), Name(a[:-4]))) if a in out_seeds
                        else Const(0.0)) for a in sorted(ctx.adjoints | {bar(w) for w in wrt if w in active})
                 if a != seed]
    out_t = types.get(result, T.UNKNOWN)
    seed_copy: list[Stmt] = []
    if result in active and not (out_t.is_scalar and out_t.kind != "array"):
        seed_copy = [Assign(seed, Call("seed_adjoint", (Name(seed), Name(result))), loc)]
    if result in outputs and result in active:  # `return u` of a modified u: one value, two cotangents
        seed_copy.append(AugAssign(seed, "add", Name(out_seeds[seed]), loc))
    # The backward sweep restores overwritten values, the output's included: keep the
    # value in its own name (`drop_value_copy` removes it again when nothing restores it).
    copy: tuple[Stmt, ...] = ()
    if value:
        copy = (Assign(ctx.namer.exact(f"{result}_value"), Name(result), loc),)
    ret_stmt = Return(Call("tuple", (Name(copy[0].target) if copy else Const(None), Call("tuple", tuple(grads)))),
                      loc)
    full = (tuple(prologue) + (FORWARD,) + tuple(fwd) + copy + (BACKWARD,) + tuple(seed_copy) + tuple(zero_init)
            + tuple(bwd) + (ret_stmt,))
    params = fn.params + (Param(seed, Const(1.0)),) + tuple(Param(out_seeds[bar(p)], Const(0.0)) for p in outputs)
    return Function(f"{fn.name}_grad", params, full, fn.file, fn.line), ctx


def transform(fn: Function, active: set[str], types: dict[str, T.T], wrt: tuple[str, ...],
              namer: Namer, result: str, mutated_params: set[str], consts: dict,
              calls: Any = None, outputs: tuple[str, ...] = ()) -> tuple[Function, Context]:
    """sweep, decide, assemble in one call (the pipeline runs them as three passes)."""
    sw = sweep(fn, active, types, wrt, namer, result, consts, calls)
    return assemble(sw, decide(sw), mutated_params, outputs)


# The sweep boundary: these two statement objects (identity, not text) open the forward
# and the backward sweep of every adjoint `transform` returns; later passes keep them.
FORWARD, BACKWARD = FORWARD_SWEEP, BACKWARD_SWEEP


