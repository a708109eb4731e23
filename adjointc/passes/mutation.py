"""Calls to user functions that modify an array argument in place.

`s = scale_in_place(u, c)` with `def scale_in_place(u, c): u *= c; ...` changes
the caller's `u` behind the IR's back: the transform reasons about values by
name. So before anything else runs, such a call is rewritten into a
functional form (`rewrite`)::

    _t3 = scale_in_place_returning_u(u, c)   # runs the helper on a copy of u and
    s = _t3[0]                               #   returns (its result, the modified copy)
    u[:] = _t3[1]                            # or `u = _t3[1]` when nothing else sees u

The in-place write is then an ordinary SetItem of the caller (taped and
reversed like any other), and the callee's adjoint receives a cotangent for
the modified copy as well as for its result (`Gradient(outputs=...)` seeds the
final value of the parameter). Applied recursively this composes: a function
that passes its parameter to a mutating helper is itself mutating, because
the write-back into a parameter is a SetItem on it.

`effects` is the callee's side: which array parameters it modifies (the
object the caller passed, not merely the name), whether it returns one of
them, and which parameters its result may be a view of.

Two passes of the pipeline live here (each `Program -> Program`):

* `run` ("mutation"): afterwards no call in `fn` modifies its arguments behind
  the IR's back (every such call is in functional form); a user function whose
  result may view its argument is refused when that argument is also modified
  in place (`check_views`); fact `mutated`: the parameters `fn` writes into
  (a SetItem at any depth), which the adjoint copies on entry; fact `hazards`.
* `legality`: a parameter modified in place is an array (the only in-place
  change adjointc follows in the function differentiated). A callee's
  analysis skips it: its in-place changes are judged by `effects`, which names
  the callee, and the caller puts the call in functional form.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .. import types as T
from ..errors import AliasingError, UnsupportedSyntax
from ..ir import (Assign, Block, Call, Const, ExprStmt, For, Function, Name, Return, SetItem, Stmt, map_stmts,
                  stmt_reads, walk)
from .reverse import _advanced
from .sharing import base_map

if TYPE_CHECKING:
    from ..program import Program


@dataclass(frozen=True)
class Effects:
    result: T.T
    mutated: tuple[str, ...] = ()       # array parameters whose object the function modifies
    result_param: str | None = None     # the function returns that modified parameter itself
    result_views: tuple[str, ...] = ()  # (unmodified) parameters its result may share memory with


def modifies(s: Stmt, p: str, types: dict[str, T.T]) -> bool:
    """Does `s` change the object `p` refers to (rather than rebind the name)?"""
    if isinstance(s, SetItem):
        return s.target == p
    if isinstance(s, Assign) and s.target == p and s.aug:
        return types.get(p, T.UNKNOWN).kind == "array"  # `u *= c` on an array works in place
    if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
        return isinstance(s.value.args[0], Name) and s.value.args[0].id == p
    return False


def _rebinds(s: Stmt, p: str, types: dict[str, T.T]) -> bool:
    return (isinstance(s, (Assign, For)) and s.target == p and not modifies(s, p, types))


def effects(fn: Function, types: dict[str, T.T], result: str) -> Effects:
    """What a call of `fn` does to its arguments (see the module docstring). A
    parameter that is both modified in place and rebound in a way the analysis
    cannot order, or a non-array parameter modified in place, is refused."""
    params = [p.name for p in fn.params]
    mutated: list[str] = []
    for p in params:
        muts = [s for s in walk(fn.body) if modifies(s, p, types)]
        if not muts:
            continue
        kind = types.get(p, T.UNKNOWN).kind
        if kind != "array":
            raise UnsupportedSyntax(
                f"{fn.name} modifies its argument '{p}' (a {kind}) in place: adjointc follows in-place "
                "changes of array arguments only", muts[0].loc,
                f"build a new value and return it from {fn.name} instead")
        if _modifies_original(fn.body, p, types, fn.name, muts[0]):
            mutated.append(p)
    bases = base_map(fn.body, types)
    # (what any `return v` hands back: the result variable, or each name returned directly
    # when the paths return different names — `return p` on one path is enough for a view)
    returned = {result} | {s.value.id for s in walk(fn.body) if isinstance(s, Return) and isinstance(s.value, Name)}
    shared = set().union(*({n} | bases.get(n, set()) for n in returned)) & set(params)
    result_param = result if result in mutated else None
    ret = next((s for s in walk(fn.body) if isinstance(s, Return)), None)
    for p in sorted(shared & set(mutated)):
        if p != result_param:
            raise AliasingError(
                f"{fn.name} may return a view of its argument '{p}', which it also modifies in place: "
                "adjointc cannot follow both through the call", ret.loc if ret else None,
                f"return a copy from {fn.name} (e.g. `.copy()`), or return '{p}' itself")
    views = tuple(sorted(p for p in shared - set(mutated) if types.get(p, T.UNKNOWN).kind in ("array", "unknown")))
    return Effects(types.get(result, T.UNKNOWN), tuple(mutated), result_param, views)


def _modifies_original(body: Block, p: str, types, fname: str, first_mut: Stmt) -> bool:
    """Is the object passed as `p` modified, given that `p` is modified somewhere?
    True unless the name is first rebound by a plain top-level assignment
    (`u = u.copy()`) before any modification; refused when it cannot tell."""
    rebinds = [s for s in walk(body) if _rebinds(s, p, types)]
    if not rebinds:
        return True
    for s in body:
        sub = list(walk((s,)))
        if any(modifies(x, p, types) for x in sub):
            break
        if any(_rebinds(x, p, types) for x in sub):
            if isinstance(s, Assign):
                return False  # rebound to a new object before any modification
            break
    r = next(s for s in rebinds)
    raise UnsupportedSyntax(
        f"{fname} modifies its argument '{p}' in place (line {first_mut.loc.line}) and also assigns a new "
        f"value to the name '{p}' (line {r.loc.line}): adjointc cannot tell which object a caller sees "
        "modified", first_mut.loc,
        f"use a new name for the new value, or start {fname} with `{p} = {p}.copy()`")


def may_share(bases: dict[str, set[str]], a: str, b: str) -> bool:
    """May `a` and `b` be (views of) the same memory, by the base map of a function?"""
    ra, rb = bases.get(a, set()) | {a}, bases.get(b, set()) | {b}
    return bool(ra & rb)


class _Rewriter:
    def __init__(self, fn: Function, types: dict[str, T.T], calls: Any, namer: Any,
                 is_temp: Callable[[str], bool]):
        from .types import TypeEnv
        self.fn, self.types, self.calls, self.namer = fn, types, calls, namer
        self.is_temp = is_temp
        self.te = TypeEnv(types, {}, calls)
        self.params = {p.name for p in fn.params}
        self.defs: dict[str, list[Assign]] = {}
        for s in walk(fn.body):
            if isinstance(s, Assign):
                self.defs.setdefault(s.target, []).append(s)
        uses = Counter(n for s in walk(fn.body) for n in stmt_reads(s))
        self.uses = uses
        # a temporary read once (`_t = h(u); u = _t`) is not another view of an array
        self.raw_bases = base_map(fn.body, types)
        self.bases = {v: {b for b in bs if not is_temp(b) or uses[b] > 1}
                      for v, bs in self.raw_bases.items()}
        self.hazards: list[tuple[Stmt, str, str]] = []  # (call, argument, callee): result may view argument
        returned: set[str] = set()
        for s in walk(fn.body):  # first, so a later write-back knows which results view which arguments
            if isinstance(s, Assign) and isinstance(s.value, Call) and s.value.calls_user:
                resolved = self.resolve(s.value)
                if resolved is not None:
                    name, full, eff, params = resolved
                    for p in eff.result_views:
                        a = full[params.index(p)]
                        if isinstance(a, Name):
                            self.hazards.append((s, a.id, name))
                    # `v = h(u)` returning the u it modified: v is u, so a later write-back into
                    # u must be in place (v sees it). (A temporary read once, `_t = h(u); u = _t`,
                    # is the write-back itself.)
                    a = full[params.index(eff.result_param)] if eff.result_param else None
                    if isinstance(a, Name) and not (is_temp(s.target) and uses[s.target] <= 1):
                        returned.update((a.id, s.target))
        self.viewed = {n for call, a, _ in self.hazards for n in (a, call.target)} | returned
        self.changed = False

    def resolve(self, call: Call):
        """(callee key, arguments in parameter order, its Effects, parameter names), or None."""
        receiver = self.te.of(call.args[0]) if call.args else T.UNKNOWN
        name = self.calls.callee(call, receiver)
        if name is None:
            return None  # the type pass reports the unresolvable method
        full = self.calls.full_args(name, call.args, call.kwargs)
        return name, full, self.calls.effects(name, [self.te.of(a) for a in full]), self.calls.param_names(name)

    def block(self, body: Block) -> Block:
        self.skip = False

        def one(s: Stmt, rest: Block) -> list[Stmt] | None:
            if self.skip:  # (the write-back of the call before: an Assign, nothing nested)
                self.skip = False
                return []
            if isinstance(s, Assign) and isinstance(s.value, Call) and s.value.calls_user:
                stmts, self.skip = self.call(s, rest)
                return stmts
            return None
        return map_stmts(body, one)

    def call(self, s: Assign, rest: Block) -> tuple[list[Stmt], bool]:
        """The statements replacing `s`, and whether they replace the next statement too."""
        nxt = rest[0] if rest else None
        self.rest = rest
        call = s.value
        resolved = self.resolve(call)
        if resolved is None:
            return [s], False
        name, full, eff, params = resolved
        if not eff.mutated:
            if self.uses[s.target] == 0:  # `log_state(u)`: run for its side effects only
                return [ExprStmt(call, s.loc)], False
            return [s], False
        self.changed = True
        loc = s.loc
        args = {p: full[params.index(p)] for p in eff.mutated}
        for p, a in args.items():
            others = [q for q, b in zip(params, full) if q != p and isinstance(a, Name) and isinstance(b, Name)
                      and may_share(self.raw_bases, a.id, b.id)]
            if others:
                raise AliasingError(f"the arguments '{p}' and '{others[0]}' of {name} may share memory, and "
                                    f"{name} modifies '{p}' in place: the change would show through "
                                    f"'{others[0]}', which adjointc cannot follow", loc,
                                    "pass a copy for one of them (e.g. `u[:2].copy()`)")
        wrapper = self.calls.returning(name, eff.mutated)
        r = self.namer.fresh("t")
        out: list[Stmt] = [Assign(r, Call(f"call:{wrapper}", call.args, call.kwargs), loc)]
        back = args.get(eff.result_param)
        # `u = apply_bc(u)` (lowered `_t = apply_bc(u); u = _t`): the write-back is the assignment
        rebound = (isinstance(back, Name) and isinstance(nxt, Assign) and nxt.target == back.id
                   and nxt.value == Name(s.target) and self.uses[s.target] == 1)
        if eff.result_param is None and self.uses[s.target]:
            out.append(Assign(s.target, Call("getitem", (Name(r), Const(0))), loc))
        for k, p in enumerate(eff.mutated, start=1):
            a = args[p]
            if isinstance(a, Name):
                out += self.write_back(a.id, Call("getitem", (Name(r), Const(k))), name, p, loc)
        if eff.result_param is not None and not rebound and self.uses[s.target]:
            out.append(Assign(s.target, back if isinstance(back, Name) else Call("getitem", (Name(r), Const(0))), loc))
        return out, rebound

    def write_back(self, a: str, new: Call, callee: str, p: str, loc) -> list[Stmt]:
        """Make the caller's `a` hold the modified copy, in place when other names may see it."""
        if self.is_temp(a):
            d = self.defs.get(a, [])
            v = d[0].value if len(d) == 1 else None
            if isinstance(v, Call) and v.op == "getitem" and isinstance(v.args[0], Name) \
                    and not self.is_temp(v.args[0].id) and not _advanced(v.args[1], self.types):
                tmp = self.namer.fresh("t")  # `smooth(u[1:-1])`: write through into u
                return [Assign(tmp, new, loc), SetItem(v.args[0].id, v.args[1], Name(tmp), loc)]
            if not (self.bases.get(a, set()) - {x for x in self.bases.get(a, set()) if self.is_temp(x)}):
                return []  # a fresh temporary: nobody else sees the change
            raise AliasingError(f"{callee} modifies its argument '{p}' in place, and the value passed here "
                                "may be a view of another array: adjointc cannot follow the change", loc,
                                "pass a whole array variable (or a copy and assign the result back)")
        t = self.types.get(a, T.UNKNOWN)
        # Other names that may see a's object: rebinding `a` to the modified copy would
        # hide the change from them. A temporary belongs to one source statement, so
        # only temporaries of the call's own line can still be read after it.
        others = (set(self.bases.get(a, ())) | {n for n, bs in self.bases.items() if a in bs}) - {a}
        for n in sorted(others):
            if self.is_temp(n) and any(n in stmt_reads(x) for x in self.rest if x.loc.line == loc.line):
                raise AliasingError(f"part of '{a}' is read before {callee} modifies '{a}' in place and used "
                                    "after it, in the same statement: adjointc cannot follow that order", loc,
                                    f"call {callee} in a statement of its own")
        seen_by_others = a in self.params or a in self.viewed or any(not self.is_temp(n) for n in others)
        if not seen_by_others:
            return [Assign(a, new, loc)]
        if t.kind == "array" and t.rank == 0:
            raise UnsupportedSyntax(f"{callee} modifies the 0-d array '{a}' in place", loc,
                                    f"return the new value from {callee} instead")
        tmp = self.namer.fresh("t")
        return [Assign(tmp, new, loc),
                SetItem(a, Call("slice", (Const(None), Const(None), Const(None))), Name(tmp), loc)]


