"""The pass pipeline: primal IR -> adjoint IR, as data.

`PIPELINE` is the ordered list of passes; each is a named `Program -> Program`
(adjointc/program.py). In order:

    lower      the Python function -> IR as written, three-address (frontend.lower_raw:
               the only stage that knows libcst)
    normalize  structured control flow, one result variable, `*_bar` user names renamed;
               the signature in generated code's names (passes/normalize.finish); with
               has_aux, the returned pair split into the result (the value) and the fact
               `aux`, which passes through undifferentiated (passes/aux.split)
    inline     small user functions spliced into the caller (passes/inline.py)
    mutation   calls that modify an argument in place -> functional form; fact `mutated`
               (passes/mutation.py)
    legality   a parameter modified in place is an array (passes/mutation.py)
    aliasing   refuse in-place writes seen through an alias (passes/aliasing.py)
    activity   fact `active`: which names get adjoints (passes/activity.py)
    reverse    the two rules of backpropagation, statement by statement: both sweeps,
               with a tape site at every overwrite: `sweeps` (passes/reverse.py)
    tape       what each site keeps for the backward sweep (value, shape stand-in,
               nothing): `tape`, the one place that decides it (passes/tape.py)
    record     the sites as push/pop, tapes initialised, seeds and return: `adjoint`,
               facts `adjoints` and `keep` (passes/reverse.py, passes/record.py); for grad,
               which returns no value, the statements computing only f's value are left
               out of `keep` (passes/value.py)
    zeros      first accumulation is `=`, zero contributions vanish (passes/simplify.py)
    dce        liveness over both sweeps: drops dead adjoints and unread recordings,
               propagates copies (passes/simplify.py); for grad, where leaving f's value
               out would leave a dead statement of f's, it is done again on the adjoint
               returning the value (passes/value.py)
    cleanup    single-use temporaries folded back into their uses, accumulations merged,
               the plain forms folded again, peepholes (passes/cleanup.py, peephole.py);
               with `tape_report`, the statistics build's report call. No value changes:
               it is what makes the adjoint read like a hand-written one
    checkpoint where a loop is to be checkpointed (grad(..., checkpoints=K) or a
               `# adjointc: checkpoint K` comment), its two sweeps become a
               schedule-driven recomputation (passes/checkpoint.py). It copies the
               loop's forward body, so it runs on the cleaned adjoint (cleanup's folds
               assume one definition per temporary)

`TANGENT_PIPELINE` is forward mode (passes/tangent.py): the same front passes up to
`aliasing`, then `tangent` (the primal with each statement's tangent beside it, no tape)
and `tangent-dce` (dead tangents dropped; the primal's statements kept).
`BATCHED_TANGENT_PIPELINE` is the same with `tangent-batched`: tangents with a
leading batch axis, a matrix of tangent columns in one sweep (rules/batched.py).

After `checkpoint`, compiler.transform hands the adjoint to a printer
(compiler.PRINTERS): IR -> text, nothing else.

Types are not a pass: they are a fact of the Program, inferred when first read
after the IR changed. `CALLEE_PASSES`, the prefix up to `aliasing`, is what a
callee goes through to report its effects to a caller (compiler.analyse_callee).

`run(prog, passes)` executes them in order; with ADJOINTC_DUMP=1 (or dump=True)
it prints the IR after each pass that changed it, which is how one debugs a
transform (`python -m adjointc show ... --after NAME` prints one of them).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Sequence

from .. import printer
from .. import types as T
from ..ir import Assign, Call, Function, Loc, Name, walk
from ..names import Namer, bar
from ..program import Program
from . import (activity, aliasing, aux, cleanup, forms, inline, mutation, normalize, reverse, sharing, simplify,
               tangent, value)
from . import checkpoint as checkpointing


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Program], Program]

    def __call__(self, prog: Program) -> Program:
        return self.run(prog)


def _lower(prog: Program) -> Program:
    """Afterwards `fn` is the function's IR as lowered (not yet structured) and
    `lowered` the frontend's product (memoised by `prog.lowering`: lowering is
    the expensive stage, and a function's callers ask for it again)."""
    if prog.lowered is not None or (prog.primal is None and prog.lowering is None):
        return prog  # (lowered already; or a Program made from IR, not from a function)
    if prog.lowering is not None:
        low = prog.lowering().raw
    else:
        from .. import frontend  # (the frontend imports passes/normalize.py)
        low = frontend.lower_raw(prog.primal)
    return prog.but(fn=low.function, lowered=low, consts=dict(low.globals_read))


