"""Adjoints of the statement forms that are not one rule's template, and the rule
application itself: a mixin of `reverse.Reverser`.

* `assign_adjoint`: ``t = op(a, b)`` -> ``a_bar += vjp_a(t_bar)`` ... from the
  rule's templates (`adjointc.rules`), with the values the tape pass recomputes
  substituted; element and slice reads scatter into the adjoint in place
  (`scatter`); a field of a parameter object, a list or tuple build, a call of a
  user function (`call_adjoint`, the callee's own adjoint, a checkpoint).
* `setitem_adjoint`: ``u[i] = v`` and the in-place increment ``u[i] = u[i] + d``.
* `append`: ``vals.append(v)``, undone by ``vals.pop()`` where the tape pass says;
  `pop`: ``v = vals.pop()`` (generated code's tapes), undone by ``vals.append(v)``.

Complex values (rules/complex.py, JAX's convention): a call with one takes its rule's
complex variant or is refused, located (`rules.complex.rule_for`); a contribution of such
a call to a real value is its real part (`acc`).

Every method returns backward-sweep statements and registers the adjoints it
names (`ctx.adjoints`); none decides what is recorded (passes/tape.py does).
"""
from __future__ import annotations

from typing import Any

from .. import rules
from .. import types as T
from ..errors import UnsupportedSyntax
from ..ir import (Assign, AugAssign, AugSetItem, Call, Comment, Const, Expr, ExprStmt, Loc, Name, SetItem,
                  Stmt)
from ..names import bar
from ..rules.complex import REAL_VALUED, rule_for
from . import simplify as S
from . import tape


