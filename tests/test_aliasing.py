"""In-place updates through aliases are refused with a clear error naming the
lines involved, rather than differentiated wrongly."""
import inspect

import numpy as np
import pytest

import adjointc
from corpus import inplace


@pytest.mark.parametrize("fn, args", inplace.ALIASING, ids=lambda v: getattr(v, "__name__", ""))
def test_update_through_alias_is_refused(fn, args):
    lines, first = inspect.getsourcelines(fn)
    with pytest.raises(adjointc.AliasingError) as info:
        adjointc.grad(fn)(*args)
    msg = str(info.value)
    assert "inplace.py:" in msg and "hint:" in msg
    line = int(msg.split("inplace.py:")[1].split(":")[0])
    assert first < line < first + len(lines)  # points into the function


def _aliased_args(x, y):
    x[0] = y[1] * 2.0
    return np.sum(x * y)


def test_arguments_sharing_memory_with_a_mutated_argument_are_refused():
    a = np.arange(4.0)
    with pytest.raises(adjointc.AliasingError, match="share memory"):
        adjointc.grad(_aliased_args, wrt=1)(a, a)
    x, y = np.arange(4.0), np.arange(4.0) + 1.0  # distinct arrays: fine, and not mutated
    g = adjointc.grad(_aliased_args, wrt=1)(x, y)
    assert np.array_equal(x, np.arange(4.0))
    expected = x.copy()
    expected[0] = y[1] * 2.0
    expected_grad = expected.copy()
    expected_grad[1] += 2.0 * y[0]
    np.testing.assert_allclose(g, expected_grad)


def _rebound_alias_then_written(x):
    v = x
    for k in range(2):
        v[0] += 1.0
        v = np.tanh(v)
    return np.sum(v * v)


def test_alias_refusal_names_the_assignment_that_makes_the_alias():
    """`v = x` (line 2), not v's later `v = np.tanh(v)`, is where the alias is made (the
    first trip writes into the argument through v; with the two statements of the loop
    the other way round nothing would: tests/test_aliasing_flow.py)."""
    lines, first = inspect.getsourcelines(_rebound_alias_then_written)
    with pytest.raises(adjointc.AliasingError) as info:
        adjointc.grad(_rebound_alias_then_written)(np.array([0.3, -0.2]))
    msg = str(info.value)
    assert f"test_aliasing.py:{first + 1}:" in msg and f"(assigned at line {first + 1})" in msg, msg
    assert "v = x" in msg


def _first_half(x):
    return x[: x.shape[0] // 2]


def _uses_a_declared_view(u0):
    u = u0 * 1.0
    h = _first_half(u)
    u[0] = 5.0 * u[0]
    return np.sum(h * h)


def test_a_custom_rule_declaring_its_result_a_view_is_followed_by_the_alias_analysis(monkeypatch):
    # Rule.returns_view is the knowledge the alias analyses read (the built-in views
    # declare it the same way): a write into u while h views it is refused, located
    from adjointc import rules
    monkeypatch.setattr(rules, "REGISTRY", dict(rules.REGISTRY))
    monkeypatch.setattr(rules, "BY_OBJECT", dict(rules.BY_OBJECT))
    adjointc.defvjp(_first_half, "x", x="np.concatenate((g, np.zeros(x.shape[0] - g.shape[0])))",
                    result="same", returns_view=True)
    with pytest.raises(adjointc.AliasingError, match="'h' may share memory with 'u'"):
        adjointc.grad(_uses_a_declared_view)(np.arange(1.0, 5.0))
