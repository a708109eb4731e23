"""libcst expression -> IR: the one expression lowering.

`ExprLowerer.expr` lowers the structure every expression shares — literals,
operators, comparisons, `and`/`or`, conditional expressions, tuples and lists,
subscripts and slices — and leaves what *names* mean to a subclass:

* the frontend's `resolve.Resolver` reads a user function (names are parameters,
  locals, module constants or rules; calls are bound against rules and user
  functions; results are in three-address form, see frontend.py);
* `TemplateLowerer` reads a rule template (`"unbroadcast(g * np.cos(x), x)"`):
  every name is free, `np.`/`math.` names are functions, `a.f(...)` is a
  `method:f` call, and the whole tree is returned (nested mode).

Two modes: in *three-address* mode (nested=False) the result is a Name, a Const or
one Call over atoms, with temporaries emitted to `out`; in *nested* mode
(conditions, indices, templates) the whole tree is returned and nothing is emitted.
Operators are named by `rules.operators`' table (the one operator table); the
libcst node classes are derived from its Python spellings.
"""
from __future__ import annotations

import functools
import re
from typing import Any

import libcst as cst

from ..ir import NOLOC, Assign, Call, Const, Expr, Loc, Name, Stmt


@functools.cache
def operator_nodes() -> dict[str, dict[type, str]]:
    """libcst operator node class -> op name, per kind ("binary", "augmented",
    "compare", "unary"), derived from rules.operators by parsing each spelling.
    (Lazy: rules.operators registers templates, which this module lowers.)"""
    from ..rules import operators as ops

    def expr(src: str) -> Any:
        return cst.parse_expression(src)
    return {
        "binary": {type(expr(f"a {sym} b").operator): op for op, (sym, _) in ops.BINARY.items()},
        "augmented": {type(cst.parse_statement(f"a {ops.BINARY[op][0]}= b\n").body[0].operator): op
                      for op in ops.AUGMENTED},
        "compare": {type(expr(f"a {sym} b").comparisons[0].operator): op for op, (sym, _) in ops.COMPARE.items()},
        "unary": {type(expr(f"{sym}a").operator): op for op, (sym, _) in ops.UNARY.items()},
    }


_LITERALS = frozenset({cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString})


def dotted(node: cst.BaseExpression) -> str | None:
    """`np.linalg.norm` for that attribute chain; None for anything else."""
    t = type(node)  # (exact classes: see ExprLowerer.expr)
    if t is cst.Name:
        return node.value
    if t is cst.Attribute:
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


_NOT_EXPRESSIONS = {
    cst.Lambda: "lambda expressions", cst.ListComp: "list comprehensions",
    cst.GeneratorExp: "generator expressions", cst.DictComp: "dict comprehensions",
    cst.SetComp: "set comprehensions", cst.Dict: "dict literals", cst.Set: "set literals",
    cst.NamedExpr: "assignment expressions (:=)", cst.Yield: "yield",
    cst.Await: "await", cst.FormattedString: "f-strings"}


_CONTAINERS = (cst.ListComp, cst.GeneratorExp, cst.DictComp, cst.SetComp, cst.Dict, cst.Set)