class Adjoints:
    c: Any  # reverse.Context
    defs: dict[str, Expr]

    def cheap_for(self, s: Stmt) -> tape.Valid:  # (reverse.Reverser)
        raise NotImplementedError

    def oracle(self) -> S.TypeOracle:
        """The pass's one type oracle (its memo serves every statement: the types are final)."""
        made = self.__dict__.get("_oracle")  # (the types and constants it was made for, it)
        if made is None or made[0] is not self.c.types or made[1] is not self.c.consts:
            made = self.__dict__["_oracle"] = (self.c.types, self.c.consts, S.TypeOracle(self.c.types, self.c.consts))
        return made[2]

    def append(self, s: ExprStmt) -> tuple[list[Stmt], list[Stmt]]:
        """`vals.append(v)`: undone by `vals.pop()`; v's adjoint is popped off vals_bar."""
        c = self.c
        vals, v = s.value.args[0].id, s.value.args[1]
        site = tape.Site(vals, s, False, c.loop_depth > 0, undo=True, index=len(c.sites))
        c.sites.append(site)
        undo: list[Any] = [tape.Restore(site)]
        adj: list[Stmt] = []
        if vals in c.active and isinstance(v, Name) and v.id in c.active:
            c.adjoints.add(bar(vals))
            adj = [Assign(bar(vals), Call("list_adjoint", (Name(bar(vals)), Name(vals))), s.loc),
                   self.acc(v.id, Call("method:pop", (Name(bar(vals)),)), s.loc)]
        return [s], _comment(s, adj) + undo

    def pop(self, s: Assign) -> list[Stmt]:
        """`v = vals.pop()` (a tape of generated code read again): v's adjoint is pushed
        onto vals_bar, where the adjoint of the matching append pops it (LIFO lines up),
        and v goes back onto vals (so that append's own undo, a pop, finds it)."""
        c = self.c
        call = s.value
        if call.args[1:] or call.kwargs or not isinstance(call.args[0], Name):
            raise UnsupportedSyntax("cannot differentiate list.pop with an index", s.loc,
                                    "pop the last element: `v = vals.pop()`")
        vals, v = call.args[0].id, s.target
        adj: list[Stmt] = []
        if vals in c.active:  # (an inactive v pushes a zero: every append's adjoint pops one)
            c.adjoints.add(bar(vals))
            adj = [Assign(bar(vals), Call("list_adjoint", (Name(bar(vals)), Name(vals))), s.loc),
                   ExprStmt(Call("method:append", (Name(bar(vals)), Name(bar(v)) if v in c.active else Const(0.0))),
                            s.loc)]
            if v in c.active:
                c.adjoints.add(bar(v))
                adj.append(Assign(bar(v), Const(0.0), s.loc))
        return _comment(s, adj) + [ExprStmt(Call("method:append", (Name(vals), Name(v))), s.loc)]

    # -------------------------------------------------------------- adjoints
    def acc(self, v: str, e: Expr, loc: Loc, cplx: bool = False) -> Stmt:
        """`v_bar += e`; the real part of e for a real v where e may be complex (from a
        statement `cplx` with complex values, rules/complex.py): the gradient of a real
        value is real, never a complex number cast (which would drop nothing, or fail)."""
        self.c.adjoints.add(bar(v))
        t = self.c.types.get(v, T.UNKNOWN)
        if T.is_real(t) and not (isinstance(e, Call) and e.op in REAL_VALUED):
            inner = e.args[0] if isinstance(e, Call) and e.op == "unbroadcast" else e   # (typed as its x)
            if cplx or T.is_complex(self.oracle().of(inner)):
                e = Call("np.real", (e,))
        elif cplx and not T.is_complex(t) and t.kind in ("unknown", "object", "array"):
            # (a value the types could not read, `sum(np.sum(v) for v in d.values())`: real or
            # complex is known when it runs, and the gradient of a real one is real)
            e = Call("real_like", (e, Name(v)))
        return AugAssign(bar(v), "add", e, loc)

    def materialize(self, v: str, loc: Loc) -> Stmt:
        self.c.adjoints.add(bar(v))
        return Assign(bar(v), Call("as_adjoint", (Name(bar(v)), Name(v))), loc)

    def assign_adjoint(self, s: Assign) -> list[Stmt]:
        c = self.c
        t, val, loc = s.target, s.value, s.loc
        cplx = False   # (a complex value in the call: rules/complex.py, JAX's convention)
        g = Name(bar(t))
        c.adjoints.add(bar(t))
        out: list[Stmt] = []
        if isinstance(val, Name):
            if val.id in c.active:
                out.append(self.acc(val.id, g, loc))
        elif isinstance(val, Call):
            rule = rules.lookup(val.op)
            if val.calls_user:
                out += self.call_adjoint(s, g)
            elif val.kind == "attr" and _field_position(c.types, val) is not None:
                x = val.args[0]  # a namedtuple's field: its adjoint is the tuple adjoint's entry
                if x.id in c.active:
                    out += self.scatter(x.id, Const(_field_position(c.types, val)), g, s.loc, c.types.get(t))
            elif val.kind == "attr" and (rule is None or c.types.get(
                    getattr(val.args[0], "id", ""), T.UNKNOWN).kind == "struct"):
                x = val.args[0]  # a field of a parameter object: x_bar is a dict of field adjoints
                if isinstance(x, Name) and x.id in c.active:
                    out += self.scatter(x.id, Const(val.member), g, s.loc, c.types.get(t))
            elif val.op == "getitem":
                x = val.args[0]
                if isinstance(x, Name) and x.id in c.active:
                    out += self.scatter(x.id, val.args[1], g, loc, c.types.get(t))
            elif val.op in ("add", "mul") and c.types.get(t, T.UNKNOWN).kind in ("list", "tuple"):
                out += self.list_arith(val, g, loc)
            elif rule is not None and not rule.nondiff:
                if any(isinstance(a, Name) and a.id in c.active for a in val.args):
                    rule, cplx = rule_for(rule, val, self.oracle().of, c.types.get(t, T.UNKNOWN), loc)
                if val.op in ("list", "tuple") and any(isinstance(a, Name) and a.id in c.active for a in val.args):
                    # its templates read t_bar[i]: on a path that never reached a read of t
                    # (an early return), t_bar is still the symbolic zero 0.0
                    c.adjoints.add(bar(t))
                    out.append(Assign(bar(t), Call("shape_adjoint", (g, Name(t))), loc))
                    shaped_already = True
                else:
                    shaped_already = False
                bound = rule.bind(val.args, val.kwargs)
                env = {k: (Call("tuple", v) if isinstance(v, tuple) else v) for k, v in bound.items()}
                env["g"], env["ans"] = g, Name(t)
                contributions: list[Stmt] = []
                shaped = True
                for p, tpl in rule.templates_for(bound).items():
                    arg = bound.get(p)
                    pairs = zip(arg, tpl) if isinstance(arg, tuple) else [(arg, tpl)]
                    for a, tp in pairs:
                        if tp is None or not (isinstance(a, Name) and a.id in c.active):
                            continue
                        shaped = shaped and _takes_zero_cotangent(tp)
                        e = instantiate(rules.parse_template(tp), env, self.cheap_for(s), self.oracle())
                        contributions.append(self.acc(a.id, e, loc, cplx))
                tt = c.types.get(t, T.UNKNOWN)
                if not shaped and not shaped_already and not (tt.is_scalar and tt.kind != "array"):
                    # t_bar may be the symbolic zero 0.0 here (t unused on the path taken, or
                    # on this trip): a template beyond elementwise arithmetic needs its shape
                    c.adjoints.add(bar(t))
                    out.append(Assign(bar(t), Call("shape_adjoint", (g, Name(t))), loc))
                out += contributions
        out.append(Assign(bar(t), Const(0.0), loc))  # the overwritten value's adjoint starts at zero
        return out

    def call_adjoint(self, s: Assign, g: Expr) -> list[Stmt]:
        """`y = h(a, b)` with h a user function: `h_vjp(y_bar, a, b)` reruns h with its
        own adjoint (each call is a checkpoint: its tape lives only during its own
        backward sweep) and returns the adjoints of the active arguments."""
        c = self.c
        call = s.value
        oracle = self.oracle()
        name = c.calls.callee(call, oracle.of(call.args[0]) if call.args else T.UNKNOWN)
        full = c.calls.full_args(name, call.args, call.kwargs)
        pos = [i for i, a in enumerate(full) if isinstance(a, Name) and a.id in c.active]
        if not pos:
            return []
        vjp = c.calls.adjoint(name, [oracle.of(a) for a in full], pos)
        tmp = c.namer.exact(f"_{name.split('.')[-1].split(':')[-1]}_bars")
        cheap = self.cheap_for(s)
        args = tuple(cheap.substitute(a) for a in call.args)
        kwargs = tuple((k, cheap.substitute(v)) for k, v in call.kwargs)
        out: list[Stmt] = [Assign(tmp, Call(vjp, (g,) + args, kwargs), s.loc)]
        for k, i in enumerate(pos):
            out.append(self.acc(full[i].id, Call("getitem", (Name(tmp), Const(k))), s.loc))
        return out

    def list_arith(self, val: Call, g: Expr, loc: Loc) -> list[Stmt]:
        """`L + M` (concatenation) and `L * n` / `n * L` (repetition) of lists or tuples: the
        element adjoints go back to their parts (rules/helpers/shape.py)."""
        c, out = self.c, []
        a, b = val.args
        for k, x in enumerate((a, b)):
            if not (isinstance(x, Name) and x.id in c.active):
                continue
            if val.op == "add":
                out.append(self.acc(x.id, Call("unconcat_list", (g, a, b, Const(k))), loc))
            else:
                out.append(self.acc(x.id, Call("unrepeat_list", (g, x, b if k == 0 else a)), loc))
        return out

    def scatter(self, x: str, index: Expr, g: Expr, loc: Loc, elem: T.T | None = None) -> list[Stmt]:
        """Adjoint of reading x[index]: add g into x_bar[index]."""
        c = self.c
        out = [self.materialize(x, loc)]
        xt = c.types.get(x, T.UNKNOWN)
        kind = xt.kind
        if T.is_dict(xt):
            # an entry of a dict (its key any hashable value, never an index array): added
            # functionally, an entry's adjoint array may be another adjoint's (add_adjoint)
            old = Call("getitem", (Name(bar(x)), index))
            out.append(SetItem(bar(x), index, Call("add_adjoint", (old, g)), loc))
        elif kind in ("tuple", "list", "struct", "unknown", "object") and not (
                kind in ("unknown", "object") and _advanced(index, c.types)) and (
                elem is None or elem.kind in ("tuple", "list", "struct", "unknown", "object")):
            # an element that is itself a structure: its adjoint is a list/dict, which `+=` would
            # concatenate or reject; add element by element instead
            old = Call("getitem", (Name(bar(x)), index))
            out.append(SetItem(bar(x), index, Call("add_adjoint", (old, g)), loc))
        elif _advanced(index, c.types):
            out.append(ExprStmt(Call("np.add.at", (Name(bar(x)), index, g)), loc))
        else:
            out.append(AugSetItem(bar(x), index, "add", g, loc))
        return out

    def increment(self, s: SetItem) -> Expr | None:
        """`u[i] = u[i] + d` (also `u[i] += d`): the d of an in-place increment."""
        v = s.value
        t = self.defs.get(v.id) if isinstance(v, Name) and _is_temp(v.id) else None
        if not (isinstance(t, Call) and t.op == "add"):
            return None
        for a, d in (t.args, t.args[::-1]):
            old = self.defs.get(a.id) if isinstance(a, Name) and _is_temp(a.id) else None
            if old == Call("getitem", (Name(s.target), s.index)) and not (
                    isinstance(d, Name) and d.id == a.id):
                return d
        return None

    def setitem_adjoint(self, s: SetItem) -> list[Stmt]:
        c = self.c
        u, v = s.target, s.value
        d = self.increment(s)
        selected = Call("getitem", (Name(bar(u)), s.index))
        if c.types.get(u, T.UNKNOWN).kind in ("array", "unknown") and _advanced(s.index, c.types):
            # `u[idx] = v` with a repeated index stores only the last value: only it gets the adjoint
            selected = Call("written_part", (Name(bar(u)), s.index))
        if d is not None:
            # the old u[i] flows through unchanged: u_bar[i] stays, d receives a copy of it
            if not (isinstance(d, Name) and d.id in c.active):
                return []
            out = [self.materialize(u, s.loc)]
            e = S.fold(Call("unbroadcast", (selected, d)), self.oracle())
            return out + [self.acc(d.id, e, s.loc)]
        out = [self.materialize(u, s.loc)]
        if isinstance(v, Name) and v.id == u and v.id in c.active:
            # `u[idx] = u`: the value's adjoint is taken out before u_bar[idx] is cleared
            # (accumulating it first would add u_bar[idx] to itself, then clear both)
            kept = c.namer.exact(f"{bar(u)}_stored")
            e = S.fold(Call("unbroadcast", (selected, v)), self.oracle())
            return out + [Assign(kept, Call("np.copy", (e,)), s.loc),
                          SetItem(bar(u), s.index, Const(0.0), s.loc), self.acc(u, Name(kept), s.loc)]
        if isinstance(v, Name) and v.id in c.active:
            e = S.fold(Call("unbroadcast", (selected, v)), self.oracle())
            out.append(self.acc(v.id, e, s.loc))
        zero: Expr = Const(0.0)
        if c.types.get(u, T.UNKNOWN).kind in ("list", "tuple") and isinstance(s.index, Call) and s.index.op == "slice":
            zero = Call("zeros_like", (selected,))  # (a list slice takes a list, never 0.0)
        out.append(SetItem(bar(u), s.index, zero, s.loc))
        return out


