"""The rules of the helpers generated adjoints call (adjointc/rules/generated.py):
each VJP against finite differences (the inner-product test, rules.testing.check_vjp)
and each tangent against finite differences (check_jvp), over the shapes the
helpers meet: equal shapes, broadcasting over leading and size-1 axes, scalars,
reductions with and without axis/keepdims, 1-D and batched matmul operands."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import rules, runtime
from adjointc.rules import generated
from adjointc.rules.helpers import elementwise, linalg, reductions, shape
from adjointc.rules.testing import check_jvp, check_vjp

_r = np.random.default_rng(0)


def _n(*shape: int) -> np.ndarray:
    return _r.normal(size=shape)


_A = _n(3, 4)
_TIES = np.array([[1.0, 2.0, 0.5, 3.0], [1.0, 0.0, 0.5, 3.0]])  # (ties in columns 0, 2 and 3)
CASES = [
    (runtime.unbroadcast, (_n(3, 4), _n(4))),
    (runtime.unbroadcast, (_n(3, 4), _n(3, 1))),
    (runtime.unbroadcast, (_n(2, 3, 4), _n(1, 4))),
    (runtime.unbroadcast, (_n(3, 4), _n(3, 4))),
    (runtime.unbroadcast, (_n(4), _n(3, 4))),      # (lower rank: broadcast up)
    (runtime.unbroadcast, (_n(3, 4), 1.5)),
    (generated.unbroadcast_vjp, (_n(4), _n(3, 4), _n(4))),
    (generated.unbroadcast_vjp, (_n(3, 1), _n(3, 4), _n(3, 1))),
    (generated.unbroadcast_vjp, (_n(1, 4), _n(2, 3, 4), _n(1, 4))),
    (generated.unbroadcast_vjp, (_n(3, 4), _n(4), _n(3, 4))),
    (runtime.unreduce, (1.3, _n(3, 4))),
    (runtime.unreduce, (_n(4), _n(3, 4), 0, False)),
    (runtime.unreduce, (_n(3, 1), _n(3, 4), 1, True)),
    (runtime.unreduce, (_n(3), _n(3, 4), -1, False)),
    (runtime.unreduce, (_n(2), _n(2, 3, 4), (1, 2), False)),
    (generated.reduce_like, (_n(3, 4), 1.3, _n(3, 4))),
    (generated.reduce_like, (_n(3, 4), _n(4), _n(3, 4), 0, False)),
    (generated.reduce_like, (_n(3, 4), _n(3, 1), _n(3, 4), 1, True)),
    (generated.reduce_like, (_n(2, 3, 4), _n(2), _n(2, 3, 4), (1, 2), False)),
    (runtime.as_adjoint, (_n(3, 4), _n(3, 4))),
    (runtime.as_adjoint, (1.2, _n(3, 4))),
    (runtime.as_adjoint, (1.2, 0.5)),
    (runtime.seed_adjoint, (1.2, _n(3))),
    (runtime.copy_adjoint, (_n(3),)),
    (runtime.real_adjoint_check, (_n(3), _n(3))),
    (runtime.add_adjoint, (_n(3), _n(3))),
    (runtime.add_adjoint, (_n(3), 2.0)),
    (shape.piece, ((_n(3), _n(2, 2)), 0)),
    (shape.piece, ([_n(3), 1.5], 1)),
    (generated.unpiece, (_n(3), (_n(3), _n(2, 2)), 0)),
    (generated.unpiece, (_n(2, 2), [_n(3), _n(2, 2)], 1)),
    (runtime.list_adjoint, ([_n(3), _n(3)], [_n(3), _n(3)])),
    (runtime.list_adjoint, (_n(2, 3), [_n(3), _n(3)])),       # (an array adjoint of a list: its rows)
    (generated.relist, ([_n(3), _n(3)], [_n(3), _n(3)])),
    (generated.relist, ([_n(3), _n(3)], _n(2, 3))),
    (shape.unarray, (_n(2, 3), [_n(3), _n(3)])),
    (shape.unarray, (_n(2, 2), [[1.0, 2.0], [3.0, 4.0]])),
    (generated.rearray, ([_n(3), _n(3)], _n(2, 3), [_n(3), _n(3)])),
    (generated.rearray, ([[1.0, 2.0], [3.0, 4.0]], _n(2, 2), [[1.0, 2.0], [3.0, 4.0]])),
    (shape.unreshape, (_n(6), _n(2, 3))),
    (generated.reshape_like, (_n(2, 3), _n(6))),
    (shape.untranspose, (_n(4, 3, 2), _n(2, 3, 4))),
    (shape.untranspose, (_n(3, 4, 2), _n(2, 3, 4), (2, 0, 1))),
    (generated.retranspose, (_n(2, 3, 4), _n(3, 4, 2), (2, 0, 1))),
    (shape.unswapaxes, (_n(4, 3, 2), _n(2, 3, 4), 0, 2)),
    (generated.reswapaxes, (_n(2, 3, 4), _n(4, 3, 2), 0, 2)),
    (reductions.uncumsum, (_n(3, 4), _n(3, 4), 1)),
    (reductions.uncumsum, (_n(12), _n(3, 4))),
    (generated.recumsum, (_n(3, 4), _n(3, 4), 1)),
    (generated.recumsum, (_n(3, 4), _n(12))),
    (reductions.unreduce_minmax, (_n(3), _A, np.max(_A, axis=1), 1)),
    (reductions.unreduce_minmax, (1.3, _A, np.max(_A))),
    (reductions.unreduce_minmax, (_n(1, 4), _TIES, np.min(_TIES, axis=0, keepdims=True), 0, True)),
    (shape.unroll, (_n(5), _n(5), 2)),
    (shape.unroll, (_n(3, 4), _n(3, 4), (1, -1), (0, 1))),
    (shape.unflip, (_n(3, 4), _n(3, 4), 1)),
    (shape.unflip, (_n(3, 4), _n(3, 4))),
    (shape.unsum, (1.5, [_n(3), 2.0])),
    (shape.unsum, (_n(3), _n(4, 3))),
    (generated.resum, ([1.0, 2.5], 1.5, [1.0, 2.0])),
    (generated.resum, (_n(4, 3), _n(3), _n(4, 3))),
    (shape.unconcatenate, (_n(5, 2), [_n(2, 2), _n(3, 2)], 0)),
    (shape.unconcatenate, (_n(7), [_n(2, 2), _n(3)], None)),
    (generated.reconcatenate, ([_n(2, 2), _n(3, 2)], _n(5, 2), [_n(2, 2), _n(3, 2)], 0)),
    (generated.reconcatenate, ([_n(2, 2), _n(3)], _n(7), [_n(2, 2), _n(3)], None)),
    (linalg.dot_lhs, (_n(3, 5), _n(3, 4), _n(4, 5))),
    (linalg.dot_lhs, (_n(3), _n(3, 4), _n(4))),
    (linalg.dot_lhs, (_n(2, 3, 5), _n(2, 3, 4), _n(4, 5))),
    (linalg.dot_rhs, (_n(3, 5), _n(3, 4), _n(4, 5))),
    (linalg.dot_rhs, (_n(3), _n(3, 4), _n(4))),
    (linalg.dot_rhs, (2.0, _n(4), _n(4))),
    (elementwise.fdiv, (_n(3), _n(3) + 3.0)),
    (elementwise.fdiv, (_n(2, 3), 2.5)),
    (elementwise.div0, (_n(3), _n(3) + 3.0)),
    (elementwise.pow_dx, (_n(3) ** 2 + 0.5, _n(3))),
    (elementwise.pow_dx, (1.7, 2.5)),
    (linalg.matmul_lhs, (_n(3, 5), _n(3, 4), _n(4, 5))),
    (linalg.matmul_lhs, (_n(5), _n(4), _n(4, 5))),
    (linalg.matmul_lhs, (_n(3), _n(3, 4), _n(4))),
    (linalg.matmul_lhs, (_n(2, 3, 5), _n(3, 4), _n(2, 4, 5))),
    (linalg.matmul_rhs, (_n(3, 5), _n(3, 4), _n(4, 5))),
    (linalg.matmul_rhs, (_n(5), _n(4), _n(4, 5))),
    (linalg.matmul_rhs, (_n(3), _n(3, 4), _n(4))),
    (linalg.matmul_rhs, (_n(2, 3, 5), _n(2, 3, 4), _n(4, 5))),
]


def _id(case) -> str:
    fn, args = case
    return f"{fn.__name__}{tuple(f'seq{len(a)}' if isinstance(a, (list, tuple)) else np.shape(a) for a in args)}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_vjp_matches_finite_differences(case):
    fn, args = case
    out = check_vjp(fn, args)
    assert np.isfinite(out["fd"]) and abs(out["fd"]) > 0  # (a non-trivial product was compared)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_tangent_matches_finite_differences(case):
    fn, args = case
    check_jvp(fn, args)


def test_every_helper_rule_is_tested():
    tested = {rules.lookup_object(fn).op for fn, _ in CASES}
    differentiable = {op for op, r in rules.REGISTRY.items()
                      if r.objects and getattr(r.objects[0], "__module__", "").startswith("adjointc")
                      and not r.nondiff}
    assert differentiable <= tested, sorted(differentiable - tested)


def test_wrong_rule_is_caught():
    """Test the tester: a wrong factor in matmul_lhs's c-adjoint fails."""
    rule = rules.lookup("matmul_lhs")
    saved = dict(rule.templates)
    try:
        rule.templates["c"] = "np.matmul(g, y) * 1.5"
        with pytest.raises(AssertionError):
            check_vjp(linalg.matmul_lhs, (_n(3, 5), _n(3, 4), _n(4, 5)))
    finally:
        rule.templates.clear()
        rule.templates.update(saved)
