"""The forward-mode (tangent, JVP) transform: the primal with its tangent beside it.

Two passes of passes.TANGENT_PIPELINE live here: `run` ("tangent") and `dce`
("tangent-dce": dead tangents dropped, the primal's statements kept).

Input: the normalised primal IR (after the front passes lower..aliasing: three-address
form, structured control flow, calls that modify arguments in functional form), its
types, and `wrt` (the parameters that carry a tangent). Output (`run`): the Program's
`adjoint` field holds the derived function `f_jvp(params..., wrt_dots...)` returning
`(value, value_dot)`; `adjoints` the tangent variables made; `keep` the sids of the
primal's statements (the cleanups never delete them).

Invariants the transform relies on and keeps:

* *Three-address form*: a statement never reads its own target (checked: one that
  does gets its tangent computed before it, with `ans` recomputed), so for
  ``t = op(a, b)`` the tangent ``t_dot = rule.tangent(...)`` is emitted right after the
  primal statement and reads `a`, `b` and `t` (`ans`) as the rule expects.
* *Every tangent is a real value of its primal's shape.* A name is *varied* when it
  depends differentiably on a `wrt` parameter (flow-insensitive fixpoint, the first
  half of passes/activity.py); every assignment to a varied name assigns its tangent,
  a zero one where the value is constant (`0.0` for a float, `np.zeros_like(t)` for a
  float array, `zero_tangent(t)` for lists, tuples and objects: materialised, because
  getitem, reductions and SetItem need the shape). Varied parameters outside `wrt` start at their zero. A
  constant operand of a linear rule becomes `0.0` where it is a scalar (then folded
  away: `x_dot + 0.0` is `x_dot`, shape preserved) and `zero_tangent(c)` otherwise.
* An item assignment's tangent comes *before* it (``u_dot[i] = v_dot; u[i] = v``): the
  tangent's operands may be views of `u` (``_t2 = u[:, j]``), which the primal write
  would change; primal temporaries are consumed before the write (passes/aliasing.py)
  and so are the tangent's. Everything else comes right after its primal statement.
* *Tangents alias exactly as their primals do*: a view's tangent is the same view of
  the tangent (getitem, reshape, transpose are linear), a copy's a copy. Where the
  folding above made a tangent a bare name whose primal is a fresh value, and either
  side is written in place, the tangent is copied (`np.copy`), so an in-place write
  `u_dot[i] = v_dot` never reaches another tangent.
* A list's tangent is a list pushed and popped in step with it: `vals.append(v)` also
  appends `v_dot` to `vals_dot`, `v = vals.pop()` pops `v_dot` (the rule's template),
  a dropped `vals.pop()` pops `vals_dot` too. That is how generated adjoint code (its
  tapes) is read again: forward over reverse, the Hessian-vector product.
* No tape of its own, no trip counters: loops, branches, `break`/`continue` and the returns the
  normaliser placed keep their structure; each `return v` returns `(v, v_dot)` (a
  callee compiled with `outputs` returns `((v, *outs), (v_dot, *out_dots))`).
* Parameters modified in place are copied on entry, their tangents too: the user's
  arrays are never modified.
* A user function called (not inlined) runs as its own tangent, `h_jvp(args..., dots...)
  -> (out, out_dot)` (compiler.Calls.tangent), which replaces the primal call.
* *Batched* (`run(prog, batched=True)`, jacfwd's matrix of tangent columns): every
  tangent written, the parameters' too, carries a leading batch axis; each tangent
  expression is built as above and then rewritten for the batch by rules/batched.py
  (`Batcher`), its zeros made `batch_zeros(x, _batch)`; a called user function runs
  as its own batched tangent. An expression without a batch form raises `Unbatchable`
  (the whole build refuses; jacfwd falls back to one sweep per column).
* Refusals are located adjointc errors: a rule without forward-mode knowledge
  (`NoAdjointRule`, hint `adjointc.defjvp`), a complex value through a rule that does not
  hold for complex values (`TypeMismatch`; the others take their complex variant:
  rules/complex.py), statements no transform supports (`UnsupportedSyntax`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import rules
from .. import types as T
from ..errors import NoAdjointRule, UnsupportedSyntax
from ..ir import (Assign, Block, Break, Call, Comment, Const, Continue, Expr, ExprStmt, For, Function, If, Loc,
                  Name, Param, Return, SetItem, Stmt, While, map_expr, names_in, replace, stmt_reads,
                  stmt_writes, walk, with_bodies)
from ..names import dot
from ..rules.batched import Batcher, Unbatchable
from ..rules.complex import rule_for
from ..rules.tangents import NoTangentRule
from . import activity, sharing
from . import simplify as S

if TYPE_CHECKING:
    from ..program import Program

# ops whose result may share memory with their first argument (besides rules that say so)
_VIEWS = frozenset({"getitem", "attr:T", "np.reshape", "np.ravel", "np.transpose", "np.asarray", "np.squeeze",
                    "np.expand_dims", "np.swapaxes", "np.moveaxis", "np.broadcast_to", "np.diagonal",
                    "np.atleast_1d", "np.atleast_2d", "np.atleast_3d", "attr:real"})


def varied(fn: Function, wrt: tuple[str, ...], types: dict[str, T.T]) -> set[str]:
    """Names whose value depends differentiably on a `wrt` parameter (and can carry a
    derivative): the forward half of activity analysis, a fixpoint over the writes."""
    def can_carry(n: str) -> bool:
        t = types.get(n)
        return t is None or t.differentiable
    stmts = [activity._Append(s) if isinstance(s, ExprStmt) else s for s in walk(fn.body)
             if isinstance(s, (Assign, SetItem)) or (
                 isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append")]
    srcs = [activity.diff_operands(s.value) for s in stmts]
    out = {w for w in wrt if can_carry(w)}
    changed = True
    while changed:
        changed = False
        for s, src in zip(stmts, srcs):
            if s.target not in out and can_carry(s.target) and any(x in out for x in src):
                out.add(s.target)
                changed = True
    return out


def _comment(s: Stmt) -> Comment:
    return Comment(f"line {s.loc.line}: {s.loc.text.strip()}", s.loc)


class Forward:
    """The transform of one function; `block` maps primal statements to primal + tangent."""

    def __init__(self, prog: "Program", outputs: tuple[str, ...], batched: bool = False):
        self.p, self.types, self.outputs = prog, prog.types, outputs
        self.varied = varied(prog.fn, prog.wrt, prog.types)
        for s in walk(prog.fn.body):
            if isinstance(s, For) and s.target in self.varied:
                raise UnsupportedSyntax("a loop variable that carries a derivative", s.loc,
                                        "loop over an index: for i in range(len(xs)): v = xs[i]")
        self.dots = dot_names(prog.fn, self.varied)  # primal name -> its tangent's name
        self.namer = prog.namer.copy()  # (the Program's is replaced, not changed: see program.py)
        self.namer.taken |= set(self.dots.values())
        self.sid = prog.last_sid  # (the statements standing for a primal one get sids: never deleted)
        self.kept: set[int] = set()
        self.oracle = S.TypeOracle({**self.types, **{d: self.types[n] for n, d in self.dots.items()
                                                     if n in self.types}}, prog.consts)
        written = {s.target for s in walk(prog.fn.body) if isinstance(s, SetItem)} | {
            s.value.args[0].id for s in walk(prog.fn.body) if isinstance(s, ExprStmt)
            and isinstance(s.value, Call) and s.value.op == "method:append"} | set(prog.mutated)
        # batched (jacfwd's columns): every tangent written has a leading batch axis
        self.bat = Batcher(self.oracle.of, set(self.dots.values()), self.namer.exact("_batch")) if batched \
            else None
        bases = sharing.base_map(prog.fn.body, prog.types)
        # (names whose memory an in-place write may reach: the written, what they view, their views)
        self.inplace = written | {b for n in written for b in bases.get(n, ())} | {
            n for n, bs in bases.items() if bs & written}

    def keep(self, s: Stmt) -> Stmt:
        self.sid += 1
        self.kept.add(self.sid)
        return replace(s, sid=self.sid)

    # ----------------------------------------------------------------- tangents
    def of(self, e: Expr) -> Expr | None:
        """The tangent of an operand, None when it is constant."""
        if isinstance(e, Name) and e.id in self.varied:
            return Name(self.dots[e.id])
        return None

    def zero(self, e: Expr) -> Expr:
        """A zero tangent of `e`'s shape (see the module docstring)."""
        t = self.oracle.of(e)
        if (isinstance(e, Const) and isinstance(e.value, (int, float))) or t.kind in ("float", "int", "bool"):
            return Const(0.0)
        if t.kind == "array" and t.dtype == "f":
            return Call("np.zeros_like", (e,))  # (what zero_tangent does, without its dispatch)
        return Call("zero_tangent", (e,))

    def tidy(self, e: Expr) -> Expr:
        """A rule's tangent with its zeros made concrete (`zeros_like(c)`) and folded."""
        e = map_expr(e, lambda n: self.zero(n.args[0]) if isinstance(n, Call) and n.op == "zeros_like"
                     and len(n.args) == 1 else None)
        return S.fold(e, self.oracle)

    # ------------------------------------------------------------------- blocks
    def block(self, b: Block) -> list[Stmt]:
        out: list[Stmt] = []
        for s in b:
            out += self.stmt(s)
        return out

    def stmt(self, s: Stmt) -> list[Stmt]:
        if isinstance(s, Assign):
            return self.assign(s)
        if isinstance(s, SetItem):
            if s.target not in self.varied:
                return [s]
            v = self.of(s.value)
            if v is None:
                kind = self.types.get(s.target, T.UNKNOWN).kind
                v = Const(0.0) if kind == "array" else self.zero(s.value)
            index = s.index
            if self.bat:
                index, v = self.bat.setitem(s.target, s.index, v)
            # the tangent first: its operands may view the memory the primal write changes
            # (`_t2 = Y[:, j]` read by `_t2 * s_dot[j]`); primal temporaries are consumed
            # before the write (passes/aliasing.py), so the tangent's must be too
            return [_comment(s), SetItem(self.dots[s.target], index, v, s.loc), s]
        if isinstance(s, (If, For, While)):
            return [with_bodies(s, lambda b: tuple(self.block(b)))]
        if isinstance(s, Return):
            return [self.ret(s)]
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
            lst, v = s.value.args[0], s.value.args[1]
            if not (isinstance(lst, Name) and lst.id in self.varied):
                return [s]
            vd = self.of(v) or self.zero(v)
            if self.bat:
                vd = self.bat.value(vd, v)
            return [_comment(s), s, ExprStmt(Call("method:append", (Name(self.dots[lst.id]), vd)), s.loc)]
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:pop":
            # (a value dropped from a tape, generated code read again: its tangent list in step)
            lst = s.value.args[0]
            if not (isinstance(lst, Name) and lst.id in self.varied):
                return [s]
            return [s, ExprStmt(Call("method:pop", (Name(self.dots[lst.id]),)), s.loc)]
        if isinstance(s, (Break, Continue, Comment)) or (
                isinstance(s, ExprStmt) and isinstance(s.value, Call)
                and getattr(rules.lookup(s.value.op), "nondiff", False)):
            return [s]
        raise UnsupportedSyntax(f"cannot differentiate the statement {type(s).__name__} in forward mode", s.loc)

    def assign(self, s: Assign) -> list[Stmt]:
        t, val = s.target, s.value
        if val == Name(t):
            return [s]  # `x = x` (inlining `h(x)` with a parameter x): the identity
        if isinstance(val, Call) and val.calls_user and any(self.of(a) for a in val.args + tuple(
                v for _, v in val.kwargs)):
            return self.call(s)
        if t not in self.varied:
            return [s]
        e = self.tangent(s)
        if e is None:
            e = self.zero(Name(t))
        if self.bat:
            e = self.bat.top(e, Name(t))
        if isinstance(e, Name) and not isinstance(val, Name) and not self.may_view(val) and (
                t in self.inplace or e.id in {self.dots.get(n) for n in self.inplace}) and \
                self.types.get(t, T.UNKNOWN).kind in ("array", "unknown", "list"):
            # (a fresh value's tangent must not alias: see the module docstring)
            e = Call("np.copy" if self.types.get(t, T.UNKNOWN).kind == "array" else "copy_adjoint", (e,))
        if t in set(names_in(val)):
            # not three-address (never made by the frontend): the tangent first, reading the
            # old operands, with `ans` recomputed
            e = _substitute_name(e, t, val)
            return [_comment(s), Assign(self.dots[t], e, s.loc), s]
        return [_comment(s), s, Assign(self.dots[t], e, s.loc)]

    def may_view(self, val: Expr) -> bool:
        if not isinstance(val, Call):
            return False
        rule = rules.lookup(val.op)
        return val.op in _VIEWS or bool(rule is not None and rule.returns_view)

    def tangent(self, s: Assign) -> Expr | None:
        """The tangent expression of `t = val`, None when it is zero."""
        val = s.value
        if isinstance(val, Name):
            return self.of(val)
        if not isinstance(val, Call):
            return None
        rule = rules.lookup(val.op)
        if val.calls_user:
            return None  # (no argument carries a tangent: see `assign`)
        at = self.types.get(getattr(val.args[0], "id", ""), T.UNKNOWN).position(val.member) \
            if val.kind == "attr" else None
        if at is not None:   # a namedtuple's field: its tangent is the tuple tangent's entry
            x = self.of(val.args[0])
            return None if x is None else Call("getitem", (x, Const(at)))
        if val.kind == "attr" and (rule is None or self.types.get(
                getattr(val.args[0], "id", ""), T.UNKNOWN).kind == "struct"):
            x = self.of(val.args[0])  # a field of a parameter object: the tangent has its structure
            return None if x is None else Call(val.op, (x,))
        if rule is None:
            raise NoAdjointRule(f"no derivative rule for {val.op!r}", s.loc,
                                "register one with adjointc.defvjp and adjointc.defjvp")
        if rule.nondiff:
            return None
        if any(self.of(a) is not None for a in val.args):   # (complex values: rules/complex.py)
            rule = rule_for(rule, val, self.oracle.of, self.types.get(s.target, T.UNKNOWN), s.loc)[0]
        try:
            bound = rule.bind(val.args, val.kwargs)
            e = rule.tangent(val, bound, self.of, Name(s.target))
        except NoTangentRule as exc:
            raise NoAdjointRule(f"forward mode (jvp) is missing for {rule.op}: {exc}", s.loc,
                                f"register its tangent with adjointc.defjvp({rule.op.split(':')[-1]}, ...) "
                                "(or use reverse mode: adjointc.grad / vjp)") from None
        except TypeError as exc:
            raise UnsupportedSyntax(f"cannot differentiate this call: {exc}", s.loc) from None
        return None if e is None else self.tidy(e)

    def call(self, s: Assign) -> list[Stmt]:
        """`y = h(a, b)`, h a user function: `_h_jvp_out = h_jvp(a, b, a_dot)` (h's own
        tangent, compiled for the arguments that carry one), then y and y_dot from it."""
        calls, call = self.p.calls, s.value
        name = calls.callee(call, self.oracle.of(call.args[0]) if call.args else T.UNKNOWN)
        if name is None:
            raise UnsupportedSyntax(f"cannot differentiate the call of {call.member}", s.loc)
        full = calls.full_args(name, call.args, call.kwargs)
        pos = [i for i, a in enumerate(full) if self.of(a) is not None]
        jvp = calls.tangent(name, [self.oracle.of(a) for a in full], pos)
        out = self.namer.exact(f"_{jvp}_out")
        run = self.keep(Assign(out, Call(jvp, tuple(full) + tuple(self.of(full[i]) for i in pos)), s.loc))
        value = self.keep(Assign(s.target, Call("getitem", (Name(out), Const(0))), s.loc))
        stmts: list[Stmt] = [_comment(s), run, value]
        if s.target in self.varied:
            stmts.append(Assign(self.dots[s.target], Call("getitem", (Name(out), Const(1))), s.loc))
        return stmts

    def ret(self, s: Return) -> Return:
        def tangent_of(e: Expr) -> Expr:
            d = self.of(e) or self.zero(e)
            return self.bat.top(d, e) if self.bat else d
        v, loc = s.value, s.loc
        if self.outputs:
            outs = tuple(Name(o) for o in self.outputs)
            return Return(Call("tuple", (Call("tuple", (v,) + outs), Call("tuple", tuple(
                tangent_of(e) for e in (v,) + outs)))), loc, sid=s.sid)
        return Return(Call("tuple", (v, tangent_of(v))), loc, sid=s.sid)

    # --------------------------------------------------------------- function
    def function(self) -> Function:
        fn, p = self.p.fn, self.p
        loc = Loc(fn.file, fn.line)
        prologue: list[Stmt] = []
        for m in sorted(p.mutated):  # modified in place: on copies, never the caller's arrays
            prologue.append(self.keep(Assign(m, Call("np.copy", (Name(m),)), loc)))
            if m in self.varied and m in p.wrt:
                prologue.append(self.keep(Assign(self.dots[m], Call("np.copy", (Name(self.dots[m]),)), loc)))
        for q in fn.params:  # varied, but not given a tangent: it starts at zero
            if q.name in self.varied and q.name not in p.wrt:
                z = self.zero(Name(q.name))
                prologue.append(Assign(self.dots[q.name], self.bat.top(z, Name(q.name)) if self.bat else z, loc))
        body = tuple(prologue) + tuple(self.block(fn.body))
        # (a wrt parameter that carries no derivative, an int, still gets its dot parameter:
        # the tangent function's signature is fixed by wrt alone)
        params = tuple(Param(q.name) for q in fn.params) + tuple(
            Param(self.dots[w] if w in self.dots else self.namer.exact(dot(w))) for w in p.wrt)
        if self.bat is None:
            return Function(f"{fn.name}_jvp", params, body, fn.file, fn.line)
        if self.bat.used:  # (the batch size, read by the zeros: the first wrt tangent's leading axis)
            if len(params) == len(fn.params):
                raise Unbatchable("a batched tangent with respect to nothing", loc)
            size = Call("getitem", (Call("np.shape", (Name(params[len(fn.params)].name),)), Const(0)))
            body = (Assign(self.bat.nb.id, size, loc),) + body
        return Function(f"{fn.name}_jvp_batch", params, body, fn.file, fn.line)


