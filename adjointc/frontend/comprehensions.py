"""Comprehensions, generator expressions and dict displays, lowered to the loop IR.

A mixin of `frontend.Lowerer` (it needs the statement lowering: `for_stmt`). The
constructs become the statements a user would write by hand, so every later pass
sees only what it already knows (lists built by `append`, dicts by item writes):

    [e for i in range(n) if c]   ->  _a1 = []
                                     for i in range(n):          (the for loop's own lowering)
                                         if c: _a1.append(e)
    {k: v for k, v in d.items()} ->  _d1 = {}; for ...: _d1[k] = v
    {"W": W, "b": b}             ->  _d1 = {}; _d1["W"] = W; _d1["b"] = b
    {e for i in ...}, {a, b}     ->  the list, then distinct(_a1) (its distinct items, in order)
    sum(e for j in range(p))     ->  the list above, then sum(_t1) (a generator is a list)
    list(<gen>), tuple(<gen>)    ->  the list (a tuple of unknown length is read as a list)
    d.keys() .values() .items()  ->  dict_keys(d) ... (lists: loops index their sequence)
    d.get(k, default)            ->  dict_get(d, k, default)
    d.update(other)              ->  d[k] = v per item (d built here, or other a display)
    for k in d                   ->  for k in dict_keys(d) (d built here by a display)

Invariants:

* a comprehension has its own scope: each variable it binds gets a fresh name
  (`namer.exact`: the user's spelling when free, else `i_2`...), so it never clobbers
  an enclosing variable of the same spelling, and an inner comprehension's variable
  shadows an outer one's. The first iterable is read in the enclosing scope, each
  later one with the earlier variables bound (Python's rule);
* the generated statements carry the comprehension's location (line comments);
* in nested mode (a condition, an index) the loop goes before the statement, which
  evaluates the condition after it; inside `and`/`or`/`a if c else b` (which may skip
  it) refused, located;
* a set (`{e for ...}`, `{a, b}`, `set(x)`) is the list of its distinct items in the
  order first seen (`distinct(items)`, runtime.distinct): membership, `len`, sums and
  iteration are the set's, in a deterministic order (Python's is the hash order, so a
  float sum over a set may differ from Python's in the last bits); set methods
  (`s.add`, `s | t`) are not supported (a located NoAdjointRule);
* dict methods are lowered by name on a local receiver; their rules' types refuse a
  receiver known not to be a dict, and the runtime helpers refuse one that is not.
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import libcst as cst

from .. import rules
from ..ir import Assign, Call, Const, Expr, ExprStmt, For, If, Loc, Name, SetItem, Stmt
from .resolve import _UNRESOLVED, _Overlay

_PASS_BODY = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
# dict methods -> (the op, rules/containers.py, and the numbers of arguments it takes)
_DICT_METHODS = {"keys": ("dict_keys", (0,)), "values": ("dict_values", (0,)), "items": ("dict_items", (0,)),
                 "get": ("dict_get", (1, 2))}


class Comprehensions:
    """List/dict comprehensions, generator expressions and dict displays (see the module
    docstring). Needs `for_stmt`, `expr`, `atom`, `tmp`, `namer`, `locals`, `positions`."""

    namer: Any
    locals: set[str]
    positions: Any

    # ------------------------------------------------------------------ scopes
    def _comp_scopes(self) -> list[dict[str, str]]:
        scopes = self.__dict__.get("_scopes")
        if scopes is None:
            scopes = self.__dict__["_scopes"] = []
        return scopes

    def read_name(self, node: cst.Name) -> Expr:
        for scope in reversed(self._comp_scopes()):
            if node.value in scope:
                return Name(scope[node.value])
        return super().read_name(node)  # type: ignore[misc]

    def expr(self, node: cst.BaseExpression, out: list[Stmt], nested: bool = False, name_hint: str = "") -> Expr:
        # a condition or an index (nested mode) may hold a comprehension: its loop goes to
        # `out`, before the statement, unless a short-circuit operand holds it (`_lazy`)
        t = type(node)  # (exact classes: see expressions.ExprLowerer.expr)
        if t is cst.BooleanOperation or nested and t is cst.IfExp:
            self.__dict__["_lazy"] = self.__dict__.get("_lazy", 0) + 1
            try:
                return super().expr(node, out, nested, name_hint)  # type: ignore[misc]
            finally:
                self.__dict__["_lazy"] -= 1
        return super().expr(node, out, nested, name_hint)  # type: ignore[misc]

    def _bind(self, target: cst.BaseExpression, scope: dict[str, str]) -> cst.BaseExpression:
        """The target with each name replaced by its fresh name (recorded in `scope`)."""
        if isinstance(target, cst.Name):
            if target.value not in scope:
                scope[target.value] = self.namer.exact(target.value)
            return cst.Name(scope[target.value])
        if isinstance(target, (cst.Tuple, cst.List)):
            if any(isinstance(el, cst.StarredElement) for el in target.elements):
                raise self.unsupported(target, "a starred target in a comprehension")  # type: ignore[attr-defined]
            return target.with_changes(elements=[el.with_changes(value=self._bind(el.value, scope))
                                                 for el in target.elements])
        raise self.unsupported(target, "this comprehension target",  # type: ignore[attr-defined]
                               "bind plain names: `for i, v in enumerate(xs)`")

    def call(self, node: cst.Call, out: list[Stmt], nested: bool) -> Expr:
        """`list(<generator>)` is the list the generator builds (`tuple(...)` too: read as
        a sequence, a list is the same); `set(x)` its distinct items; dict methods. (A
        generator passed to any other call, `sum`, `max`, `math.fsum`, is the list it
        builds: those calls' own rules take it, rules/operators.py.)"""
        args = node.args
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "update" and isinstance(func.value, cst.Name) \
                and self.resolve(func) is _UNRESOLVED and not nested and len(args) == 1 and args[0].keyword is None \
                and not args[0].star and (func.value.value in self.__dict__.get("_dict_names", ())  # type: ignore[attr-defined]
                                          or isinstance(args[0].value, (cst.Dict, cst.DictComp))):
            return self._update(node, func.value, args[0].value, out)
        if isinstance(func, cst.Attribute) and func.attr.value in _DICT_METHODS and (
                isinstance(func.value, cst.Name) and self.resolve(func) is _UNRESOLVED  # type: ignore[attr-defined]
                or isinstance(func.value, (cst.Dict, cst.DictComp))) and not any(a.star or a.keyword for a in args):
            # d.keys() / .values() / .items() / .get(k, default) on a local value or a dict
            # display: a dict's (the rule's type checks the receiver is one)
            op, arity = _DICT_METHODS[func.attr.value]
            if len(args) in arity:
                loc = self.loc(node)  # type: ignore[attr-defined]
                recv = self.expr(func.value, out, nested)  # type: ignore[attr-defined]
                vals = [self.expr(a.value, out, nested) for a in args]  # type: ignore[attr-defined]
                if not nested:
                    vals = [self.atom(v, out, loc) for v in vals]  # type: ignore[attr-defined]
                return self.bind_check(rules.lookup(op), (recv, *vals), (), node)  # type: ignore[attr-defined]
        if len(args) <= 1 and not any(a.keyword or a.star for a in args) and isinstance(node.func, cst.Name) \
                and self.resolve(node.func) is builtins.set:  # type: ignore[attr-defined]
            # set(x): the distinct items of list(x) (runtime.distinct; see the module docstring)
            loc = self.loc(node)  # type: ignore[attr-defined]
            items: Expr = Call("list", ())
            if args:
                seq = self.expr(args[0].value, out, nested)  # type: ignore[attr-defined]
                items = Call("py:list", (seq if nested else self.atom(seq, out, loc),))  # type: ignore[attr-defined]
            return Call("distinct", (items if nested else self.atom(items, out, loc),))  # type: ignore[attr-defined]
        if len(args) == 1 and args[0].keyword is None and not args[0].star and isinstance(
                node.func, (cst.Name, cst.Attribute)):
            obj = self.resolve(node.func)  # type: ignore[attr-defined]
            a = args[0].value
            if obj in (builtins.list, builtins.tuple) and isinstance(a, (cst.GeneratorExp, cst.ListComp)):
                return self.expr(a, out, nested)  # type: ignore[attr-defined]
        return super().call(node, out, nested)  # type: ignore[misc]

    def _update(self, node: cst.Call, target: cst.Name, other: cst.BaseExpression, out: list[Stmt]) -> Expr:
        """`d.update(other)` (d a dict this function builds, or other a dict display): each
        item written into d, `d[k] = v`, in other's order; its value is None."""
        loc = self.loc(node)  # type: ignore[attr-defined]
        d = self.read_name(target)
        if not isinstance(d, Name):
            raise self.unsupported(node, "this .update()", "update a local dict")  # type: ignore[attr-defined]
        if isinstance(other, cst.Dict) and not any(isinstance(el, cst.StarredDictElement) for el in other.elements):
            for el in other.elements:
                key = self.atom(self.expr(el.key, out), out, loc)  # type: ignore[attr-defined]
                val = self.atom(self.expr(el.value, out), out, loc)  # type: ignore[attr-defined]
                out.append(SetItem(d.id, key, val, loc))
            return Const(None)
        src = self.atom(self.expr(other, out), out, loc)  # type: ignore[attr-defined]
        items, rng, i = self.tmp("items"), self.tmp("range"), self.tmp("i")  # type: ignore[attr-defined]
        kv, k, v = self.tmp("kv"), self.tmp("k"), self.tmp("v")  # type: ignore[attr-defined]
        out.append(Assign(items, Call("dict_items", (src,)), loc))
        out.append(Assign(rng, Call("range", (Call("len", (Name(items),)),)), loc))
        body = (Assign(kv, Call("getitem", (Name(items), Name(i))), loc),
                Assign(k, Call("getitem", (Name(kv), Const(0))), loc),
                Assign(v, Call("getitem", (Name(kv), Const(1))), loc),
                SetItem(d.id, Name(k), Name(v), loc))
        out.append(For(i, Name(rng), body, loc))
        return Const(None)

    def iterable(self, node: cst.BaseExpression, out: list[Stmt]) -> Expr:
        """What a for loop (or comprehension) iterates: `for k in d` over a dict this
        function builds with a display or comprehension iterates its keys."""
        if isinstance(node, cst.Name) and node.value in self.__dict__.get("_dict_names", ()) \
                and not any(node.value in scope for scope in self._comp_scopes()):
            return Call("dict_keys", (self.read_name(node),))
        return self.expr(node, out)  # type: ignore[attr-defined]

    # --------------------------------------------------------------- the hook
    def container(self, node: cst.BaseExpression, out: list[Stmt], nested: bool, loc: Loc,
                  name_hint: str) -> Expr:
        """A comprehension or dict display as statements into `out`; the built value's name."""
        what = {cst.ListComp: "a list comprehension", cst.GeneratorExp: "a generator expression",
                cst.DictComp: "a dict comprehension", cst.Dict: "a dict literal",
                cst.SetComp: "a set comprehension"}.get(type(node))
        if isinstance(node, cst.Set):  # {a, b}: the distinct items of the list [a, b]
            items = tuple(self.atom(self.expr(el.value, out), out, loc)  # type: ignore[attr-defined]
                          for el in node.elements if not isinstance(el, cst.StarredElement))
            if len(items) != len(node.elements):
                raise self.unsupported(node, "starred items in a set literal",  # type: ignore[attr-defined]
                                       "build the set from a list: set([*a, b])")
            made: Expr = Call("list", items)
            return Call("distinct", (made if nested else self.atom(made, out, loc),))  # type: ignore[attr-defined]
        if nested and self.__dict__.get("_lazy", 0):
            # (its loop would run before the test, also where `and`/`or`/`if else` skips it)
            raise self.unsupported(node, f"{what} inside `and`/`or` or a conditional expression",  # type: ignore[attr-defined]
                                   "assign it to a variable first")
        is_dict = isinstance(node, (cst.DictComp, cst.Dict))
        if is_dict and name_hint and getattr(self, "bindings", {}).get(name_hint) == 1:
            self.__dict__.setdefault("_dict_names", set()).add(name_hint)
        result = self.tmp(name_hint if name_hint and name_hint != "result" else ("d" if is_dict else "items"))
        out.append(Assign(result, Call("dict" if is_dict else "list"), loc))
        if isinstance(node, cst.Dict):
            for el in node.elements:
                if isinstance(el, cst.StarredDictElement):
                    raise self.unsupported(el, "** in a dict literal",  # type: ignore[attr-defined]
                                           "write each item, or update the dict: d[k] = v")
                key = self.atom(self.expr(el.key, out), out, loc)  # type: ignore[attr-defined]
                val = self.atom(self.expr(el.value, out), out, loc)  # type: ignore[attr-defined]
                out.append(SetItem(result, key, val, loc))
            return Name(result)

        def element(body: list[Stmt]) -> None:
            if isinstance(node, cst.DictComp):
                key = self.atom(self.expr(node.key, body), body, loc)  # type: ignore[attr-defined]
                val = self.atom(self.expr(node.value, body), body, loc)  # type: ignore[attr-defined]
                body.append(SetItem(result, key, val, loc))
            else:
                item = self.atom(self.expr(node.elt, body), body, loc)  # type: ignore[attr-defined]
                body.append(ExprStmt(Call("method:append", (Name(result), item)), loc))
        gens: list[cst.CompFor] = []
        f: cst.CompFor | None = node.for_in  # type: ignore[attr-defined]
        while f is not None:
            gens.append(f)
            f = f.inner_for_in
        depth = len(self._comp_scopes())
        try:
            out.extend(self._generators(node, gens, element, loc))
        finally:
            del self._comp_scopes()[depth:]
        if isinstance(node, cst.SetComp):  # its items, then the distinct ones (runtime.distinct)
            return Call("distinct", (Name(result),))
        return Name(result)

    def _generators(self, node: cst.CSTNode, gens: Sequence[cst.CompFor],
                    element: Callable[[list[Stmt]], None], loc: Loc) -> list[Stmt]:
        """The loop of gens[0] (its iterable read in the current scopes), with the loops
        of the rest inside it, the innermost running `element`."""
        comp = gens[0]
        if comp.asynchronous is not None:
            raise self.unsupported(comp, "async comprehensions")  # type: ignore[attr-defined]
        scope: dict[str, str] = {}
        loop = cst.For(target=self._bind(comp.target, scope), iter=comp.iter, body=_PASS_BODY)
        at = self.positions.get(comp) or self.positions.get(node)
        if at is not None:
            self.positions = _Overlay(self.positions, {loop: at})
        # (the for loop's own lowering: range, enumerate, zip, reversed, lists, arrays, tuples)
        header = self.for_stmt(loop)  # type: ignore[attr-defined]
        for_ = header[-1]
        self._comp_scopes().append(scope)
        names = set(scope.values()) - self.locals
        self.locals |= names  # (in scope, the fresh names are locals: never resolved as globals)
        try:
            def guarded(k: int) -> list[Stmt]:
                """The body under the conditions ifs[k:] (each test is evaluated where the
                conditions before it hold, as Python evaluates them)."""
                stmts: list[Stmt] = []
                if k == len(comp.ifs):
                    if gens[1:]:
                        stmts.extend(self._generators(node, gens[1:], element, loc))
                    else:
                        element(stmts)
                    return stmts
                test = self.expr(comp.ifs[k].test, stmts, nested=True)  # type: ignore[attr-defined]
                cond = self.tmp("cond")  # type: ignore[attr-defined]
                stmts.append(Assign(cond, test, loc))
                stmts.append(If(Name(cond), tuple(guarded(k + 1)), (), loc))
                return stmts
            body = guarded(0)
        finally:
            self.locals -= names
        return header[:-1] + [_with_body(for_, tuple(for_.body) + tuple(body))]


def _with_body(s: Stmt, body: tuple[Stmt, ...]) -> Stmt:
    import dataclasses
    return dataclasses.replace(s, body=body)
