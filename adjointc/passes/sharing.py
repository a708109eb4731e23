"""The view/alias relation of a primal program, which several passes read.

`base_map(body, types)`: name -> every variable whose memory it may share,
transitively (a view `w = u[1:]`, a rebinding `v = u`, a container holding an
array `t = (u, x)` or `L.append(u)`, a field of a parameter object). Only
mutable values (arrays, lists, unknown objects) can share memory. Which ops
return views is knowledge of their rules (`Rule.returns_view`).

Used by mutation, aliasing, inline, tape (per-object memory facts) and dce.
"""
from __future__ import annotations

from .. import rules
from .. import types as T
from ..ir import Assign, Block, Call, ExprStmt, Name, walk


def returns_view(op: str) -> bool:
    """May the result of `op` share memory with an argument (a view, or a container
    holding it)? The knowledge sits with each rule (`Rule.returns_view`); `ndarray.view`
    has no rule (it is refused) but the alias analyses must still see it."""
    rule = rules.lookup(op)
    return (rule is not None and rule.returns_view) or op == "method:view"


def _immutable(t: T.T) -> bool:
    """A Python number: a list holding one shares nothing with the variable it came from."""
    return t.is_scalar and t.kind != "array"


_LAST: list[tuple] = []  # (body, types, its base map), the latest last: later passes ask again


def base_map(body: Block, types: dict[str, T.T]) -> dict[str, set[str]]:
    """name -> every variable whose memory it may share (transitively).
    Only mutable values (arrays, lists, unknown) can share memory. The same body and
    types objects (the IR is immutable; a Program's types are inferred once per IR)
    give the last answer again: inline, mutation and dce ask it of one program."""
    for b, t, known in _LAST:
        if b is body and t is types:
            return {n: set(bs) for n, bs in known.items()}  # (fresh sets: callers may change theirs)
    out = _base_map(body, types)
    if len(body) > 1:  # (a statement's own: aliasing asks of each, once)
        _LAST[:] = _LAST[-3:] + [(body, types, {n: frozenset(bs) for n, bs in out.items()})]
    return out


def _base_map(body: Block, types: dict[str, T.T]) -> dict[str, set[str]]:
    direct: dict[str, set[str]] = {}
    def holder(e) -> bool:  # a value whose fields are objects: reading one shares it
        return isinstance(e, Name) and types.get(e.id, T.UNKNOWN).kind in ("struct", "unknown", "object")

    for s in walk(body):
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
            lst, item = s.value.args[0], s.value.args[1]  # `out.append(buf)`: out holds buf itself
            if isinstance(lst, Name) and isinstance(item, Name) and not (
                    types.get(item.id, T.UNKNOWN).is_scalar and types.get(item.id, T.UNKNOWN).kind != "array"):
                direct.setdefault(lst.id, set()).add(item.id)
            continue
        t = types.get(getattr(s, "target", ""), T.UNKNOWN)
        if isinstance(s, Assign) and not (t.is_scalar and t.kind != "array"):
            v = s.value
            srcs: list[str] = []
            if isinstance(v, Name):
                srcs = [v.id]
            elif isinstance(v, Call) and (returns_view(v.op) or v.kind == "attr" and holder(v.args[0])):
                srcs = [a.id for a in (v.args if v.op in ("tuple", "list") else v.args[:1]) if isinstance(a, Name)
                        and not (v.op in ("tuple", "list") and _immutable(types.get(a.id, T.UNKNOWN)))]
            for x in srcs:
                direct.setdefault(s.target, set()).add(x)
    out: dict[str, set[str]] = {}
    for n in direct:
        todo, seen = list(direct[n]), set()
        while todo:
            b = todo.pop()
            if b not in seen:
                seen.add(b)
                todo += direct.get(b, ())
        out[n] = seen
    return out