def _normalize(prog: Program) -> Program:
    """Afterwards `fn` has structured control flow and one result variable
    (passes/normalize.py), no user variable is named like an adjoint, and the
    signature (parameter types, wrt, outputs) is in those names. The passes after
    share a namer that has taken every name of `fn`."""
    low = prog.lowered
    if low is None or low.raw is not None:
        return prog  # (normalised already; or a Program made from IR)
    # (on `fn`, numbered: the statements normalize keeps keep their sids)
    low = dataclasses.replace(normalize.finish(dataclasses.replace(low, function=prog.fn)), raw=low)
    fn, r = low.function, low.renamed
    if fn.body is prog.fn.body and fn.params == prog.fn.params:
        fn = prog.fn  # (already structured: the IR stays the same)
    params = [q.name for q in fn.params]
    targets = {s.target for s in walk(fn.body) if isinstance(getattr(s, "target", None), str)}
    namer = Namer(set(low.globals_read) | targets | set(params) | {"np", "math"})
    prog = prog.but(fn=fn, lowered=low, namer=namer, result=low.result,
                    arg_types={r.get(k, k): t for k, t in prog.arg_types.items()},
                    wrt=tuple(r.get(w, w) for w in prog.wrt), outputs=tuple(r.get(o, o) for o in prog.outputs),
                    user_names=prog.user_names | frozenset(low.user_names),
                    temporaries=prog.temporaries | frozenset(low.temporaries), fresh={**prog.fresh, **low.fresh})
    return aux.split(prog)  # (has_aux: `result` is the value, `aux` the pass-through)


def _inline(prog: Program) -> Program:
    """Afterwards small, loop-free callees are statements of `fn` (their variables
    renamed, their globals among `consts`, their user variables in `user_names`)."""
    fn, globals_read, names = inline.inline(prog.fn, prog.types, prog.calls, prog.namer, prog.fresh,
                                            prog.last_sid)
    if fn is prog.fn:
        return prog
    return prog.but(fn=fn, consts={**prog.consts, **globals_read},
                    inlined_globals={**prog.inlined_globals, **globals_read},
                    user_names=prog.user_names | names)


def _reverse(prog: Program) -> Program:
    """`sweeps`: the forward and backward sweeps (the two rules of backpropagation,
    statement by statement), with a tape site wherever a value is overwritten."""
    return prog.but(sweeps=reverse.sweep(prog.fn, set(prog.active), prog.types, prog.wrt, prog.namer,
                                         prog.result, prog.consts, prog.calls))


def _tape(prog: Program) -> Program:
    """`tape`: for every site, what the forward sweep keeps for the backward sweep
    (the value, a shape stand-in, or nothing: recomputed or never read) — the one
    place that decides it (passes/tape.py)."""
    return prog.but(tape=reverse.decide(prog.sweeps))


def _record(prog: Program) -> Program:
    """`adjoint`: the gradient function (parameters, then the cotangent seeds), the
    sites turned into push/pop as the tape decided, the mutated parameters copied on
    entry. Facts: `adjoints` (the adjoint variables it made), `keep` (the primal's
    statements and the copies: cleanups never delete them), `temporaries` (those the
    reverse pass made)."""
    dropping = value.possible(prog)  # (grad: f's value is not returned, passes/value.py)
    adj, ctx = reverse.assemble(prog.sweeps, prog.tape, set(), prog.outputs, value=not dropping)
    # The copies of the parameters modified in place come first, before the tapes. They
    # are made here (reverse.transform is told of no mutated parameters) so that they
    # have sids: `keep` protects them by id, not by their position in the body.
    loc = Loc(prog.fn.file, prog.fn.line)
    copies = []
    for p in sorted(prog.mutated):
        prog, sid = prog.fresh_sid()
        copies.append(Assign(p, Call("np.copy", (Name(p),)), loc, sid=sid))
    adj = Function(adj.name, adj.params, tuple(copies) + adj.body, adj.file, adj.line)
    # (the adjoints of typed names: the result variable of a function returning
    # different names on different paths has no type, and its seed is not counted)
    adjoints = (ctx.adjoints | {bar(w) for w in prog.wrt if w in prog.active} | {bar(prog.result)}) \
        & {bar(v) for v in prog.types}
    adj = aux.pass_through(adj, prog, frozenset(ctx.adjoints) | adjoints)  # (has_aux: returns aux too)
    keep = prog.sids() - (value.droppable(prog) if dropping else frozenset())
    return prog.but(adjoint=adj, adjoints=frozenset(adjoints), keep=keep | {s.sid for s in copies},
                    temporaries=prog.temporaries | ctx.namer.temporaries, value=not dropping)


def _zeros(prog: Program) -> Program:
    """Afterwards every adjoint's first contribution is an assignment, not an
    accumulation onto zeros, and contributions that are zero are gone."""
    adj = prog.adjoint
    inplace = simplify.inplace_targets(adj.body, set(prog.adjoints))
    body, _, _ = simplify.Zeros(set(prog.adjoints), prog.types, inplace,
                                [q.name for q in adj.params]).block(adj.body, set(), set())
    return prog.but(adjoint=Function(adj.name, adj.params, tuple(body), adj.file, adj.line))