def instantiate(tpl: Expr, env: dict[str, Expr], cheap: tape.Valid, types: S.TypeOracle) -> Expr:
    """A contribution from its parsed template: `fold(cheap.substitute(substitute(tpl,
    env)), types)` built in one bottom-up rebuild of the template instead of three (the
    reverse pass makes one per active argument of every statement). A template name
    becomes its argument with the recomputed values in place, folded; a call is rebuilt
    only when an argument changed, then folded by `fold_step`. The same expression: each
    node is decided by the same step from the same (folded) arguments."""
    t = type(tpl)
    if t is Name:
        v = env.get(tpl.id)
        v = cheap.substitute(tpl if v is None else v)
        return S.fold(v, types) if type(v) is Call else v
    if t is not Call:
        return tpl
    args, kwargs = tpl.args, tpl.kwargs
    new = tuple([instantiate(a, env, cheap, types) for a in args])
    changed = any([x is not y for x, y in zip(new, args)])
    if kwargs:
        new_kw = tuple([(k, instantiate(v, env, cheap, types)) for k, v in kwargs])
        changed = changed or any([x[1] is not y[1] for x, y in zip(new_kw, kwargs)])
    else:
        new_kw = kwargs
    e = Call(tpl.op, new, new_kw) if changed else tpl
    r = S.fold_step(e, types)
    return e if r is None else r


