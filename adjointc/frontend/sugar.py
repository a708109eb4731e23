"""Statement forms the frontend lowers by rewriting them into forms it already has
(part of the frontend: libcst-aware; a mixin of frontend.Lowerer).

* `for ... else` / `while ... else`: the `else` runs when the loop ends without a
  `break` of its own. Lowered to a flag: `_broke = False` before the loop, every
  `break` that leaves *this* loop (not one of an inner loop) becomes
  `_broke = True; break`, and the `else` suite becomes `if not _broke: ...` after it.
  A loop with no such `break` runs its `else` always: the suite simply follows it.
* `assert test, msg`: kept in the forward sweep as an `assert` statement (the op
  `assert`, a non-differentiable rule printed as the statement; printer.py), never
  differentiated: the test reads values, it computes none.
* `f(*a, **{"d": v})` at a call: the starred parts spliced in as arguments when their
  length (keys) are known here (`expand_stars`), else a located refusal;
* `max(a, b, c)` / `min([a, b, c])`: folded pairwise into the two-argument rule;
  `max(L)` of another iterable: the rule `py:max` (`extreme`);
* `L.extend(M)`, `L.insert(i, v)`, `L.pop(i)`, `L.reverse()` on a list no other name
  holds: the list rebound to a new one (`list_method`; `rebindable` checks);
* a call of a module-level `def h(*args, **kw)`: inlined, its signature made explicit
  for the call (`variadic_call`);
* starred unpacking `a, *rest = v` / `first, *mid, last = t`: a tuple or list
  display on the right binds the names directly (`rest` a list of the values, as
  Python makes it); any other value is read by index from the front (`v[0]`) and
  from the back (`v[-1]`), the starred name bound to `list(v[k:len(v) - m])` (a list
  for a list, tuple or array, as Python does: `py:list`, rules/operators.py).

Invariants: nothing here emits a construct the rest of the pipeline does not already
know; every name made is fresh (the namer's), every refusal is located.
"""
from __future__ import annotations

import builtins
import dataclasses
from typing import Any
import libcst as cst

from .. import rules
from ..errors import UnsupportedSyntax
from .expressions import dotted

from ..ir import Assign, Break, Call, Const, Expr, ExprStmt, If, Loc, Name, Stmt


