"""grad returns the gradient alone: the statements that only compute f's value may go.

`grad(f)` (not `value_and_grad`, no `has_aux`, not a callee's or a compiled
backend's adjoint: `Program.value` False) does not need f's value, and a careful
hand-written adjoint does not compute what nothing reads: in
`return np.mean((out - y) ** 2)` the backward sweep reads `out - y`, never its
square nor their mean. The user's own statements are otherwise never deleted
(`Program.keep`: they may raise, or change what another name sees); here some of
them are offered to the dce pass, which deletes those that are dead. A statement
is offered (`droppable`) only if deleting it can change nothing but the value
nobody reads:

* it is at the top level of f's body (run exactly once), an assignment of a
  fresh value to a name: an arithmetic operator (`+ - * /`, `**`, unary `-`) or
  a reduction or elementwise function of one array (`np.sum`, `np.mean`,
  `np.square`, `np.abs`) — never a view, never a call of user code;
* it cannot raise: its operands are Python floats, real float arrays or number
  literals (no int variables, whose powers and conversions can raise), two array
  operands have the same shape (the types say so: no broadcast that could fail), and
  `/` and `**` have an array operand (NumPy warns where Python raises
  `ZeroDivisionError`).

`possible` says whether the value may go at all: f's result must be a real float
by its type (the check that grad's output is a real scalar is then static: the
wrapper has no value to check). The adjoint then returns `(None, gradients)`,
unless the value is computed anyway (`returned_if_computed`: a loop's accumulator).
And where leaving it out would leave a statement of f's that was not offered (it may
raise: `math.sin(y)`, `x ** k` of an int k) computing what nothing reads any more
(`orphaned`), the dce pass starts again from the adjoint returning the value
(`with_value`, every statement of f's kept): the generated code never holds a dead
statement for the value's sake.
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Assign, Call, Const, Name, Return, all_reads, all_writes, backward_start, walk
from .. import types as T

_ARITHMETIC = frozenset({"add", "sub", "mul", "neg"})
_NEEDS_AN_ARRAY = frozenset({"truediv", "pow"})
_OF_ONE_ARRAY = frozenset({"np.sum", "np.mean", "np.square", "np.abs"})


def possible(prog) -> bool:
    """May the adjoint leave out f's value (see the module doc)?"""
    return not prog.value and prog.types.get(prog.result, T.UNKNOWN).kind == "float"


def droppable(prog) -> frozenset[int]:
    """The sids of f's statements the dce pass may delete when they are dead."""
    types, params = prog.types, {p.name for p in prog.fn.params}
    out = set()
    for s in prog.fn.body:
        if isinstance(s, Assign) and s.target not in params and _safe(s.value, types):
            out.add(s.sid)
    return frozenset(out)


def _real(e, types) -> T.T | None:
    """The type of operand `e` if it is a Python float or a real float array, else None."""
    if isinstance(e, Const):  # (a literal: a float, or an int a float holds exactly, as in `t ** 2`)
        ok = type(e.value) is float or (type(e.value) is int and abs(e.value) < 2 ** 53)
        return T.T("float") if ok else None
    if isinstance(e, Name):
        t = types.get(e.id)
        if t is not None and (t.kind == "float" or (t.kind == "array" and t.dtype == "f")):
            return t
    return None


def _safe(v, types) -> bool:
    if not isinstance(v, Call) or v.kwargs:
        return False
    operands = [_real(a, types) for a in v.args]
    if not operands or any(t is None for t in operands):
        return False
    arrays = [t for t in operands if t.kind == "array"]
    if v.op in _OF_ONE_ARRAY:
        return len(v.args) == 1 and len(arrays) == 1
    if v.op in _ARITHMETIC or (v.op in _NEEDS_AN_ARRAY and arrays):
        return len(v.args) <= 2 and all(T.same_shape(arrays[0], t) for t in arrays[1:])
    return False


def returned_if_computed(body: tuple, result: str, value: bool) -> tuple[tuple, bool]:
    """After dce: where the value was left out but the forward sweep still computes it
    (the statements were not dead: the backward sweep reads them), binds it on every
    path (an assignment at its top level) and the backward sweep never rebinds it, the
    adjoint returns it after all: `return (s, (x_bar,))` costs nothing and reads as the
    function does. Returns the body and whether the adjoint now returns the value."""
    if value:
        return body, True
    i = backward_start(body)
    # (a top-level assignment runs on every path: result is bound when the sweep ends)
    bound = any(isinstance(s, Assign) and s.target == result for s in body[:i])
    if not bound or result in all_writes(body[i:]):
        return body, False
    ret = body[-1]
    pair = ret.value
    return body[:-1] + (replace(ret, value=replace(pair, args=(Name(result),) + pair.args[1:])),), True


def orphaned(body: tuple, kept: frozenset[int]) -> bool:
    """Does the forward sweep hold an assignment of f's own (a sid in `kept`, which dce
    never deletes) to a name nothing reads (the result too: `result = ...` in a branch)?"""
    i = backward_start(body)
    read = all_reads(body)
    return any(isinstance(s, Assign) and s.sid in kept and s.target not in read for s in walk(body[:i]))


def with_value(body: tuple, result: str, namer) -> tuple:
    """The adjoint `reverse.assemble` makes when the value is wanted, from the one made
    without it: the copy `result_value = result` ending the forward sweep, returned."""
    i = backward_start(body)
    ret = body[-1]
    kept = namer.exact(f"{result}_value")
    pair = replace(ret.value, args=(Name(kept),) + ret.value.args[1:])
    return body[:i] + (Assign(kept, Name(result), ret.loc),) + body[i:-1] + (Return(pair, ret.loc),)