class ExprLowerer:
    """The shared structure of expression lowering; subclasses give `read_name`,
    `attribute`, `call`, `loc`, `unsupported`, `ellipsis` (a template's `g[..., None]`)
    and, for three-address mode, `tmp`, `ifexp` and `container` (comprehensions, dicts)."""

    # ----------------------------------------------------------- the hooks
    def loc(self, node: cst.CSTNode) -> Loc:
        return NOLOC

    def unsupported(self, node: cst.CSTNode, what: str, hint: str = "") -> Exception:
        raise NotImplementedError

    def tmp(self, hint: str = "t") -> str:
        raise NotImplementedError

    def read_name(self, node: cst.Name) -> Expr:
        raise NotImplementedError

    def attribute(self, node: cst.Attribute, out: list[Stmt], nested: bool) -> Expr:
        raise NotImplementedError

    def call(self, node: cst.Call, out: list[Stmt], nested: bool) -> Expr:
        raise NotImplementedError

    def ifexp(self, node: cst.IfExp, out: list[Stmt], loc: Loc, name_hint: str) -> Expr:
        raise self.unsupported(node, "a conditional expression here")

    def ellipsis(self, node: cst.Ellipsis) -> Expr:
        return Const(Ellipsis)

    def container(self, node: cst.BaseExpression, out: list[Stmt], nested: bool, loc: Loc,
                  name_hint: str) -> Expr:
        """A comprehension, generator expression or dict display (the frontend's
        comprehensions.Comprehensions lowers them to loops; templates have none)."""
        raise self.unsupported(node, _NOT_EXPRESSIONS[type(node)])

    def concatenator(self, node: cst.Subscript, out: list[Stmt], nested: bool) -> Expr | None:
        """`np.r_[a, b]` / `np.c_[a, b]` as a call of its rule (rules/np_shape.py), or None
        for any other subscript (the frontend's Resolver knows what `np.r_` names)."""
        return None

    # ------------------------------------------------------------ the lowering
    def atom(self, e: Expr, out: list[Stmt], loc: Loc, hint: str = "t") -> Expr:
        """`e` as a Name or Const: a Call is assigned to a fresh temporary first."""
        if isinstance(e, (Name, Const)):
            return e
        t = self.tmp(hint)
        out.append(Assign(t, e, loc))
        return Name(t)

    def expr(self, node: cst.BaseExpression, out: list[Stmt], nested: bool = False,
             name_hint: str = "") -> Expr:
        """Lower an expression (see the module docstring for the two modes)."""
        # (names and literals first: they need no location, and they are most nodes. The
        # node classes are tested by `type(node) is`: the parser makes instances of the
        # concrete classes themselves, and isinstance on a libcst class, an ABC, costs a
        # Python-level __instancecheck__ each time)
        t = type(node)
        if t is cst.Name:
            return self.read_name(node)
        if t in _LITERALS:
            return Const(_literal(node))
        loc = self.loc(node)
        ops = operator_nodes()

        def sub(n: cst.BaseExpression) -> Expr:
            e = self.expr(n, out, nested)
            return e if nested else self.atom(e, out, loc)

        if t is cst.BinaryOperation:
            op = ops["binary"].get(type(node.operator))
            if op is None:
                raise self.unsupported(node, f"the operator {type(node.operator).__name__}")
            return Call(op, (sub(node.left), sub(node.right)))
        if t is cst.UnaryOperation:
            op = ops["unary"][type(node.operator)]
            operand = self.expr(node.expression, out, nested)
            if op == "neg" and isinstance(operand, Const) and isinstance(operand.value, (int, float, complex)) \
                    and not isinstance(operand.value, bool):
                return Const(-operand.value)
            if op == "pos" and isinstance(operand, Const):
                return operand
            return Call(op, (operand if nested else self.atom(operand, out, loc),))
        if t is cst.Comparison:
            left = sub(node.left)
            result: Expr | None = None
            for c in node.comparisons:
                op = ops["compare"].get(type(c.operator))
                if op is None:
                    raise self.unsupported(node, "this comparison")
                right = sub(c.comparator)
                part = Call(op, (left, right))
                result = part if result is None else Call("and", (result, part))
                left = right
            return result if nested or len(node.comparisons) == 1 else self.atom(result, out, loc)
        if t is cst.BooleanOperation:
            op = "and" if isinstance(node.operator, cst.And) else "or"
            return Call(op, (self.expr(node.left, out, True), self.expr(node.right, out, True)))
        if t is cst.IfExp:
            if nested:
                return Call("ifexp", (self.expr(node.test, out, True), self.expr(node.body, out, True),
                                      self.expr(node.orelse, out, True)))
            return self.ifexp(node, out, loc, name_hint)
        if t is cst.Tuple or t is cst.List:
            op = "tuple" if t is cst.Tuple else "list"
            if any(isinstance(el, cst.StarredElement) for el in node.elements):
                raise self.unsupported(node, "starred expressions")
            return Call(op, tuple(sub(el.value) for el in node.elements))
        if t is cst.Subscript:
            made = self.concatenator(node, out, nested)
            if made is not None:
                return made
            base = sub(node.value)
            return Call("getitem", (base, self.index(node, out)))
        if t is cst.Attribute:
            return self.attribute(node, out, nested)
        if t is cst.Call:
            return self.call(node, out, nested)
        if t is cst.Ellipsis:
            return self.ellipsis(node)
        if isinstance(node, _CONTAINERS):
            return self.container(node, out, nested, loc, name_hint)
        raise self.unsupported(node, _NOT_EXPRESSIONS.get(type(node), type(node).__name__))

    def index(self, node: cst.Subscript, out: list[Stmt]) -> Expr:
        """The index of `x[...]`, nested: one part, or a `tuple` of parts (`x[i, j]`,
        `x[i,]`); a slice is `slice(lower, upper, step)` with None for what is left out."""
        parts: list[Expr] = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                if s.star is not None:
                    raise self.unsupported(s, "starred index")
                parts.append(self.expr(s.value, out, nested=True))
            elif isinstance(s, cst.Slice):
                parts.append(Call("slice", tuple(
                    Const(None) if b is None else self.expr(b, out, nested=True)
                    for b in (s.lower, s.upper, s.step))))
            else:
                raise self.unsupported(s, "this index")
        if len(parts) == 1 and not (len(node.slice) == 1 and node.slice[0].comma not in (cst.MaybeSentinel.DEFAULT, None)):
            return parts[0]
        return Call("tuple", tuple(parts))


