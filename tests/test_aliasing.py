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
