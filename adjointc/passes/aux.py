"""Auxiliary outputs (`has_aux=True`): f returns `(value, aux)`; only `value` is differentiated.

Two steps, both no-ops unless the Program's `has_aux` is set:

* `split`, run by the `normalize` pass once there is one result variable (so
  before anything reads the result): the function's returned pair becomes two
  variables. The result
  variable (`prog.result`, the reverse pass's output, seeded with the cotangent)
  holds `value`; the fact `aux` names the variable holding `aux`. Nothing reads
  `aux` on the way to the result, so activity gives it (and whatever only it
  reads) no adjoint: aux passes through the forward sweep untouched.
  Where the result is made as a pair literal (`return loss, aux`, the usual case),
  each `result = (v, a)` becomes `result = v` and `aux = a` (no `aux = a` when
  every path returns the same variable `a`: then `aux` is that variable). Any
  other return of a value typed as a pair (`return pair`) takes it apart where
  it returns (`value = pair[0]`, `aux = pair[1]`). A return that is not a pair
  is refused at its line.
* `pass_through(adjoint, prog)`, run by the record pass once the adjoint exists:
  the adjoint returns `((value, aux), gradients)` instead of `(value, gradients)`.
  The backward sweep restores overwritten values, possibly in place; when it
  writes aux (or anything aux may share memory with, `sharing.base_map`), aux is
  kept at the end of the forward sweep (`aux_value = snapshot(aux)`), so the aux
  returned is the one f computed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import types as T
from ..errors import TypeMismatch
from ..ir import (Assign, AugSetItem, Call, Const, ExprStmt, Function, Loc, Name, Return, SetItem, all_writes,
                  backward_start, map_stmts, stmt_reads, stmt_writes, walk)
from . import sharing

if TYPE_CHECKING:
    from ..program import Program

_HINT = ("with has_aux=True, end every path with `return value, aux` (a pair: the value to "
         "differentiate first, then the auxiliary data)")


def _pair(e: Any) -> bool:
    """A tuple display, `(a, b)`."""
    return isinstance(e, Call) and e.op == "tuple" and not e.kwargs


def _refuse(prog: "Program", loc: Loc | None, what: str) -> TypeMismatch:
    name = prog.fn.name
    return TypeMismatch(f"{name} is differentiated with has_aux=True, so it must return a pair "
                        f"(value, aux), but {what}", loc or Loc(prog.fn.file, prog.fn.line), _HINT)


def split(prog: "Program") -> "Program":
    """Run by `normalize` (see the module docstring): fact `aux`; `result` holds the value."""
    if not prog.has_aux or prog.aux:
        return prog
    r, fn = prog.result, prog.fn
    stmts = list(walk(fn.body))
    assigns = [s for s in stmts if isinstance(s, Assign) and s.target == r]
    returns = [s for s in stmts if isinstance(s, Return)]
    for s in assigns:
        if _pair(s.value) and len(s.value.args) != 2:
            raise _refuse(prog, s.loc, f"this return gives a tuple of {len(s.value.args)} values")
    # `result = (v, a)` splits where it is made when nothing but a `return result` reads
    # result; any other return takes its pair apart (`value = pair[0]`) where it returns
    literal = (assigns and r not in {p.name for p in fn.params} and all(_pair(s.value) for s in assigns)
               and not any(r in stmt_reads(s) for s in stmts if not (isinstance(s, Return) and s.value == Name(r))))
    taken = [s for s in returns if not (literal and s.value == Name(r))]
    taken_sids = {s.sid for s in taken}
    for s in taken:
        t = prog.types.get(s.value.id, T.UNKNOWN) if isinstance(s.value, Name) else T.UNKNOWN
        if not _is_pair(t):
            at = s.loc
            if isinstance(s.value, Name) and s.value.id == r:  # (the assignment that is not a pair)
                at = next((a.loc for a in assigns if not _pair(a.value) and not (
                    isinstance(a.value, Name) and _is_pair(prog.types.get(a.value.id, T.UNKNOWN)))), at)
            raise _refuse(prog, at, f"this return gives a tuple of {len(t.elts or ())} values"
                          if t.kind == "tuple" else "this return's value is not a pair")
    seconds = {s.value.args[1] for s in assigns} if literal else set()
    single = next(iter(seconds)) if len(seconds) == 1 and not taken else None
    if isinstance(single, Name) and single.id != r:
        aux, bind = single.id, False  # (every path returns the same variable as aux)
    else:
        aux, bind = prog.namer.exact("aux"), True
    value = r if literal else prog.namer.exact("value")

    def f(s: Any, _rest: Any) -> Any:
        if literal and isinstance(s, Assign) and s.target == r:
            head = Assign(r, s.value.args[0], s.loc, sid=s.sid)
            return (head, Assign(aux, s.value.args[1], s.loc)) if bind else head
        if isinstance(s, Return) and s.sid in taken_sids:
            pair = s.value
            return (Assign(value, Call("getitem", (pair, Const(0))), s.loc),
                    Assign(aux, Call("getitem", (pair, Const(1))), s.loc), Return(Name(value), s.loc))
        return None
    fn = Function(fn.name, fn.params, map_stmts(fn.body, f), fn.file, fn.line)
    return prog.but(fn=fn, result=value, aux=aux)


def _is_pair(t: T.T) -> bool:
    return t.kind == "tuple" and len(t.elts or ()) == 2


def pass_through(adjoint: Function, prog: "Program", adjoints: frozenset[str]) -> Function:
    """The adjoint returning `((value, aux), gradients)` (see the module docstring).
    `adjoints`: the adjoint variables (their writes never change a primal value)."""
    if not prog.aux:
        return adjoint
    body, aux = adjoint.body, prog.aux
    ret = body[-1]
    assert isinstance(ret, Return) and _pair(ret.value), ret
    i = backward_start(body)
    t = prog.types.get(aux, T.UNKNOWN)
    immutable = t.is_scalar and t.kind != "array"
    written = all_writes(body[i:])
    # (conservative: a mutable aux is kept whenever the backward sweep restores any primal
    # value in place, besides whatever the alias relation says aux may share memory with)
    in_place = {n for s in walk(body[i:]) if isinstance(s, (SetItem, AugSetItem, ExprStmt))
                for n in stmt_writes(s)} - adjoints
    shared = {aux} | sharing.base_map(prog.fn.body, prog.types).get(aux, set())
    keep: tuple = ()
    ref: Name = Name(aux)
    if aux in written if immutable else (written & shared or in_place):
        kept = prog.namer.exact("aux_value" if aux in prog.temporaries else f"{aux}_value")
        keep = (Assign(kept, Name(aux) if immutable else Call("snapshot", (Name(aux),)), ret.loc),)
        ref = Name(kept)
    value, grads = ret.value.args
    new_ret = Return(Call("tuple", (Call("tuple", (value, ref)), grads)), ret.loc)
    # (the kept copy ends the forward sweep: body[i] is the backward sweep's marker)
    return Function(adjoint.name, adjoint.params, body[:i] + keep + body[i:-1] + (new_ret,),
                    adjoint.file, adjoint.line)
