"""`Program`: what the pipeline transforms, and the facts its passes attach.

A pass is a function `Program -> Program` (see `passes.PIPELINE`). A Program is
the IR of the function being differentiated plus its signature and the facts
passes learn about it. It starts from the Python function (`primal`), its
signature in the user's names and the options; the `lower` pass gives it the
IR (`lowered`: the frontend's product, with the namer and the result variable),
`normalize` structures it and maps the signature to the names of generated code
(`x_bar` -> `x_bar_`). The contract every pass after those relies on:

* `fn` is the primal IR. Its statements are numbered: every statement has a
  `sid` > 0, and no two statements share one (`but(fn=...)` numbers the
  statements a pass made, and copies of a statement that already occurs; the
  statements a pass kept keep theirs; one statement object at two places, as
  the frontend makes, is one statement). Facts about statements are keyed by sid.
* `types` is a fact of `fn`: inferred on first use and again only after a pass
  changed `fn` (or the constants it reads), never by a pass itself.
* Names: `namer` is shared by all passes (fresh names never clash with a name
  already used); `temporaries` holds every name made for one statement's value
  (the frontend's `_t3`, `_cond2`, and those passes made through a Namer), so no
  pass recognises a temporary by the spelling of its name; `fresh` holds every
  name made by a Namer's `fresh` (temporaries, `_idx2`, `_range1`, ...); `user_names` are the
  variables the user wrote (the aliasing check trusts temporaries to be consumed
  in order).
* Facts are plain values, replaced rather than mutated: a Program a pass
  returned still describes the IR it holds (`show --after NAME` prints one).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

from . import types as T
from .ir import Block, Function, Stmt, replace, set_numbered, walk, with_bodies
from .names import Namer, bar


@dataclass
class Program:
    # ---- the function and its signature
    fn: Function                           # the primal IR (three-address form, numbered); before the
                                           # `lower` pass a placeholder (its name, no parameters, no body)
    arg_types: dict[str, T.T]              # parameter -> its abstract type at this call signature
    wrt: tuple[str, ...]                   # the parameters differentiated (() for a callee's analysis)
    result: str                            # the variable holding the returned value
    outputs: tuple[str, ...] = ()          # parameters whose final value is an output too
    has_aux: bool = False                  # f returns (value, aux): only value is differentiated
    value: bool = True                     # the adjoint returns f's value; False (grad, which returns
                                           # the gradient alone): the statements that only compute the
                                           # value may go (passes/value.py), and after `record` False
                                           # means they went: the adjoint returns (None, gradients)
    consts: dict[str, Any] = field(default_factory=dict)  # module globals read, folded in as constants
    namer: Namer = field(default_factory=lambda: Namer(set()))
    calls: Any = None                      # compiler.Calls: questions about calls to user functions
    callee: bool = False                   # analysed for a caller (its effects), not differentiated
    primal: Any = None                     # the Python function the pipeline starts from
    lowering: Any = None                   # () -> its frontend.Lowered, memoised (api.Gradient.lowered)
    lowered: Any = None                    # the frontend's Lowered at the stage reached (lower, normalize)
    checkpoints: Any = None                # grad(..., checkpoints=K): the loops' request (passes/checkpoint.py)
    tape_report: bool = False              # a statistics build: the adjoint reports its tape (cleanup)
    # ---- facts the passes attach
    user_names: frozenset[str] = frozenset()
    temporaries: frozenset[str] = frozenset()
    fresh: dict[str, str] = field(default_factory=dict)  # every name a Namer's fresh() made -> its hint
    inlined_globals: dict[str, Any] = field(default_factory=dict)  # globals the inlined callees read
    hazards: tuple = ()                    # (call, argument, callee): the call's result may view the argument
    mutated: frozenset[str] = frozenset()  # parameters modified in place (copied on entry)
    aux: str = ""                          # has_aux: the variable holding aux (passes/aux.py)
    active: frozenset[str] = frozenset()   # names that carry an adjoint (activity)
    sweeps: Any = None                     # reverse.Sweeps: both sweeps with tape sites (reverse)
    tape: Any = None                       # tape.Tape: what each site keeps (the tape pass)
    adjoint: Function | None = None        # the adjoint IR, once the record pass ran
    adjoints: frozenset[str] = frozenset()  # the adjoint variables the reverse pass made (x_bar, ...)
    keep: frozenset[int] = frozenset()     # sids of adjoint statements no cleanup may delete
    last_sid: int = 0                      # the largest sid given out
    _types: dict[str, T.T] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.fn, self.last_sid = number(self.fn, self.last_sid)

    # ------------------------------------------------------------------ facts
    @property
    def types(self) -> dict[str, T.T]:
        """name -> T for `fn` at this signature (passes/types.py), inferred once per IR."""
        if self._types is None:
            from .passes import types as typing_pass
            self._types = typing_pass.infer(self.fn, self.arg_types, self.consts, self.calls)
        return self._types

    @property
    def ir(self) -> Function:
        """The IR the pipeline has reached: the adjoint once there is one, else the primal."""
        if self.adjoint is not None:
            return self.adjoint
        if self.sweeps is not None:  # (between reverse and record: the sites shown as comments)
            from .passes import record
            return record.display(self.sweeps, self.tape)
        return self.fn

    def is_temp(self, name: str) -> bool:
        """A temporary or a temporary's adjoint (`_t3`, `_t3_bar`): codegen may fold it."""
        return name in self._temp_names

    @functools.cached_property
    def _temp_names(self) -> frozenset[str]:
        return self.temporaries | frozenset(bar(t) for t in self.temporaries)

    # ------------------------------------------------------------- rewriting
    def but(self, **changes: Any) -> "Program":
        """This program with some fields replaced. A new `fn` is numbered and drops
        the types (so are new constants); the namer's temporaries join the fact."""
        fn = changes.get("fn", self.fn)
        if fn is not self.fn or ("consts" in changes and changes["consts"] is not self.consts):
            changes["_types"] = None
        new = dataclasses.replace(self, **changes)  # (__post_init__ numbers new statements)
        new.temporaries = new.temporaries | frozenset(new.namer.temporaries)
        if not new.namer.made.keys() <= new.fresh.keys():
            new.fresh = {**new.fresh, **new.namer.made}
        return new

    def fresh_sid(self) -> tuple["Program", int]:
        """A sid no statement has yet, for a statement a pass makes outside `fn`."""
        return dataclasses.replace(self, last_sid=self.last_sid + 1), self.last_sid + 1

    def sids(self) -> frozenset[int]:
        return frozenset(s.sid for s in walk(self.fn.body))


