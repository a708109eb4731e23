"""The pass pipeline: primal IR -> adjoint IR.

    types      side table name -> T (passes/types.py)
    inline     small user functions spliced into the caller (passes/inline.py)
    mutation   calls that modify an argument in place -> functional form (passes/mutation.py)
    activity   which names get adjoints (passes/activity.py)
    reverse    forward sweep with recording + backward sweep (passes/reverse.py)
    zeros      first accumulation is `=`, zero contributions vanish (passes/simplify.py)
    dce        liveness over both sweeps: drops dead adjoints and unread recordings

`run(...)` executes them in order; with `dump=True` (or ADJOINTC_DUMP=1) it
prints the IR after each pass, which is how one debugs a transform.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import printer
from .. import types as T
from ..ir import Function, SetItem, walk
from ..errors import UnsupportedSyntax
from ..names import Namer
from . import activity, aliasing, inline, mutation, reverse, simplify
from . import types as typing_pass


@dataclass
class Result:
    adjoint: Function
    types: dict[str, T.T]
    active: set[str]
    result: str
    mutated: set[str]  # parameters modified in place (copied on entry)
    globals_read: dict[str, Any]  # module globals the inlined callees read


def _dump(title: str, fn: Function) -> None:
    print(f"==== after {title} " + "=" * 40)
    print(printer.block(fn.body))


def run(fn: Function, arg_types: dict[str, T.T], consts: dict[str, Any], wrt: tuple[str, ...],
        namer: Namer, result: str, dump: bool | None = None, user_names: set[str] | None = None,
        calls: Any = None, augmented: list | None = None, outputs: tuple[str, ...] = ()) -> Result:
    """`outputs`: parameters whose final value is an output too (a callee that
    modifies them in place): the adjoint takes a cotangent for each."""
    dump = bool(os.environ.get("ADJOINTC_DUMP")) if dump is None else dump
    types = typing_pass.infer(fn, arg_types, consts, calls)
    fn, augmented, inlined_globals, inlined_names = inline.inline(fn, types, calls, namer, augmented or [])
    user_names = (user_names or set()) | inlined_names
    if inlined_globals or inlined_names:
        consts = {**consts, **inlined_globals}
        types = typing_pass.infer(fn, arg_types, consts, calls)
        if dump:
            _dump("inline", fn)
    primal = fn
    fn, hazards = mutation.rewrite(fn, types, calls, namer)
    if fn is not primal:
        types = typing_pass.infer(fn, arg_types, consts, calls)
        if dump:
            _dump("mutation", fn)
    mutation.check_views(fn, types, augmented, hazards)
    mutated_params = {s.target for s in walk(fn.body) if isinstance(s, SetItem)} & {p.name for p in fn.params}
    for p in sorted(mutated_params):
        kind = types.get(p, T.UNKNOWN).kind
        if kind != "array":
            w = next(s for s in walk(fn.body) if isinstance(s, SetItem) and s.target == p)
            raise UnsupportedSyntax(f"modifying the argument '{p}' (a {'dict' if kind == 'struct' else kind}) "
                                    "in place: adjointc follows in-place changes of arrays only", w.loc,
                                    f"read the entry into a variable and use that, e.g. `w = {p}[...] * 2.0`")
    aliasing.check(fn, types, user_names, augmented)
    active = activity.analyse(fn, wrt, types, outputs, result)
    adj = reverse.transform(fn, active, types, wrt, namer, result, mutated_params, consts, calls, outputs)
    if dump:
        _dump("reverse", adj)
    adjoints = {s for st in walk(adj.body) for s in _adjoint_targets(st)} | {f"{result}_bar"}
    adjoints = {a for a in adjoints if a.endswith("_bar") and a[:-4] in types}
    inplace = simplify.inplace_targets(adj.body, adjoints)
    body, _, _ = simplify.Zeros(adjoints, types, inplace).block(adj.body, set(), set())
    adj = Function(adj.name, adj.params, tuple(body), adj.file, adj.line)
    if dump:
        _dump("zeros", adj)
    keep = {id(s) for s in walk(fn.body)} | {id(s) for s in adj.body[:len(mutated_params)]}
    # (rebinding a tuple, as a restore does, never changes the arrays taken out of it)
    bases = {n: {b for b in bs if types.get(b, T.UNKNOWN).kind != "tuple"}
             for n, bs in simplify.base_map(fn.body, types).items()}
    body = simplify.dce(adj.body, keep, bases)
    body = simplify.dce(simplify.propagate_copies(body, adjoints), keep, bases)
    body = reverse.drop_value_copy(body, result)
    adj = Function(adj.name, adj.params, body, adj.file, adj.line)
    if dump:
        _dump("dce + copies", adj)
    return Result(adj, types, active, result, mutated_params, inlined_globals)


def _adjoint_targets(s):
    t = getattr(s, "target", None)
    return [t] if isinstance(t, str) else []
