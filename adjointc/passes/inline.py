"""Inline small user functions into their callers.

A call to a user function normally goes through the callee's own adjoint
(joint mode: `rhs_vjp(...)` re-runs the callee in the caller's backward sweep,
see compiler.Calls). For a small helper without loops — a right-hand side, a flux,
a boundary condition — the overhead of that path (binding arguments, a second
Python function, the re-run) dominates, where a hand-written adjoint would
simply have the helper's statements in place. Such callees are spliced into
the caller: their variables renamed `name_callee` (temporaries get fresh
temporaries), their parameters replaced by the arguments, so a helper that
writes into its array argument (`u[0] = left`) writes into the caller's array,
exactly as Python does.

Kept as calls (joint mode): callees with loops (a checkpoint per call bounds
the memory of long inner loops), recursion, more than MAX_STATEMENTS
statements, a return that is not the last statement, globals that mean
something else in the caller's module, and parameters that are modified in
place while the argument is not a plain variable (those go through
passes/mutation.py).

`splice` is the one splicing of a body into a call site: this pass's, and the
frontend's for nested defs and lambdas (frontend/nested.py), which are always inlined (they
read the enclosing function's variables, their free names, at the call).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, Callable, Iterable, Sequence

from .. import funcvals
from .. import types as T
from ..ir import (Assign, Block, Call, Const, Expr, ExprStmt, For, Function, If, Loc, Name, Return, SetItem, Stmt,
                  While, map_expr, map_stmts, stmt_reads, walk, with_bodies)
from .mutation import may_share, modifies
from .sharing import base_map

MAX_STATEMENTS = 60
MAX_DEPTH = 4
ENABLED = True  # tests switch it off to exercise the joint-mode call path on the same corpus


def inline(fn: Function, types: dict[str, T.T], calls: Any, namer: Any, fresh: dict[str, str] | None = None,
           last_sid: int = 0) -> tuple[Function, dict[str, Any], set[str]]:
    """`fn` with small callees inlined; the globals the inlined code reads; the
    callees' own variables under their new names (user variables, for the
    aliasing check). `fresh`: the names of `fn` a Namer made (Program.fresh);
    `last_sid`: the largest sid of `fn` (the statements inlining makes are numbered
    after it, so that they are told apart by sid)."""
    if not ENABLED or calls is None or getattr(calls, "caller_globals", None) is None:
        return fn, {}, set()
    uses = Counter(n for s in walk(fn.body) for n in stmt_reads(s))
    names = {p.name for p in fn.params} | {s.target for s in walk(fn.body) if isinstance(s, (Assign, For, SetItem))}
    il = _Inliner(types, calls, namer, uses, base_map(fn.body, types), names, fresh, last_sid)
    body = il.block(fn.body, ())
    if not il.changed:
        return fn, {}, set()
    body = _drop_dead(body, il.inlined)
    return Function(fn.name, fn.params, body, fn.file, fn.line), il.globals_read, il.user_locals


def _drop_dead(body: Block, inlined: set[int]) -> Block:
    """Remove inlined assignments nobody reads (`scale_in_place(u, c)` as a statement
    computes a result the caller discards; `inlined` holds the sids of the statements
    inlining made). User-function calls stay: they may modify their arguments."""
    while True:
        reads = Counter(n for s in walk(body) for n in stmt_reads(s))
        dead = {s.sid for s in walk(body) if s.sid in inlined and isinstance(s, Assign) and not reads[s.target]
                and not (isinstance(s.value, Call) and s.value.calls_user)}
        if not dead:
            return body
        body = _without(body, dead)


def _without(body: Block, dead: set[int]) -> Block:
    return map_stmts(body, lambda s, _rest: () if s.sid in dead else None)


class _Inliner:
    def __init__(self, types, calls, namer, uses, bases, caller_names, fresh, last_sid):
        self.bases = bases
        self.fresh = fresh or {}  # the caller's names a Namer made -> their hints (Program.fresh)
        self.last_sid = last_sid
        self.caller_names = caller_names
        from .types import TypeEnv
        self.te = TypeEnv(types, {}, calls)
        self.uses = uses
        self.inlined: set[int] = set()  # sids of the statements inlining created
        self.user_locals: set[str] = set()
        self.types, self.calls, self.namer = types, calls, namer
        self.globals_read: dict[str, Any] = {}
        self.changed = False

    def block(self, body: Block, stack: tuple) -> tuple:
        out: list[Stmt] = []
        for i, s in enumerate(body):
            if isinstance(s, (For, While, If)):
                out.append(with_bodies(s, lambda b: self.block(b, stack)))
            elif isinstance(s, Assign) and isinstance(s.value, Call) and s.value.calls_user:
                later = [x for x in body[i + 1:] if x.loc.line == s.loc.line and x.loc.file == s.loc.file]
                out += self.call(s, stack, later)
            else:
                out.append(s)
        return tuple(out)

    def call(self, s: Assign, stack: tuple, later: list[Stmt]) -> list[Stmt]:
        """`later`: the rest of the call's source statement (`y = u[1:] * h(u)`)."""
        call = s.value
        try:
            receiver = self.te.of(call.args[0]) if call.args else T.UNKNOWN
            name = self.calls.callee(call, receiver)
        except Exception:  # noqa: BLE001 - the type pass reports unresolvable calls properly
            return [s]
        if name is None or name in stack or len(stack) >= MAX_DEPTH or name in self.calls.wrappers:
            return [s]
        low = self.calls.lowered(name)
        if low is None or not self.inlinable(low):
            return [s]
        full = self.calls.full_args(name, call.args, call.kwargs)
        params = [p.name for p in low.function.params]
        body = low.function.body
        ret = body[-1]
        short = name.split(":")[-1].split(".")[-1]
        rebinds: list[str] = []
        for p, a in zip(params, full):
            t = self.te.of(a)  # (an argument of unknown type may be an array: modified in place)
            ptypes = {p: T.array(None) if t.kind in ("unknown", "object") else t}
            modified = any(modifies(st, p, ptypes) for st in walk(body))
            rebound = any(isinstance(st, (Assign, For)) and st.target == p
                          and not modifies(st, p, ptypes) for st in walk(body))
            if modified and (rebound or not isinstance(a, Name) or self.made_name(a.id)):
                return [s]  # passes/mutation.py handles it as a call
            if modified and any(isinstance(b, Name) and b != a and may_share(self.bases, a.id, b.id)
                                for b in full):
                return [s]  # another argument may view the modified one: passes/mutation.py refuses
            if modified and any(stmt_reads(x) - {s.target} for x in later):
                return [s]  # values read before the call and used after it: passes/mutation.py refuses
            if modified and ret.value == Name(p) and not self.made_name(s.target):
                return [s]  # `y = h(u)` returning the modified u: y aliases u (the call path rebinds)
            if rebound:
                rebinds.append(p)
        # a specialisation (funcvals.py) calls its function values by its parameters' names:
        # in the caller, those calls are of the functions the caller passed, by its names
        statics = funcvals.statics_of(self.calls.callees.get(name))
        ops: dict[str, str] = {}
        args = dict(zip(params, full))
        for p, f in statics.items():
            a = args.get(p)
            if not isinstance(a, Name) or p in rebinds:
                return [s]
            ops[f"call:{p}"] = f"call:{a.id}"
            self.calls.callees.setdefault(a.id, f)
            if self.calls.callees[a.id] is not f:
                return [s]
        locals_ = {st.target for st in walk(body) if isinstance(st, (Assign, For))} - set(params)

        def fresh_hint(n: str) -> str | None:
            hint = low.fresh.get(n)
            return hint if hint is not None and _word(hint) else None
        made, env = splice(body[:-1], params, full, locals_, short, self.namer, s.loc, bind=rebinds,
                           fresh_hint=fresh_hint, note=short, ops=ops)
        self.user_locals |= {env[p].id for p in rebinds} | {env[n].id for n in locals_ if fresh_hint(n) is None}
        binds, stmts = made[:len(rebinds)], made[len(rebinds):]
        result = _subst(ret.value, env, ops)
        r_type = self.calls.effects(name, [self.te.of(a) for a in full]).result  # (cached)
        if isinstance(ret.value, Name) and ret.value.id in locals_ and r_type.kind in ("array", "unknown") and any(
                modifies(st, ret.value.id, {ret.value.id: r_type}) for st in walk(body)):
            # `r = np.zeros_like(u); r[1:-1] = ...; return r`: the caller gets its own copy, so
            # that the in-place construction of r never counts as a change of the caller's value
            result = Call("np.copy", (result,))
        made = self.number(tuple(binds + stmts) + (Assign(s.target, result, s.loc),))
        binds, stmts, final = list(made[:len(binds)]), list(made[len(binds):-1]), made[-1]
        self.inlined |= {st.sid for st in walk(made[:-1])}
        if not self.uses[s.target]:
            self.inlined.add(final.sid)
        self.changed = True
        self.globals_read.update(low.globals_read)
        self.namer.taken |= set(low.globals_read)
        self.caller_names |= {v.id for v in env.values() if isinstance(v, Name)}
        for k, f in low.callees.items():
            if k not in statics:
                self.calls.callees.setdefault(k, f)
        inner = self.block(tuple(binds + stmts), stack + (name,))
        return list(inner) + [final]

    def number(self, block: Block) -> Block:
        """`block` (statements inlining made) with sids after every sid given out."""
        from ..program import number
        fn, self.last_sid = number(Function("", (), block, "", 0), self.last_sid)
        return fn.body

    def made_name(self, name: str) -> bool:
        """Did a Namer make `name` with a plain-word hint (`_t3`, `_idx1`), the caller's
        frontend or this pass (the fresh names of the callees it copied)?"""
        hint = self.namer.made.get(name, self.fresh.get(name))
        return hint is not None and _word(hint)

    def inlinable(self, low) -> bool:
        body = low.function.body
        stmts = list(walk(body))
        if len(stmts) > MAX_STATEMENTS or any(isinstance(st, (For, While)) for st in stmts):
            return False
        if not body or not isinstance(body[-1], Return) or sum(isinstance(st, Return) for st in stmts) != 1:
            return False
        live = self.calls.caller_globals
        # a global of the callee must mean the same in the caller, and no caller variable
        # may have its name (`k` a module constant there, a parameter here)
        return all(n in live and live[n] is v and n not in self.caller_names for n, v in low.globals_read.items())