_ZERO_SAFE: dict[str, bool] = {}


def _takes_zero_cotangent(src: str) -> bool:
    """rules.takes_zero_cotangent of a template, by its text (parsed templates are too)."""
    r = _ZERO_SAFE.get(src)
    if r is None:
        r = _ZERO_SAFE[src] = rules.takes_zero_cotangent(rules.parse_template(src))
    return r


def _is_temp(n: str) -> bool:
    return n.startswith("_t") and n[2:].isdigit()


def _advanced(index: Expr, types: dict[str, T.T]) -> bool:
    """Could this index select an element twice (integer-array indexing)?"""
    parts = index.args if isinstance(index, Call) and index.op == "tuple" else (index,)
    for p in parts:
        if isinstance(p, Const) or (isinstance(p, Call) and p.op == "slice"):
            continue
        t = S.TypeOracle(types).of(p)  # (global constants are never arrays of indices here)
        if t.kind in ("int", "bool") or (t.kind == "array" and t.dtype == "b"):
            continue
        return True
    return False


def _comment(s: Stmt, adj: list[Stmt]) -> list[Stmt]:
    if not adj:
        return []
    return [Comment(f"line {s.loc.line}: {s.loc.text.strip()}", s.loc)] + adj


def _field_position(types: dict, val: Call) -> int | None:
    """`p.n` of a namedtuple p: n's position (None for any other attribute read)."""
    x = val.args[0]
    return types.get(x.id, T.UNKNOWN).position(val.member) if isinstance(x, Name) else None
