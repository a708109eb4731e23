"""Forward mode, rule by rule: every rule's tangent (JVP) against finite differences,
on the cases tests/test_rules.py checks the VJPs on (rules/tangents.py, rules/jvps.py)."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc.rules import REGISTRY, BUILTIN_RULE_OPS, defjvp, defvjp
from adjointc.rules.tangents import NoTangentRule, derive, has_tangent
from adjointc.rules import parse_template
from adjointc.rules.testing import check_jvp, find_rule
from adjointc import printer

from test_rules import CASES

@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES)
def test_jvp(fn, args, kwargs, wrt):
    with np.errstate(invalid="ignore"):
        check_jvp(fn, args, kwargs, wrt=wrt)


def test_the_derivation_transposes_elementwise_templates_only():
    d = lambda s: None if derive(parse_template(s)) is None else printer.expr(derive(parse_template(s)))
    assert d("unbroadcast(g * np.cos(x), x)") == "d * np.cos(x)"
    assert d("-g / np.sqrt(1 - x * x)") == "-d / np.sqrt(1 - x * x)"
    assert d("unbroadcast(np.where(condition, g, 0.0), x)") == "np.where(condition, d, 0.0)"
    assert d("unreduce(g, a, axis, keepdims)") is None          # a reduction
    assert d("matmul_lhs(g, x, y)") is None                      # not elementwise
    assert d("g * x + g * y") is None                            # g twice
    assert d("np.where(c, g, 1.0)") is None                      # not linear in g


def test_a_wrong_tangent_fails_the_check():
    rule = find_rule(np.sin)
    saved = rule.jvp
    try:
        rule.jvp = {"x": "d * np.sin(x)"}
        with pytest.raises(AssertionError):
            check_jvp(np.sin, (np.linspace(-1, 1, 5),))
    finally:
        rule.jvp = saved


def test_a_users_rule_needs_defjvp():
    def softplus(x):
        return np.log1p(np.exp(x))
    defvjp(softplus, "x", x="g / (1 + np.exp(-x))")
    x = np.linspace(-2, 2, 4)
    with pytest.raises(NoTangentRule):
        check_jvp(softplus, (x,))
    defjvp(softplus, x="d / (1 + np.exp(-x))")
    check_jvp(softplus, (x,))


def test_every_builtin_rule_has_forward_mode():
    missing = {r.op for r in REGISTRY.values() if r.op in BUILTIN_RULE_OPS and r.refused is None
               and not has_tangent(r)}
    assert missing == set()
