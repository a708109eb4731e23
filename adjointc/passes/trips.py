"""Trip-count instrumentation: the primal body prepared for the reverser.

The backward sweep replays each loop's trips in reverse. A `for` loop that runs
to its end replays its recorded range; one that can stop early (a `break`)
and every `while` loop need the number of trips the forward sweep ran. `instrument`
gives each such loop a counter (`_trips1 = 0` before it, `_trips1 = _trips1 + 1`
first in its body) and records its name in `trips`; `trip_counter` finds a loop's
counter from that first statement. It also turns every `return v` into
`result = v` (the reverser works on one straight body whose output is `result`).

Invariants: the statements other than returns and loops are kept as they are
(the same objects); a counter is assigned only by its own loop.
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Assign, Block, Break, Call, Const, For, If, Name, Return, Stmt, While
from ..names import Namer


def _has_break(body: Block) -> bool:
    """Can the loop with this body stop early (a `break` not inside a nested loop)?"""
    for s in body:
        if isinstance(s, Break):
            return True
        if isinstance(s, If) and (_has_break(s.body) or _has_break(s.orelse)):
            return True
    return False


def instrument(body: Block, namer: Namer, trips: set[str], result: str) -> Block:
    """Returns become assignments to `result`; loops that can stop early count their trips.
    `trips` gets the name of each counter; the counted loop's body starts with its
    increment (`trip_counter(loop)` reads it back: no side table keyed by object)."""
    out: list[Stmt] = []
    for s in body:
        if isinstance(s, Return):
            if not (isinstance(s.value, Name) and s.value.id == result):
                out.append(Assign(result, s.value, s.loc))
        elif isinstance(s, If):
            out.append(replace(s, body=instrument(s.body, namer, trips, result),
                               orelse=instrument(s.orelse, namer, trips, result)))
        elif isinstance(s, (For, While)):
            inner = instrument(s.body, namer, trips, result)
            if isinstance(s, While) or _has_break(s.body):
                n = namer.fresh("trips")
                out.append(Assign(n, Const(0), s.loc))
                inner = (Assign(n, Call("add", (Name(n), Const(1))), s.loc),) + inner
                trips.add(n)
            out.append(replace(s, body=inner))
        else:
            out.append(s)
    return tuple(out)


def trip_counter(loop: For | While, trips: set[str]) -> str | None:
    """The counter `instrument` gave this loop (its body's first statement increments it), or None."""
    first = loop.body[0] if loop.body else None
    return first.target if isinstance(first, Assign) and first.target in trips else None