def splice(body: Block, params: Sequence[str], args: Sequence[Expr], own: Iterable[str], callee: str,
           namer: Any, loc: Loc, bind: Iterable[str] = (), fresh_hint: Callable[[str], str | None] | None = None,
           note: str = "", ops: dict[str, str] | None = None) -> tuple[list[Stmt], dict[str, Expr]]:
    """The one splicing of a function's body into a call site (a module-level callee
    here, a nested def or lambda in the frontend, frontend/nested.py): the statements that run the
    call in the caller, and what each of the callee's names became.

    A parameter is replaced by its argument (a Name: Python passes the object, so a write
    `a[0] = ...` in the callee is a write into the caller's array; a constant the callee
    never writes into), except those in `bind` (rebound by the callee) and arguments of
    another form, which are assigned to a variable `p_callee` first. The callee's own
    variables `own` are renamed `v_callee`, or fresh (`fresh_hint(v)` a hint: one
    statement's values). Every other name is free and left as it is: a module constant,
    or a variable of the enclosing function read at the call (what a closure cell holds
    when the call runs). `note`: appended to each copied statement's source text."""
    bind, written = set(bind), {st.target for st in walk(body) if isinstance(st, SetItem)}
    env: dict[str, Expr] = {}
    binds: list[Stmt] = []
    for p, a in zip(params, args):
        if p in bind or not (isinstance(a, Name) or isinstance(a, Const) and p not in written):
            env[p] = Name(namer.exact(_local(p, callee)))
            binds.append(Assign(env[p].id, a, loc))
        else:
            env[p] = a
    for n in sorted(set(own) - set(params)):
        hint = fresh_hint(n) if fresh_hint is not None else None
        env[n] = Name(namer.fresh(hint) if hint else namer.exact(_local(n, callee)))
    return binds + [_copy(st, env, note, ops or {}) for st in body], env


