"""Rule templates are read by the frontend's own expression lowering (libcst).

`rules.parse_template` used to have its own, `ast`-based parser; `ast_parse` below
is that parser, kept as the oracle: the libcst lowering must give identical IR for
every template the rules use — the static ones in the registry and the ones the
dynamic rules (einsum, reductions over an axis, ...) produce for every case of the
rule tests (tests/test_rules.py). The operator table is checked here too.
"""
from __future__ import annotations

import ast

import numpy as np
import pytest

import test_rules
from adjointc import rules
from adjointc.frontend.expressions import lower_template
from adjointc.ir import Call, Const, Expr, Name
from adjointc.rules import operators
from adjointc.rules.testing import bind


# ---------------------------------------------- the old (ast) template parser
_BIN = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
        ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
        ast.BitAnd: "bitand", ast.BitOr: "bitor", ast.BitXor: "bitxor"}
_CMP = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
        ast.Is: "is", ast.IsNot: "isnot"}
_UN = {ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not", ast.Invert: "invert"}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _conv(n: ast.expr) -> Expr:
    if isinstance(n, ast.Name):
        return Name(n.id)
    if isinstance(n, ast.Constant):
        return Const(n.value)
    if isinstance(n, ast.BinOp):
        return Call(_BIN[type(n.op)], (_conv(n.left), _conv(n.right)))
    if isinstance(n, ast.UnaryOp):
        if isinstance(n.op, ast.USub) and isinstance(n.operand, ast.Constant) \
                and isinstance(n.operand.value, (int, float)):
            return Const(-n.operand.value)
        return Call(_UN[type(n.op)], (_conv(n.operand),))
    if isinstance(n, ast.Compare) and len(n.ops) == 1:
        return Call(_CMP[type(n.ops[0])], (_conv(n.left), _conv(n.comparators[0])))
    if isinstance(n, ast.BoolOp):
        op = "and" if isinstance(n.op, ast.And) else "or"
        out = _conv(n.values[0])
        for v in n.values[1:]:
            out = Call(op, (out, _conv(v)))
        return out
    if isinstance(n, ast.IfExp):
        return Call("ifexp", (_conv(n.test), _conv(n.body), _conv(n.orelse)))
    if isinstance(n, ast.Subscript):
        return Call("getitem", (_conv(n.value), _conv(n.slice)))
    if isinstance(n, ast.Slice):
        return Call("slice", tuple(_conv(x) if x is not None else Const(None)
                                   for x in (n.lower, n.upper, n.step)))
    if isinstance(n, ast.Tuple):
        return Call("tuple", tuple(_conv(x) for x in n.elts))
    if isinstance(n, ast.List):
        return Call("list", tuple(_conv(x) for x in n.elts))
    if isinstance(n, ast.Attribute):
        dotted = _dotted(n)
        if dotted and dotted.split(".")[0] in ("np", "math"):
            return Name(dotted)
        return Call(f"attr:{n.attr}", (_conv(n.value),))
    if isinstance(n, ast.Call):
        kwargs = tuple((k.arg, _conv(k.value)) for k in n.keywords)
        args = tuple(_conv(a) for a in n.args)
        dotted = _dotted(n.func)
        if isinstance(n.func, ast.Attribute) and (dotted is None or dotted.split(".")[0] not in ("np", "math")):
            return Call(f"method:{n.func.attr}", (_conv(n.func.value),) + args, kwargs)
        if dotted is None:
            raise ValueError(f"template calls a non-name: {ast.unparse(n)}")
        if dotted in ("list", "tuple", "dict", "set"):  # the builtins, not the literal syntax ops
            return Call(f"py:{dotted}", args, kwargs)
        return Call(dotted, args, kwargs)
    raise ValueError(f"unsupported template syntax: {ast.unparse(n)}")


def ast_parse(src: str) -> Expr:
    return _conv(ast.parse(src.strip(), mode="eval").body)


# ------------------------------------------------------------ the templates
def _strings(templates) -> list[str]:
    out = []
    for t in templates.values():
        for x in (t if isinstance(t, list) else [t]):
            if isinstance(x, str):
                out.append(x)
    return out


def static_templates() -> list[str]:
    return sorted({t for rule in rules.REGISTRY.values() if rule.templates for t in _strings(rule.templates)})


def dynamic_templates() -> list[str]:
    """What the dynamic rules produce for the rule tests' cases."""
    found: set[str] = set()
    for p in test_rules.CASES:
        fn, args, kwargs, _ = p.values
        rule, bound, _ = bind(fn, args, kwargs)
        if rule.fn is not None:
            found |= set(_strings(rule.templates_for(bound)))
    return sorted(found)


def test_there_are_templates_of_both_kinds():
    assert len(static_templates()) > 100 and len(dynamic_templates()) > 20


@pytest.mark.parametrize("src", static_templates() + dynamic_templates())
def test_libcst_lowering_equals_the_old_parser(src):
    assert lower_template(src) == ast_parse(src)
    assert rules.parse_template(src) == ast_parse(src)


def test_every_template_parsed_so_far_agrees():
    # (the session's cache holds whatever the rules used by earlier tests needed)
    for src in list(rules._cache):
        assert rules.parse_template(src) == ast_parse(src), src


def test_parse_is_cached():
    src = "unbroadcast(g * np.cos(x), x)"
    assert rules.parse_template(src) is rules.parse_template(src)


@pytest.mark.parametrize("src, expected", [
    ("-g", Call("neg", (Name("g"),))),
    ("-2.0 * x", Call("mul", (Const(-2.0), Name("x")))),
    ("x[1:, ::2]", Call("getitem", (Name("x"), Call("tuple", (
        Call("slice", (Const(1), Const(None), Const(None))), Call("slice", (Const(None), Const(None), Const(2)))))))),
    ("x[i,]", Call("getitem", (Name("x"), Call("tuple", (Name("i"),))))),
    ("np.linalg.norm(a, axis=0)", Call("np.linalg.norm", (Name("a"),), (("axis", Const(0)),))),
    ("g.reshape(x.shape)", Call("method:reshape", (Name("g"), Call("attr:shape", (Name("x"),))))),
    ("tuple(a)", Call("py:tuple", (Name("a"),))),
    ("g if keepdims else None", Call("ifexp", (Name("keepdims"), Name("g"), Const(None)))),
    ("(x > 0) & (y <= 1)", Call("bitand", (Call("gt", (Name("x"), Const(0))), Call("le", (Name("y"), Const(1)))))),
    ("a and b or not c", Call("or", (Call("and", (Name("a"), Name("b"))), Call("not", (Name("c"),))))),
    ("math.pi * x", Call("mul", (Name("math.pi"), Name("x")))),
    ("g[..., None]", Call("getitem", (Name("g"), Call("tuple", (Const(Ellipsis), Const(None)))))),
])
def test_template_ir(src, expected):
    assert lower_template(src) == expected == ast_parse(src)


@pytest.mark.parametrize("src", ["[t for t in x]", "lambda x: x", "f(x)(y)", "x +", "{1: 2}", "x := 1"])
def test_bad_templates_are_refused_at_registration(src):
    with pytest.raises(ValueError):
        rules.defvjp(np.sin, "x", name="test_templates.bad", x=src)
    assert "test_templates.bad" not in rules.REGISTRY


def test_one_operator_table():
    """The printer and the frontend read rules.operators; every operator has a rule."""
    from adjointc import printer
    from adjointc.frontend.expressions import operator_nodes
    assert printer.BINOPS == {**operators.BINARY, **operators.COMPARE, **operators.BOOLEAN}
    assert printer.UNOPS == operators.UNARY
    nodes = operator_nodes()
    assert sorted(nodes["binary"].values()) == sorted(operators.BINARY)
    assert sorted(nodes["compare"].values()) == sorted(operators.COMPARE)
    assert sorted(nodes["unary"].values()) == sorted(operators.UNARY)
    assert sorted(nodes["augmented"].values()) == sorted(operators.AUGMENTED)
    for op in [*operators.BINARY, *operators.COMPARE, *operators.BOOLEAN, *operators.UNARY]:
        assert rules.lookup(op) is not None, op
    assert operators.PYTHON["sub"](5, 3) == 2 and operators.PYTHON["notin"](1, (2,)) is True
    assert set(operators.PYTHON) == {*operators.BINARY, *operators.COMPARE, *operators.UNARY}