class Sugar:
    """Mixin of frontend.Lowerer (which gives expr, atom, tmp, block, assign_to, ...)."""
    _displays: dict[str, int] | None = None   # (display_length's table, made when first asked)
    _uses: "_ListUses | None" = None          # (rebindable's table, likewise)
    fn_node: cst.FunctionDef

    # ------------------------------------------------------ for/while ... else
    def loop_else(self, loop: Stmt, orelse: cst.Else, loc: Loc) -> list[Stmt]:
        """`loop` (lowered, without its else) followed by its `else` suite, run when no
        `break` of the loop ran."""
        flag = self.tmp("broke")
        body, broke = _flag_breaks(loop.body, flag, loc)
        before = dict(self.nested)
        suite = self.block(orelse.body.body)
        if not broke:  # (nothing leaves the loop early: the else always runs)
            return [dataclasses.replace(loop, body=body), *suite]
        cond = self.tmp("cond")
        after = self.nested
        self.nested = before
        self.merge_defs(after, suite, (), loc)
        return [Assign(flag, Const(False), loc), dataclasses.replace(loop, body=body),
                Assign(cond, Call("not", (Name(flag),)), loc), If(Name(cond), suite, (), loc)]

    # ----------------------------------------------------------------- assert
    def assert_stmt(self, node: cst.Assert) -> list[Stmt]:
        out: list[Stmt] = []
        loc = self.loc(node)
        test = self.expr(node.test, out, nested=True)
        args: tuple[Expr, ...] = (test,)
        if node.msg is not None:
            args += (self.expr(node.msg, out, nested=True),)
        out.append(ExprStmt(Call("assert", args), loc))
        return out

    # ------------------------------------------------------- starred unpacking
    def starred_assign(self, target: cst.Tuple | cst.List, value: cst.BaseExpression | Expr,
                       out: list[Stmt], loc: Loc) -> None:
        """`a, *rest, z = value`; `value` a libcst node (a display is bound directly) or
        an IR value (read by index)."""
        elts = list(target.elements)
        stars = [k for k, el in enumerate(elts) if isinstance(el, cst.StarredElement)]
        if len(stars) != 1:
            raise self.unsupported(target, "two starred names in one assignment")
        k = stars[0]
        before, after = elts[:k], elts[k + 1:]
        if isinstance(value, (cst.Tuple, cst.List)) and not any(
                isinstance(e, cst.StarredElement) for e in value.elements):
            if len(value.elements) < len(elts) - 1:
                raise self.unsupported(target, f"unpacking {len(value.elements)} values into "
                                       f"{len(elts) - 1} or more names", "give as many values as names")
            vals = [self.atom(self.expr(v.value, out), out, loc) for v in value.elements]
            bound = {e.value.value for e in elts if isinstance(e.value, cst.Name)}
            vals = [self.snapshot(v, out, loc) if isinstance(v, Name) and v.id in bound else v for v in vals]
            n = len(vals)
            mid = vals[k:n - len(after)]
            for t, v in zip(before, vals[:k]):
                self.assign_to(t.value, v, out, loc)
            self.assign_to(elts[k].value, Call("list", tuple(mid)), out, loc)
            for t, v in zip(after, vals[n - len(after):]):
                self.assign_to(t.value, v, out, loc)
            return
        whole = self.atom(value if isinstance(value, (Name, Const, Call)) else self.expr(value, out), out, loc)
        if isinstance(whole, Name) and any(isinstance(e.value, cst.Name) and e.value.value == whole.id for e in elts):
            whole = self.snapshot(whole, out, loc)  # (`v, *rest = v`: read before it is rebound)
        for i, t in enumerate(before):
            self.assign_to(t.value, Call("getitem", (whole, Const(i))), out, loc)
        part = self.tmp("rest")
        hi = Const(None) if not after else Const(-len(after))
        out.append(Assign(part, Call("getitem", (whole, Call("slice", (Const(k), hi, Const(None))))), loc))
        self.assign_to(elts[k].value, Call("py:list", (Name(part),)), out, loc)
        for i, t in enumerate(after):
            self.assign_to(t.value, Call("getitem", (whole, Const(i - len(after)))), out, loc)

    # ------------------------------------------------------ f(*args, **kwargs)
    def expand_stars(self, node: cst.Call) -> cst.Call:
        """`f(*a, d=x, **{"e": y})` as `f(a[0], a[1], d=x, e=y)`: the length of `a` must be
        known here (a display, or a local bound once to a display and never the receiver
        of a method call, which might change its length); a `**` needs a dict display."""
        args: list[cst.Arg] = []
        for a in node.args:
            if a.star == "*":
                args += [cst.Arg(value=v) for v in self.star_items(a)]
            elif a.star == "**":
                d = a.value
                if not (isinstance(d, cst.Dict) and all(
                        isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                        and str(e.key.evaluated_value).isidentifier() for e in d.elements)):
                    raise self.unsupported(a, "**kwargs of a value whose keys are not known when adjointc "
                                           "compiles", "pass the keywords explicitly: f(x, d=v), or "
                                           "f(**{\"d\": v}) with a dict display")
                args += [cst.Arg(keyword=cst.Name(str(e.key.evaluated_value)), value=e.value,
                                 equal=cst.AssignEqual()) for e in d.elements]
            else:
                args.append(a)
        made = node.with_changes(args=args)
        at = self.positions.get(node)
        if at is not None:  # (errors in the call point at it)
            from .resolve import _Overlay
            self.positions = _Overlay(self.positions, {made: at})
        return made

    def star_items(self, a: cst.Arg) -> list[cst.BaseExpression]:
        v = a.value
        if isinstance(v, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in v.elements):
            return [e.value for e in v.elements]
        n = self.display_length(v.value) if isinstance(v, cst.Name) else None
        if n is None:
            raise self.unsupported(a, "*args of a value whose length is not known when adjointc compiles",
                                   "unpack it into names first (a, b = pair; f(a, b)), or star a list or "
                                   "tuple display, or a local bound once to one")
        return [cst.Subscript(value=cst.Name(v.value), slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])
                for i in range(n)]

    def display_length(self, name: str) -> int | None:
        """The length of the local `name` when it is bound exactly once, to a list or tuple
        display, and never receives a method call (`.append`, `.pop`, ...)."""
        if self.inline_depth or self.bindings.get(name, 0) != 1 or name not in self.locals:
            return None
        if self._displays is None:
            finder = _Displays()
            self.fn_node.body.visit(finder)
            self._displays = {k: n for k, n in finder.lengths.items() if k not in finder.receivers}
        return self._displays.get(name)


    # ------------------------------------------------------------ min / max
    def extreme(self, node: cst.Call, name: str, out: list[Stmt], nested: bool) -> Expr:
        """`max(a, b, c)`: folded pairwise into the two-argument rule, `max(a, max(b, c))`;
        `reversed(seq)` as a value: seq[::-1] (the same elements in the same order);
        `max([a, b, c])` (a display) likewise; `max(L)` of another list, tuple or 1-D
        array: the one-iterable rule `py:max` (rules/operators.py)."""
        loc = self.loc(node)
        if name == "reversed":  # (as a value: a loop header's reversed(...) is the frontend's)
            if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
                raise self.unsupported(node, "this form of reversed", "reversed(seq)")
            seq = self.expr(node.args[0].value, out, nested)
            seq = seq if nested else self.atom(seq, out, loc)
            return Call("getitem", (seq, Call("slice", (Const(None), Const(None), Const(-1)))))
        if any(a.keyword is not None or a.star for a in node.args) or not node.args:
            raise self.unsupported(node, f"{name}() with key=, default= or *args",
                                   f"pass the values: {name}(a, b, ...) or {name}(list_of_values)")
        items = [a.value for a in node.args]
        if len(items) == 1 and isinstance(items[0], (cst.List, cst.Tuple)) and items[0].elements and not any(
                isinstance(e, cst.StarredElement) for e in items[0].elements):
            items = [e.value for e in items[0].elements]
        vals = [self.expr(i, out, nested) for i in items]
        if not nested:
            vals = [self.atom(v, out, loc) for v in vals]
        if len(vals) == 1:
            return self.bind_check(rules.lookup(f"py:{name}"), (vals[0],), (), node)
        rule = rules.lookup_object(getattr(builtins, name))
        acc = vals[-1]
        for k, v in enumerate(reversed(vals[:-1])):
            acc = self.bind_check(rule, (v, acc), (), node)
            if not nested and k < len(vals) - 2:
                acc = self.atom(acc, out, loc)
        return acc

    # --------------------------------------------------- list methods as rebinding
    def list_method(self, call: cst.Call, loc: Loc, out: list[Stmt] | None = None,
                    lowered: tuple[Expr, ...] | None = None) -> Any:
        """`L.extend(M)` -> `L = L + list(M)`; `L.insert(i, v)` -> `L = L[:i] + [v] + L[i:]`;
        `L.reverse()` -> `L = L[::-1]`; `L.pop(i)` -> its value `L[i]`, then
        `L = L[:i] + L[i:][1:]` (right for a negative i too). A rebinding means what the
        mutation meant only when no other name holds L's list (`rebindable`). Returns the
        statements (a statement) or the popped value (within an expression, into `out`, its
        arguments `lowered` already)."""
        name, method = call.func.value.value, call.func.attr.value
        stmts: list[Stmt] = [] if out is None else out
        if any(a.keyword is not None or a.star for a in call.args) or len(call.args) != LIST_METHODS[method]:
            raise self.unsupported(call, f"this form of list.{method}",
                                   "L.extend(values), L.insert(i, v), L.pop(i), L.reverse()")
        why = self.rebindable(name)
        if why:
            raise self.unsupported(call, f"{name}.{method}(...) here: {why}",
                                   "keep the list to one name, built in the function ([...], list(...), "
                                   "L + M), or build a new list: L = L + [v]")
        L = Name(name)
        args = list(lowered) if lowered is not None else [
            self.atom(self.expr(a.value, stmts), stmts, loc) for a in call.args]

        def sl(lo: Expr, hi: Expr, step: Expr = Const(None)) -> Call:
            return Call("slice", (lo, hi, step))

        def part(base: Expr, index: Call) -> Name:
            t = self.tmp(f"{name}_part")
            stmts.append(Assign(t, Call("getitem", (base, index)), loc))
            return Name(t)

        def concat(*parts: Expr) -> None:
            acc = parts[0]
            for k, p in enumerate(parts[1:]):
                e = Call("add", (acc, p))
                if k < len(parts) - 2:
                    acc = Name(self.tmp(f"{name}_part"))
                    stmts.append(Assign(acc.id, e, loc))
                else:
                    self.emit_assign(name, e, stmts, loc)
        if method == "extend":
            seq = args[0]
            if not (isinstance(call.args[0].value, cst.List)):
                seq = Name(self.tmp("items"))
                stmts.append(Assign(seq.id, Call("py:list", (args[0],)), loc))
            concat(L, seq)
        elif method == "insert":
            i, v = args
            one = Name(self.tmp("item"))
            stmts.append(Assign(one.id, Call("list", (v,)), loc))
            if i == Const(0):  # (at the front: no empty head)
                concat(one, L)
            else:
                concat(part(L, sl(Const(None), i)), one, part(L, sl(i, Const(None))))
        elif method == "reverse":
            self.emit_assign(name, Call("getitem", (L, sl(Const(None), Const(None), Const(-1)))), stmts, loc)
        else:  # pop(i)
            i = args[0]
            value = Name(self.tmp("popped"))
            stmts.append(Assign(value.id, Call("getitem", (L, i)), loc))
            if i == Const(-1):
                self.emit_assign(name, Call("getitem", (L, sl(Const(None), Const(-1)))), stmts, loc)
            elif i == Const(0):
                self.emit_assign(name, Call("getitem", (L, sl(Const(1), Const(None)))), stmts, loc)
            elif isinstance(i, Const) and isinstance(i.value, int) and i.value >= 0:
                concat(part(L, sl(Const(None), i)), part(L, sl(Const(i.value + 1), Const(None))))
            else:  # (a negative or computed index: the tail from i, without its first element)
                tail = part(L, sl(i, Const(None)))
                concat(part(L, sl(Const(None), i)), part(tail, sl(Const(1), Const(None))))
            return value if out is not None else stmts
        return stmts

    def rebindable(self, name: str) -> str:
        """'' when rebinding `name` means what mutating its list means: every binding of it
        makes a new list, and no other name, container or call can hold that list (its
        reads are element reads, method calls, iteration, `+`/`*`, calls of the builtins
        and NumPy functions that copy, or the return); else why not."""
        if self.inline_depth:
            return "inside an inlined helper"
        if self._uses is None:
            self._uses = _ListUses(self.fn_node)
        return self._uses.why(name)

    # ------------------------------------------ def h(*args, **kwargs) helpers
    def variadic_call(self, fn: Any, node: cst.Call, args: tuple, kwargs: tuple, out: list[Stmt],
                      nested: bool) -> Expr:
        """A call of a module-level helper taking *args/**kwargs, inlined here with its
        signature made explicit for this call: `args` is bound to the tuple of the extra
        positional values, and `kw["d"]`, `kw.get("d", v)`, `"d" in kw`, `len(kw)` and
        `g(**kw)` in its body are resolved now (the keywords are known at the call), so the
        dict itself never exists. Refused when the helper is in another module (its names
        mean that module's globals), a closure, or uses `kw` any other way."""
        from . import source
        from .resolve import BoundNames, _Overlay, names_outside
        name = fn.__name__
        if fn.__globals__ is not self.fn.__globals__ or fn.__closure__ or not source.has_source(fn):
            raise self.unsupported(node, f"calling {name!r}, which takes *args/**kwargs, from another "
                                   "module or as a closure", "give the helper explicit parameters")
        src = source.read(fn)
        fdef = src.node
        p = fdef.params
        if fdef.decorators:
            raise self.unsupported(node, f"calling the decorated {name!r}, which takes *args/**kwargs",
                                   "give the helper explicit parameters")
        fixed = list(p.posonly_params) + list(p.params)
        star = p.star_arg if isinstance(p.star_arg, cst.Param) else None
        kwp = p.star_kwarg
        names = {q.name.value for q in fixed + list(p.kwonly_params)}
        if len(args) > len(fixed) and star is None:
            raise UnsupportedSyntax(f"bad call to {name}: too many positional arguments", self.loc(node))
        extra = {k: v for k, v in kwargs if k not in names}
        if extra and kwp is None:
            raise UnsupportedSyntax(f"bad call to {name}: unexpected keyword {next(iter(extra))!r}", self.loc(node))
        taken = BoundNames(fdef.body).names | names
        keyed = {k: _fresh(f"{kwp.name.value}_{k}", taken) for k in extra} if kwp is not None else {}
        rewrite = _Variadic(star.name.value if star else None, len(args) - len(fixed),
                            kwp.name.value if kwp else None, keyed)
        body = fdef.body.visit(rewrite)
        bad = _Leftover(kwp.name.value if kwp else None)
        body.visit(bad)
        if bad.found:
            raise self.unsupported(node, f"{name} uses its **{kwp.name.value} other than by constant keys",
                                   f"read it as {kwp.name.value}[\"key\"] or {kwp.name.value}.get(\"key\", "
                                   "default), or give the helper explicit parameters")
        params = fixed + ([cst.Param(cst.Name(star.name.value), default=cst.Tuple([]))] if star else [])
        kwonly = list(p.kwonly_params) + [cst.Param(cst.Name(v), default=cst.Name("None")) for v in keyed.values()]
        made = fdef.with_changes(params=cst.Parameters(params=params, star_arg=cst.ParamStar() if kwonly else
                                                       cst.MaybeSentinel.DEFAULT, kwonly_params=kwonly), body=body)
        clash = names_outside(made) & self.locals
        if clash:
            raise self.unsupported(node, f"inlining {name}, which reads module names the caller also binds "
                                   f"({', '.join(sorted(clash))})", "rename the caller's variables")
        self.positions = _Overlay(self.positions, _locs(src, body, rewrite.origin))  # (its lines, its file)
        loc = self.loc(node)
        pos = list(args[:len(fixed)])
        if star is not None:
            t = self.tmp(star.name.value)
            out.append(Assign(t, Call("tuple", tuple(args[len(fixed):])), loc))
            self.locals.add(t)
            pos.append(Name(t))
        kws = tuple((k, v) for k, v in kwargs if k in names) + tuple((keyed[k], v) for k, v in extra.items())
        return self.inline(made, tuple(pos), kws, out, node, nested)