def number(fn: Function, last: int) -> tuple[Function, int]:
    """`fn` with a sid for every statement that has none (0), or whose sid another
    statement seen earlier in source order has (a copy); sids it has keep. One
    statement object at several places (the frontend shares the statements after
    an early return between the paths that reach them) stays one object, with one
    sid. Returns the largest sid used."""
    done = getattr(fn, "_numbered", None)  # (a Function number returned: its largest sid)
    if done is not None:
        return fn, max(last, done)
    fn, last = _number(fn, last)
    set_numbered(fn, max([0] + [s.sid for s in walk(fn.body)]))
    return fn, last


def _number(fn: Function, last: int) -> tuple[Function, int]:
    # (every Program.but numbers its fn, most often one numbered already: number()
    # remembers on the Function, which is immutable, that it is)
    stmts = list(walk(fn.body))
    last = max([last] + [s.sid for s in stmts])
    owner: dict[int, Stmt] = {}  # sid -> the statement that has it

    def has_own(s: Stmt) -> bool:
        return bool(s.sid) and owner.setdefault(s.sid, s) is s
    if all([has_own(s) for s in stmts]):
        return fn, last
    owner.clear()
    done: dict[int, Stmt] = {}  # id() of a statement of fn -> it, numbered (met again: the same)
    counter = [last]

    def block(b: Block) -> Block:
        out = tuple(one(s) for s in b)
        return b if all(x is y for x, y in zip(out, b)) else out

    def one(s: Stmt) -> Stmt:
        if id(s) not in done:
            n = with_bodies(s, block)
            if not has_own(n):
                counter[0] += 1
                n = replace(n, sid=counter[0])
                owner[n.sid] = n
            done[id(s)] = n
        return done[id(s)]
    return replace(fn, body=block(fn.body)), counter[0]