def _substitute_name(e: Expr, name: str, value: Expr) -> Expr:
    return map_expr(e, lambda n: value if isinstance(n, Name) and n.id == name else None)


def dot_names(fn: Function, names: set[str]) -> dict[str, str]:
    """Each name's tangent's name: `x_dot`, or `x_dot_2` where the primal uses `x_dot`
    (a pure function of the primal: the dce pass finds the same names again)."""
    taken = {q.name for q in fn.params} | {n for s in walk(fn.body) for n in stmt_reads(s) | stmt_writes(s)}
    out: dict[str, str] = {}
    for n in sorted(names):
        d, k = dot(n), 1
        while d in taken:
            k += 1
            d = f"{dot(n)}_{k}"
        taken.add(d)
        out[n] = d
    return out


def run(prog: "Program", batched: bool = False) -> "Program":
    """The "tangent" pass: `adjoint` is the tangent function (see the module docstring);
    `batched`: every tangent with a leading batch axis (rules/batched.py; raises
    `Unbatchable` where a tangent has no batch form)."""
    fw = Forward(prog, prog.outputs, batched)
    fn = fw.function()
    return prog.but(adjoint=fn, adjoints=frozenset(fw.dots.values()), keep=prog.sids() | frozenset(fw.kept),
                    active=frozenset(fw.varied), last_sid=fw.sid, namer=fw.namer)


def dce(prog: "Program") -> "Program":
    """The dead tangents (of names the output never reads) and their line comments go;
    the primal's statements stay (`keep`). Tangents alias as their primals do."""
    adj = prog.adjoint
    bases = sharing.base_map(prog.fn.body, prog.types)
    fw_dots = dot_names(prog.fn, set(prog.active))
    dbases = {**bases, **{fw_dots[n]: {fw_dots[b] for b in bs if b in fw_dots} for n, bs in bases.items()
                          if n in fw_dots}}
    body = S.dce(adj.body, set(prog.keep), dbases)
    return prog.but(adjoint=Function(adj.name, adj.params, body, adj.file, adj.line))
