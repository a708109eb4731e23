"""The tape sites as statements: what the forward sweep records, as the tape pass decided.

reverse.py builds both sweeps with a `tape.Save` / `tape.Restore` placeholder pair
at every overwrite (a `tape.Site`); `tape.decide` says for each site VALUE, SHAPE
or NOTHING. `Emit` replaces the placeholders: a push of the value (`_tape_x` lists
inside loops, `_saved_x` variables outside; the slice an in-place write overwrites,
copied) and its pop, a push of `stand_in(x)` (SHAPE), or nothing; an `append`'s
site becomes a `pop()` of the list in the backward sweep. `prologue` holds what
the pushes need first (each tape list, and `x = None` for a name that may be
unbound at its first push), once each, in the order of the sites.

Invariants: tape names follow the sites' order (deterministic text); forward
statements are kept as they are; a backward loop or branch left empty goes (the
tape pass did not count its range or test as read: tape._Scan).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from .. import types as T
from ..ir import (BACKWARD_SWEEP, FORWARD_SWEEP, Assign, Block, Call, Comment, Const, Expr, ExprStmt, For,
                  Function, If, Name, Param, SetItem, Stmt, While, with_bodies)
from ..names import Namer, bar
from . import tape


class Emit:
    """The statements of every site (see the module docstring)."""

    def __init__(self, sites: list[tape.Site], facts: tape.Tape, namer: Namer, types: Mapping[str, T.T]):
        self.namer, self.types = namer, types
        self.prologue: dict[str, Stmt] = {}  # target -> its initialisation
        self.out: dict[int, tuple[list[Stmt], list[Stmt]]] = {}
        for site in sites:
            how = facts.decision(site)
            if how != tape.NOTHING:
                self.out[site.index] = self.site(site, how)

    def _init(self, name: str, value: Expr) -> None:
        self.prologue.setdefault(name, Assign(name, value))

    def site(self, site: tape.Site, how: str) -> tuple[list[Stmt], list[Stmt]]:
        v, s, loc = site.name, site.stmt, site.stmt.loc
        if site.undo:
            return [], [ExprStmt(Call("method:pop", (Name(v),)), loc)]
        if site.undefined:
            self._init(v, Const(None))
        name = self.namer.exact(f"_tape_{v.lstrip('_')}" if site.in_loop else f"_saved_{v.lstrip('_')}")
        kind = self.types.get(v, T.UNKNOWN)
        entry = not site.whole and T.is_dict(kind)  # (a dict's entry may be inserted: its absence is kept)
        value: Expr = Name(v) if site.whole else Call("dict_entry" if entry else "getitem", (Name(v), s.index))
        if how == tape.SHAPE:
            value = Call("stand_in", (value,))
        elif not site.whole and (kind := self.types.get(v, T.UNKNOWN).kind) not in ("list", "tuple", "struct"):
            # (a list's entry is replaced, never modified; an entry of a value of unknown type
            # may be a Python number, which has no .copy(): snapshot copies what is mutable)
            value = Call("snapshot" if kind == "unknown" else "method:copy", (value,))
        if site.in_loop:
            self._init(name, Call("list"))
            save: Stmt = ExprStmt(Call("method:append", (Name(name), value)), loc)
            popped: Expr = Call("method:pop", (Name(name),))
        else:
            save, popped = Assign(name, value, loc), Name(name)
        restore: Stmt = Assign(v, popped, loc) if site.whole else (
            ExprStmt(Call("restore_entry", (Name(v), s.index, popped)), loc) if entry
            else SetItem(v, s.index, popped, loc))
        return [save], [restore]

    def sweeps(self, fwd: list[Any], bwd: list[Any]) -> tuple[list[Stmt], list[Stmt]]:
        return list(self.block(fwd, False)), list(self.block(bwd, True))

    def block(self, b: Any, backward: bool) -> Block:
        out: list[Stmt] = []
        for s in b:
            if isinstance(s, (tape.Save, tape.Restore)):
                pair = self.out.get(s.site.index)
                if pair:
                    out += pair[0] if isinstance(s, tape.Save) else pair[1]
            elif isinstance(s, (For, While)):
                body = self.block(s.body, backward)
                if body or not backward:
                    out.append(replace(s, body=body))
            elif isinstance(s, If):
                b1, b2 = self.block(s.body, backward), self.block(s.orelse, backward)
                if b1 or b2 or not backward:
                    out.append(replace(s, body=b1, orelse=b2))
            else:
                out.append(s)
        return tuple(out)


def display(sw: Any, facts: tape.Tape | None = None) -> Function:
    """Both sweeps of `sw` (reverse.Sweeps) as printable IR for `show --after
    reverse|tape`: each site a comment naming what it saves and, once the tape
    pass ran, its decision."""
    def block(b: Any) -> tuple:
        out: list[Stmt] = []
        for s in b:
            if isinstance(s, (tape.Save, tape.Restore)):
                what = "save" if isinstance(s, tape.Save) else "restore"
                how = f": {facts.decision(s.site)}" if facts is not None else ""
                part = "" if s.site.whole else " (the slice written)"
                out.append(Comment(f"[site {s.site.index}] {what} {s.site.name}{part}{how}"))
            elif isinstance(s, (For, While, If)):
                out.append(with_bodies(s, block))
            else:
                out.append(s)
        return tuple(out)
    body = (FORWARD_SWEEP,) + block(sw.fwd) + (BACKWARD_SWEEP,) + block(sw.bwd)
    params = sw.fn.params + (Param(bar(sw.result), Const(1.0)),)
    return Function(f"{sw.fn.name}_grad", params, body, sw.fn.file, sw.fn.line)