def _dce(prog: Program) -> Program:
    """Afterwards no statement of the adjoint is dead (except those in `keep`),
    adjoint copies are propagated, and the returned value is not copied needlessly."""
    adj = prog.adjoint
    # (rebinding a tuple, as a restore does, never changes the arrays taken out of it, nor
    # does writing into one of them change the others: the tuple itself still holds each)
    raw = sharing.base_map(prog.fn.body, prog.types)
    bases = {n: {b for b in bs if prog.types.get(b, T.UNKNOWN).kind != "tuple"} for n, bs in raw.items()}
    holders = {n: bs - bases[n] for n, bs in raw.items() if bs - bases[n]}

    def dce(body: tuple, keep: set[int]) -> tuple:
        live = simplify.dce(body, keep, bases, holders)
        # (a shape read from a value that lives anyway: t = u * 2 is then dead if only its shape was read)
        body = forms.shape_from_sources(live, prog.is_temp, prog.types, {p.name for p in adj.params})
        body = simplify.propagate_copies(body, set(prog.adjoints))
        if body is not live:  # (else a second round would delete nothing: dce's result is its fixpoint)
            body = simplify.dce(body, keep, bases, holders)
        return cleanup.drop_value_copy(body, prog.result)
    body = dce(adj.body, set(prog.keep))
    if not prog.value and value.orphaned(body, prog.keep):  # (grad: see passes/value.py)
        keep = prog.keep | value.droppable(prog)
        body = dce(value.with_value(adj.body, prog.result, prog.namer), set(keep))
        prog = prog.but(keep=keep, value=True)
    body, has_value = value.returned_if_computed(body, prog.result, prog.value)
    return prog.but(adjoint=Function(adj.name, adj.params, body, adj.file, adj.line), value=has_value)


def _cleanup(prog: Program) -> Program:
    """Afterwards every single-use temporary the transform made sits in its use, and
    the adjoint's statements compute the same values (passes/cleanup.py)."""
    adj = cleanup.run(prog.adjoint, prog.is_temp, tape_report=prog.tape_report, **cleanup.kinds_of(prog.types))
    return prog.but(adjoint=adj)


def _checkpoint(prog: Program) -> Program:
    """Afterwards each loop asked to be checkpointed recomputes its trips from
    snapshots in the backward sweep; no other statement changed."""
    adj = checkpointing.run(prog.adjoint, prog.checkpoints, prog.types, prog.tape_report)
    return prog if adj is prog.adjoint else prog.but(adjoint=adj)


PIPELINE: tuple[Pass, ...] = (
    Pass("lower", _lower),
    Pass("normalize", _normalize),
    Pass("inline", _inline),
    Pass("mutation", mutation.run),
    Pass("legality", mutation.legality),
    Pass("aliasing", aliasing.run),
    Pass("activity", activity.run),
    Pass("reverse", _reverse),
    Pass("tape", _tape),
    Pass("record", _record),
    Pass("zeros", _zeros),
    Pass("dce", _dce),
    Pass("cleanup", _cleanup),
    Pass("checkpoint", _checkpoint),
)
# what a callee goes through before its effects are read (compiler.analyse_callee)
CALLEE_PASSES: tuple[Pass, ...] = PIPELINE[:[p.name for p in PIPELINE].index("aliasing") + 1]


# forward mode: the front passes, then the tangent transform (passes/tangent.py)
TANGENT_PIPELINE: tuple[Pass, ...] = CALLEE_PASSES + (
    Pass("tangent", tangent.run),
    Pass("tangent-dce", tangent.dce),
)
# batched forward mode (jacfwd's columns in one sweep): every tangent with a leading batch axis
BATCHED_TANGENT_PIPELINE: tuple[Pass, ...] = CALLEE_PASSES + (
    Pass("tangent-batched", lambda prog: tangent.run(prog, batched=True)),
    Pass("tangent-dce", tangent.dce),
)


def names() -> list[str]:
    return [p.name for p in PIPELINE]


def run(prog: Program, passes: Sequence[Pass] = PIPELINE, dump: bool | None = None,
        after: str | None = None) -> Program:
    """`prog` through `passes` in order; with `after`, stop after the pass of that name."""
    dump = bool(os.environ.get("ADJOINTC_DUMP")) if dump is None else dump
    if after is not None and after not in [p.name for p in passes]:
        raise ValueError(f"no pass named {after!r}; the pipeline is: {', '.join(p.name for p in passes)}")
    for p in passes:
        before = prog.ir if dump else None  # (between reverse and record, `ir` builds a display)
        prog = p(prog)
        if dump and prog.ir is not before:
            print(f"==== after {p.name} " + "=" * 40)
            print(printer.block(prog.ir.body))
        if p.name == after:
            break
    return prog