class _ListUses:
    """How a function uses its list names (for `Sugar.rebindable`)."""
    FRESH = (cst.List, cst.ListComp, cst.BinaryOperation)
    COPIES = {"len", "sum", "min", "max", "sorted", "list", "tuple", "enumerate", "zip", "reversed", "print",
              "float", "abs", "any", "all", "np.array", "np.sum", "np.mean", "np.prod", "np.stack",
              "np.concatenate", "np.hstack", "np.vstack", "math.fsum", "math.prod", "math.hypot"}

    def __init__(self, fn: cst.FunctionDef) -> None:
        self.unsafe: dict[str, str] = {}
        for s in fn.body.body:
            self.walk(s, [], 0)

    def why(self, name: str) -> str:
        return self.unsafe.get(name, "")

    def flag(self, name: str, why: str) -> None:
        self.unsafe.setdefault(name, why)

    def walk(self, n: cst.CSTNode, up: list[cst.CSTNode], depth: int) -> None:
        if isinstance(n, cst.Assign):
            for t in n.targets:
                for el in (t.target.elements if isinstance(t.target, (cst.Tuple, cst.List)) else [t.target]):
                    v = getattr(el, "value", el)
                    if isinstance(v, cst.Name) and not (isinstance(t.target, cst.Name) and self.fresh(n.value)):
                        self.flag(v.value, "it may be bound to a list another name holds")
        if isinstance(n, cst.For) and isinstance(n.target, cst.Name):
            self.flag(n.target.value, "it is a loop variable")
        if isinstance(n, cst.Name) and up:
            self.check(n, up, depth)
        inner = depth + isinstance(n, (cst.FunctionDef, cst.Lambda))
        for c in n.children:
            self.walk(c, up + [n], inner)

    def fresh(self, v: cst.BaseExpression) -> bool:
        if isinstance(v, self.FRESH):
            return True
        if isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and v.func.value in ("list", "sorted"):
            return True
        return isinstance(v, cst.Subscript) and any(isinstance(e.slice, cst.Slice) for e in v.slice)

    def check(self, n: cst.Name, up: list[cst.CSTNode], depth: int) -> None:
        p = up[-1]
        if isinstance(p, cst.Attribute):
            if p.value is n and depth:
                self.flag(n.value, "a nested function calls its methods")
            return
        if isinstance(p, (cst.Subscript, cst.BinaryOperation, cst.Return, cst.AssignTarget, cst.Comparison,
                          cst.ComparisonTarget, cst.CompFor, cst.For, cst.Param, cst.FunctionDef, cst.Arg)):
            if isinstance(p, cst.Arg):
                call = up[-2] if len(up) > 1 else None
                if not (isinstance(call, cst.Call) and (dotted(call.func) in self.COPIES or p.keyword is n)):
                    self.flag(n.value, "it is passed to a call that may keep it")
            elif isinstance(p, cst.Subscript) and p.value is not n:
                pass  # (an index)
            return
        if isinstance(p, (cst.Element, cst.DictElement, cst.Assign, cst.AnnAssign)):
            unpacked = isinstance(p, cst.Assign) and all(isinstance(t.target, (cst.Tuple, cst.List)) for t in p.targets)
            bound_to = isinstance(p, cst.Assign) and p.value is n and not unpacked   # (`M = L`)
            if bound_to or not isinstance(p, (cst.Assign, cst.AnnAssign)):
                self.flag(n.value, "another name or a container may hold its list")