def _copy(st: Stmt, env: dict[str, Expr], note: str, ops: dict[str, str]) -> Stmt:
    """`st` with the callee's names replaced (`env`), its source text marked `(note)`."""
    st = replace(st, sid=0)  # (a copy: numbered where it lands, program.number)
    if note and st.loc.text:
        st = replace(st, loc=replace(st.loc, text=f"{st.loc.text.strip()}  ({note})"))
    def e(x: Expr) -> Expr:
        return _subst(x, env, ops)
    if isinstance(st, Assign):
        return replace(st, target=_target(st.target, env), value=e(st.value))
    if isinstance(st, SetItem):
        return replace(st, target=_target(st.target, env), index=e(st.index), value=e(st.value))
    if isinstance(st, (ExprStmt, Return)):
        return replace(st, value=e(st.value))
    if isinstance(st, If):
        return replace(st, test=e(st.test), body=tuple(_copy(x, env, note, ops) for x in st.body),
                       orelse=tuple(_copy(x, env, note, ops) for x in st.orelse))
    if isinstance(st, While):
        return replace(st, test=e(st.test), body=tuple(_copy(x, env, note, ops) for x in st.body))
    if isinstance(st, For):
        return replace(st, target=_target(st.target, env), iter=e(st.iter),
                       body=tuple(_copy(x, env, note, ops) for x in st.body))
    return st  # (break, continue, comment)


def _word(hint: str) -> bool:
    """A hint that is one lowercase word (`t`, `cond`, `idx`): its names are one
    statement's values, renamed fresh when copied (not `h_ret`, a callee's result)."""
    return hint.isalpha() and hint.isascii() and hint.islower()


def _local(n: str, callee: str) -> str:
    """The caller's name for the callee's variable n: `v_h`. Never `..._bar`, which
    names adjoints (a callee called `bar` would make its `v` the caller's `v_bar`)."""
    new = f"{n.lstrip('_')}_{callee}"
    return new + "_" if new.endswith("_bar") else new


def _target(t: str, env: dict[str, Expr]) -> str:
    v = env.get(t)
    return v.id if isinstance(v, Name) else t


def _subst(e: Expr, env: dict[str, Expr], ops: dict[str, str] | None = None) -> Expr:
    def one(x: Expr) -> Expr | None:
        if isinstance(x, Name):
            return env.get(x.id)
        if ops and isinstance(x, Call) and x.op in ops:
            return Call(ops[x.op], x.args, x.kwargs)
        return None
    return map_expr(e, one)