def rewrite(fn: Function, types: dict[str, T.T], calls: Any, namer: Any,
            is_temp: Callable[[str], bool]) -> tuple[Function, list[tuple[Stmt, str, str]]]:
    """`fn` with every call to an argument-modifying user function in functional
    form, and the calls whose result may be a view of an argument (for
    `check_views`). `is_temp`: is a name a temporary (one statement's value)?"""
    if calls is None:
        return fn, []
    rw = _Rewriter(fn, types, calls, namer, is_temp)
    body = rw.block(fn.body)
    if not rw.changed:
        return fn, rw.hazards
    return Function(fn.name, fn.params, body, fn.file, fn.line), rw.hazards


def run(prog: "Program") -> "Program":
    """The "mutation" pass (see the module docstring)."""
    fn, hazards = rewrite(prog.fn, prog.types, prog.calls, prog.namer,
                          lambda n: n in prog.temporaries or n in prog.namer.temporaries)
    prog = prog.but(fn=fn, hazards=tuple(hazards))
    check_views(prog.fn, prog.types, hazards)
    params = {p.name for p in prog.fn.params}
    return prog.but(mutated=frozenset(s.target for s in walk(prog.fn.body) if isinstance(s, SetItem)) & params)


def legality(prog: "Program") -> "Program":
    """The "legality" pass: a parameter the function modifies in place is an array."""
    if prog.callee:
        return prog
    for p in sorted(prog.mutated):
        kind = prog.types.get(p, T.UNKNOWN).kind
        if kind != "array":
            w = next(s for s in walk(prog.fn.body) if isinstance(s, SetItem) and s.target == p)
            raise UnsupportedSyntax(f"modifying the argument '{p}' (a {'dict' if kind == 'struct' else kind}) "
                                    "in place: adjointc follows in-place changes of arrays only", w.loc,
                                    f"read the entry into a variable and use that, e.g. `w = {p}[...] * 2.0`")
    return prog


def check_views(fn: Function, types: dict[str, T.T], hazards: list[tuple[Stmt, str, str]]) -> None:
    """A user function whose result may be a view of its argument `u`: refuse
    when the caller also modifies `u` (or an alias of it) in place."""
    if not hazards:
        return
    bases = base_map(fn.body, types)
    for call, a, callee in hazards:
        ends = {a, call.target}  # the argument, the result, and every alias of either
        related = ends | {b for n in ends for b in bases.get(n, set())} | {
            n for n, bs in bases.items() if bs & ends}
        for s in walk(fn.body):
            hit = next((n for n in sorted(related) if modifies(s, n, types)), None)
            if hit is not None:
                raise AliasingError(
                    f"{callee} may return a view of '{a}' (line {call.loc.line}), and '{hit}' is modified "
                    f"in place at line {s.loc.line}: adjointc cannot track an in-place update through "
                    "an alias", call.loc, f"return a copy from {callee}, or copy the result: "
                    f"`{call.target} = {callee.split(':')[-1]}(...).copy()`")