LIST_METHODS = {"extend": 1, "insert": 2, "reverse": 0, "pop": 1}   # (method -> its argument count)


def _fresh(base: str, taken: set[str]) -> str:
    while base in taken:
        base += "_"
    taken.add(base)
    return base


def _key(e: cst.BaseExpression) -> str | None:
    return str(e.evaluated_value) if isinstance(e, cst.SimpleString) else None


def _locs(src: Any, body: cst.CSTNode, origin: dict) -> dict:
    """Every node of a rewritten helper body -> its Loc in the helper's own source."""
    lines = src.text.splitlines()
    out: dict = {}

    class Walk(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            p = src.positions.get(origin.get(n, n))
            if p is not None:
                text = lines[p[0] - 1] if 0 < p[0] <= len(lines) else ""
                out[n] = Loc(src.file, src.first_line + p[0] - 1, p[1] + src.col_offset, " " * src.col_offset + text)
            return True
    body.visit(Walk())
    return out


class _Variadic(cst.CSTTransformer):
    """A *args/**kw helper's body for one call (see Sugar.variadic_call); `origin` maps
    each node it rebuilt to the node it came from (for locations)."""

    def __init__(self, star: str | None, n: int, kw: str | None, keyed: dict[str, str]) -> None:
        self.star, self.n, self.kw, self.keyed = star, n, kw, keyed
        self.origin: dict = {}

    def on_leave(self, orig: cst.CSTNode, new: Any) -> Any:
        out = super().on_leave(orig, new)
        if isinstance(out, cst.CSTNode) and out is not orig:
            self.origin[out] = self.origin.get(orig, orig)
        return out

    def _is_kw(self, e: cst.BaseExpression) -> bool:
        return self.kw is not None and isinstance(e, cst.Name) and e.value == self.kw

    def leave_Subscript(self, orig: cst.Subscript, new: cst.Subscript) -> cst.BaseExpression:
        if self._is_kw(new.value) and len(new.slice) == 1 and isinstance(new.slice[0].slice, cst.Index):
            k = _key(new.slice[0].slice.value)
            if k is not None:  # (a key not passed: Python raises KeyError there; None fails as loudly)
                return cst.Name(self.keyed[k]) if k in self.keyed else cst.Name("None")
        return new

    def leave_Call(self, orig: cst.Call, new: cst.Call) -> cst.BaseExpression:
        f = new.func
        if isinstance(f, cst.Attribute) and self._is_kw(f.value) and f.attr.value == "get" and new.args:
            k = _key(new.args[0].value)
            if k is not None and len(new.args) <= 2:
                if k in self.keyed:
                    return cst.Name(self.keyed[k])
                return new.args[1].value if len(new.args) == 2 else cst.Name("None")
        if isinstance(f, cst.Name) and f.value == "len" and len(new.args) == 1 and self._is_kw(new.args[0].value):
            return cst.Integer(str(len(self.keyed)))
        args: list[cst.Arg] = []
        for a in new.args:
            if a.star == "**" and self._is_kw(a.value):
                args += [cst.Arg(keyword=cst.Name(k), value=cst.Name(v), equal=cst.AssignEqual())
                         for k, v in self.keyed.items()]
            elif a.star == "*" and self.star and isinstance(a.value, cst.Name) and a.value.value == self.star:
                args += [cst.Arg(value=cst.Subscript(value=cst.Name(self.star), slice=[
                    cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])) for i in range(self.n)]
            else:
                args.append(a)
        return new.with_changes(args=args)

    def leave_Comparison(self, orig: cst.Comparison, new: cst.Comparison) -> cst.BaseExpression:
        if len(new.comparisons) == 1 and self._is_kw(new.comparisons[0].comparator):
            k, op = _key(new.left), new.comparisons[0].operator
            if k is not None and isinstance(op, (cst.In, cst.NotIn)):
                return cst.Name(str((k in self.keyed) == isinstance(op, cst.In)))
        return new


    def leave_If(self, orig: cst.If, new: cst.If) -> Any:
        """`if "d" in kw:` decided here: the branch that runs, in its place."""
        blocks = [new.body] + ([new.orelse.body] if isinstance(new.orelse, cst.Else) else [])
        if not (isinstance(new.test, cst.Name) and new.test.value in ("True", "False")) or not isinstance(
                orig.test, cst.Comparison) or not all(isinstance(b, cst.IndentedBlock) for b in blocks):
            return new
        if new.test.value == "True":
            return cst.FlattenSentinel(new.body.body)
        if isinstance(new.orelse, cst.If):
            return new.orelse
        if isinstance(new.orelse, cst.Else):
            return cst.FlattenSentinel(new.orelse.body.body)
        return cst.RemovalSentinel.REMOVE


class _Leftover(cst.CSTVisitor):
    def __init__(self, kw: str | None) -> None:
        self.kw, self.found = kw, False

    def visit_Name(self, n: cst.Name) -> None:
        if n.value == self.kw:
            self.found = True


class _Displays(cst.CSTVisitor):
    """Names assigned a list/tuple display (its length), and names a method is called on."""

    def __init__(self) -> None:
        self.lengths: dict[str, int] = {}
        self.receivers: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        v = node.value
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(
                v, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in v.elements):
            self.lengths[node.targets[0].target.value] = len(v.elements)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
            self.receivers.add(node.func.value.value)


def _flag_breaks(body: tuple[Stmt, ...], flag: str, loc: Loc) -> tuple[tuple[Stmt, ...], bool]:
    """`body` with each `break` of its own loop preceded by `flag = True` (inner loops'
    breaks are theirs), and whether there was one."""
    out: list[Stmt] = []
    found = False
    for s in body:
        if isinstance(s, Break):
            out += [Assign(flag, Const(True), s.loc), s]
            found = True
        elif isinstance(s, If):
            b, f1 = _flag_breaks(s.body, flag, loc)
            e, f2 = _flag_breaks(s.orelse, flag, loc)
            out.append(dataclasses.replace(s, body=b, orelse=e) if f1 or f2 else s)
            found = found or f1 or f2
        else:
            out.append(s)
    return tuple(out), found