class TemplateLowerer(ExprLowerer):
    """A rule template: free names, `np.`/`math.` functions, method calls (nested mode)."""
    MODULES = ("np", "math")

    def __init__(self, src: str):
        self.src = src

    def unsupported(self, node: cst.CSTNode, what: str, hint: str = "") -> Exception:
        return ValueError(f"unsupported template syntax ({what}) in {self.src!r}")

    def read_name(self, node: cst.Name) -> Expr:
        if node.value in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[node.value])
        return Name(node.value)

    def attribute(self, node: cst.Attribute, out: list[Stmt], nested: bool) -> Expr:
        name = dotted(node)
        if name and name.split(".")[0] in self.MODULES:
            return Name(name)
        return Call(f"attr:{node.attr.value}", (self.expr(node.value, out, True),))

    def call(self, node: cst.Call, out: list[Stmt], nested: bool) -> Expr:
        if any(a.star for a in node.args):
            raise self.unsupported(node, "*args/**kwargs in a call")
        args = tuple(self.expr(a.value, out, True) for a in node.args if a.keyword is None)
        kwargs = tuple((a.keyword.value, self.expr(a.value, out, True)) for a in node.args if a.keyword is not None)
        name = dotted(node.func)
        if isinstance(node.func, cst.Attribute) and (name is None or name.split(".")[0] not in self.MODULES):
            return Call(f"method:{node.func.attr.value}", (self.expr(node.func.value, out, True),) + args, kwargs)
        if name is None:
            raise self.unsupported(node, "calling a non-name")
        if name in ("list", "tuple", "dict", "set"):  # the builtins, not the literal syntax ops
            return Call(f"py:{name}", args, kwargs)
        return Call(name, args, kwargs)


def lower_template(src: str) -> Expr:
    """A rule template's IR (uncached: rules.parse_template caches)."""
    try:
        node = cst.parse_expression(src.strip())
    except cst.ParserSyntaxError as e:
        raise ValueError(f"cannot parse the template {src!r}: {e}") from None
    return TemplateLowerer(src).expr(node, [], nested=True)


_DECIMAL = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+")


def _literal(node: cst.BaseExpression) -> Any:
    """A literal's value: plain decimal integers and floats read by int()/float() (the
    values Python's compiler gives them); the rest by libcst's evaluated_value, whose
    ast.literal_eval makes four closures per call, cyclic garbage for the collector."""
    if type(node) is cst.Integer and _DECIMAL.fullmatch(node.value):
        return int(node.value)
    if type(node) is cst.Float and _FLOAT.fullmatch(node.value):
        return float(node.value)
    return node.evaluated_value
