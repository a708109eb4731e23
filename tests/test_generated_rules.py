"""The rules of the helpers generated adjoints call (adjointc/rules/generated.py):
each VJP against finite differences (the inner-product test, rules.testing.check_vjp)
and each tangent against finite differences (check_jvp), over the shapes the
helpers meet: equal shapes, broadcasting over leading and size-1 axes, scalars,
reductions with and without axis/keepdims, 1-D and batched matmul operands; and
the second derivatives (Hessian, jacrev of the gradient) of the NumPy ops whose
adjoints call the layout helpers, against finite differences of the gradient."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import rules, runtime
from adjointc.rules import generated, generated_lists
from adjointc.rules.helpers import elementwise, linalg, reductions, shape
from adjointc.rules.testing import check_jvp, check_vjp
from test_generated_linalg_rules import CASES as LINALG_CASES  # (generated_linalg.py's helpers)
from test_generated_reduction_rules import CASES as REDUCTION_CASES  # (generated_reductions.py's)
from test_complex_fft import HELPER_CASES as SPECTRAL_CASES  # (generated_spectral.py's, special.py's)

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
    (runtime.snapshot, (_n(3),)),
    (runtime.snapshot, ([_n(2), 1.5],)),
    (runtime.real_adjoint_check, (_n(3), _n(3))),
    (runtime.add_adjoint, (_n(3), _n(3))),
    (runtime.add_adjoint, (_n(3), 2.0)),
    (shape.piece, ((_n(3), _n(2, 2)), 0)),
    (shape.piece, ([_n(3), 1.5], 1)),
    (generated.unpiece, (_n(3), (_n(3), _n(2, 2)), 0)),
    (generated.unpiece, (_n(2, 2), [_n(3), _n(2, 2)], 1)),
    (runtime.dict_get, ({"a": 0.3, "b": 1.5}, "z", _n(2))),     # (the default's adjoint: k absent)
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
    (shape.untile, (_n(2, 6), _n(2, 3), 2)),
    (shape.untile, (_n(2, 3, 4), _n(3, 2), (2, 1, 2))),
    (shape.untile, (_n(6), _n(3), (2,))),
    (shape.unrepeat, (_n(3, 4), _n(3, 2), 2, 1)),
    (shape.unrepeat, (_n(6), _n(2, 2), [1, 2, 0, 3])),
    (shape.untake, (_n(4, 3), _n(3, 3), [0, 2, 2, 1], 0)),
    (shape.untake, (_n(5), _n(2, 3), [5, 0, 0, 3, 1])),
    (shape.unpad, (_n(5, 6), _n(3, 3), ((1, 1), (2, 1)))),
    (shape.unpad, (_n(7), _n(4), 2 - np.array([0, 1]))),
    (shape.undiagonal, (_n(3), _n(3, 4))),
    (shape.undiagonal, (_n(2, 3), _n(3, 2, 4), 1, 0, 2)),
    (shape.untrace, (1.3, _n(3, 4))),
    (shape.untrace, (_n(2), _n(3, 2, 4), -1, 0, 2)),
    (shape.undiag, (_n(4, 4), _n(3), 1)),
    (shape.undiag, (_n(3), _n(3, 4))),
    (shape.unmoveaxis, (_n(4, 2, 3), _n(2, 3, 4), 2, 0)),
    (shape.unmoveaxis, (_n(4, 3, 2), _n(2, 3, 4), (0, 2), (2, 0))),
    (shape.untril, (_n(3, 4), _n(3, 4))),
    (shape.untril, (_n(3, 3), _n(3), -1)),
    (shape.untriu, (_n(3, 4), _n(3, 4), 1)),
    (shape.untriu, (_n(3, 3), _n(3))),
    (reductions.undiff, (_n(4), _n(5))),
    (reductions.undiff, (_n(3, 2), _n(3, 4), 2, 1)),
    (reductions.undiff, (_n(2, 4), _n(3, 4), 1, 0)),
    (reductions.unsort, (_n(5), _n(5))),
    (reductions.unsort, (_n(3, 4), _n(3, 4), 0)),
    (reductions.unsort, (_n(12), _n(3, 4), None)),
    (reductions.sort_jvp, (_n(5), _n(5))),
    (reductions.sort_jvp, (_n(3, 4), _n(3, 4), 0)),
    (reductions.minmax_jvp, (_n(3, 4), _A, np.max(_A, axis=1), 1)),
    (reductions.minmax_jvp, (_n(2, 4), _TIES, np.min(_TIES, axis=0, keepdims=True), 0, True)),
    (reductions.minmax_jvp, (_n(3, 4), _A, np.max(_A))),
    (shape.unstack, (_n(2, 3), [_n(3), _n(3)], 0)),
    (shape.unstack, (_n(3, 2, 4), [_n(3, 4), _n(3, 4)], 1)),
    (generated.restack, ([_n(3), _n(3)], _n(2, 3), [_n(3), _n(3)], 0)),
    (generated.restack, ([_n(3, 4), _n(3, 4)], _n(3, 2, 4), [_n(3, 4), _n(3, 4)], -2)),
    (shape.unhstack, (_n(5), [_n(2), _n(3)])),
    (shape.unhstack, (_n(2, 5), [_n(2, 2), _n(2, 3)])),
    (generated.rehstack, ([_n(2), _n(3)], _n(5), [_n(2), _n(3)])),
    (generated.rehstack, ([_n(2, 2), _n(2, 3)], _n(2, 5), [_n(2, 2), _n(2, 3)])),
    (shape.unvstack, (_n(3, 3), [_n(3), _n(2, 3)])),
    (generated.revstack, ([_n(3), _n(2, 3)], _n(3, 3), [_n(3), _n(2, 3)])),
    (shape.unappend, (_n(5), _n(3), _n(2), None, 0)),
    (shape.unappend, (_n(5), _n(3), _n(2), None, 1)),
    (shape.unappend, (_n(2, 5), _n(2, 3), _n(2, 2), 1, 0)),
    (shape.unappend, (_n(7), _n(2, 2), _n(3), None, 1)),
    (generated.reappend, (_n(3), _n(5), _n(3), _n(2), None, 0)),
    (generated.reappend, (_n(2, 2), _n(2, 5), _n(2, 3), _n(2, 2), 1, 1)),
    (generated.reappend, (_n(2, 2), _n(7), _n(2, 2), _n(3), None, 0)),
    (shape.linspace_vjp, (_n(5), 1.5, 5, True, 1.0)),
    (shape.linspace_vjp, (_n(4, 3), _n(3), 4, False, 0.0)),
    (shape.linspace_vjp, (_n(4, 2, 3), _n(1, 3), 4, True, 1.0)),
    (generated.relinspace, (1.5, _n(5), 1.5, 5, True, 1.0)),
    (generated.relinspace, (_n(3), _n(4, 3), _n(3), 4, False, 0.0)),
    (generated.relinspace, (_n(1, 3), _n(4, 2, 3), _n(1, 3), 4, True, 1.0)),
    (runtime.written_part, (_n(5), [1, 3, 1, 0])),
    (runtime.written_part, (_n(4, 3), ([0, 2, 0], [1, 1, 1]))),
    (runtime.written_part, (_n(4, 3), [3, 3])),
    (reductions.var_jvp, (_n(3, 4), _n(3, 4))),
    (reductions.var_jvp, (_n(3, 4), _n(3, 4), 1, 1)),
    (reductions.var_jvp, (_n(2, 3, 4), _n(2, 3, 4), (0, 2), 0, True)),
    (reductions.unreduce_var, (_n(1, 1), _n(3, 4), None, 0, True)),
    (reductions.unreduce_var, (1.3, _n(3, 4))),
    (reductions.unreduce_var, (_n(3), _n(3, 4), 1, 1)),
    (reductions.unreduce_var, (_n(1, 3, 1), _n(2, 3, 4), (0, 2), 0, True)),
    # (everyday syntax's list helpers: rules/generated_lists.py)
    (shape.unlist, ([_n(2), _n(2), _n(2)], _n(3, 2))),
    (shape.unlist, ([1.5, -0.5], [0.3, 0.2])),
    (generated_lists.relisted, (_n(3, 2), [_n(2), _n(2), _n(2)], _n(3, 2))),
    (generated_lists.relisted, ([0.7, 0.1], [1.5, -0.5], [0.3, 0.2])),
    (shape.unconcat_list, ([1.0, 2.0, 3.0], [0.5, 0.2], [0.1], 0)),
    (shape.unconcat_list, ([1.0, 2.0, 3.0], [0.5, 0.2], [0.1], 1)),
    (generated_lists.reconcat_list, ([0.3, 0.4], [0.5, 0.6, 0.7], [0.5, 0.2], [0.1], 0)),
    (generated_lists.reconcat_list, ([0.3], [0.5, 0.6, 0.7], [0.5, 0.2], [0.1], 1)),
    (shape.unrepeat_list, ([1.0, 2.0, 3.0, 4.0], [0.5, 0.2], 2)),
    (generated_lists.rerepeat_list, ([0.3, 0.4], [0.1, 0.2, 0.5, 0.6], [0.5, 0.2], 2)),
    (shape.unextreme, (1.3, [0.5, 2.0, -1.0], 2.0)),
    (shape.unextreme, (1.3, np.array([0.5, 2.0, -1.0]), 2.0)),
    (shape.extreme_jvp, ([0.3, 0.2, 0.1], [0.5, 2.0, -1.0], 2.0)),
    (shape.unsorted, ([0.3, 0.2, 0.1], [0.5, 2.0, -1.0])),
    (runtime.real_like, (_n(3), _n(3))),  # (a real value's contribution: the identity on real values)
    (runtime.distinct, ([0.5, 2.0, -1.0],)),  # (distinct items: finite differences keep them distinct)
    (shape.undistinct, ([0.3, 0.2, 0.1], [0.5, 2.0, 0.5, -1.0])),
    (shape.distinct_jvp, ([0.3, 0.2, 0.1, 0.7], [0.5, 2.0, 0.5, -1.0])),
    (shape.unsorted, ([0.3, 0.2, 0.1], [0.5, 2.0, -1.0], True)),
    (shape.sorted_jvp, ([0.3, 0.2, 0.1], [0.5, 2.0, -1.0])),
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


# The dict helpers (rules/containers.py): a dict is no leaf check_vjp knows, so their
# inner-product test is written out here, over the dict's values (a key carries nothing).
DICT_CASES = [(runtime.dict_values, {"a": _n(3), "b": 1.5, "c": _n(2, 2)}),
              (runtime.dict_items, {"a": _n(3), "b": 1.5})]


def _dict_values_vdot(m: dict, u: dict) -> float:
    return sum(float(np.sum(np.asarray(m[k]) * np.asarray(u[k]))) for k in m)


@pytest.mark.parametrize("fn, m", DICT_CASES, ids=[f.__name__ for f, _ in DICT_CASES])
def test_dict_helper_vjp_matches_finite_differences(fn, m):
    from adjointc.rules.testing import namespace
    rng = np.random.default_rng(3)
    like = {k: (rng.normal(size=np.shape(v)) if np.ndim(v) else float(rng.normal())) for k, v in m.items()}
    ans = fn(m)
    values = [p[1] if isinstance(p, tuple) else p for p in ans]
    gv = [rng.normal(size=np.shape(v)) if np.ndim(v) else float(rng.normal()) for v in values]
    g = [(0.0, x) for x in gv] if fn is runtime.dict_items else gv
    ns = namespace()
    ns.update(g=g, m=m)
    adj = eval(rules.lookup_object(fn).templates["m"], ns)   # the registered template itself
    assert isinstance(adj, dict) and list(adj) == list(m)

    def out(t: float) -> float:
        moved = {k: m[k] + t * like[k] for k in m}
        vals = [p[1] if isinstance(p, tuple) else p for p in fn(moved)]
        return sum(float(np.sum(np.asarray(a) * np.asarray(b))) for a, b in zip(gv, vals))
    h = 1e-6
    fd = (out(h) - out(-h)) / (2 * h)
    assert abs(fd) > 0 and np.isclose(_dict_values_vdot(adj, like), fd, rtol=1e-7, atol=1e-9)
    # forward mode is "linear": the same helper on the tangent dict
    assert rules.lookup_object(fn).jvp == "linear"


def test_every_helper_rule_is_tested():
    tested = {rules.lookup_object(fn).op for fn, _ in CASES + LINALG_CASES + REDUCTION_CASES + DICT_CASES
              + SPECTRAL_CASES}
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


# ------------------------------------- second derivatives of the ops using them
# Each function's adjoint calls the helper named first; its Hessian (forward over
# reverse) and jacrev of its gradient (reverse over reverse) are checked against
# central finite differences of the gradient.
def _tile(x):
    return np.sum(np.tile(x, (2, 1)) ** 3)


def _repeat(x):
    return np.sum(np.sin(np.repeat(x, [1, 2, 3], axis=0)) * np.repeat(x, 2))


def _take(x):
    return np.sum(np.take(x, [2, 0, 2]) ** 3) + np.sum(np.take(x, [0, 1], axis=0) ** 2)


def _pad(x):
    return np.sum(np.cos(np.pad(x, 1)) * np.pad(x, ((0, 2),)))


def _diagonal(x):
    m = np.reshape(np.concatenate([x, x * x, np.sin(x)]), (3, 3))
    return np.sum(np.diagonal(m) ** 3) + np.trace(m * m, 1) + np.sum(np.diag(np.diag(m)) ** 2)


def _diag_build(x):
    return np.sum(np.sin(np.diag(x, 1)) * np.diag(x * x, 1))


def _moveaxis(x):
    m = np.reshape(x, (2, 3)) ** 2
    return np.sum(np.moveaxis(m, 0, 1) @ np.arange(2.0) * x[:3])


def _tri(x):
    m = x[:, None] * x[None, :]
    return np.sum(np.tril(m) ** 2) + np.sum(np.triu(m, 1) * m) + np.sum(np.tril(x) ** 3)


def _diff(x):
    return np.sum(np.diff(x) ** 3) + np.sum(np.diff(x * x, 2) ** 2)


def _sort(x):
    s = np.sort(x * x * x)
    return np.sum(s * np.arange(4.0))


def _max(x):
    return np.max(x * x) * np.sum(x) + np.min(np.sin(x))


def _stack(x):
    return np.sum(np.stack([x, x * x], axis=1) ** 3) + np.sum(np.sin(np.hstack([x, x ** 2])))


def _vstack(x):
    return np.sum(np.vstack([x, np.sin(x)]) ** 3) * x[0]


def _append(x):
    return np.sum(np.append(x * x, np.sin(x)) ** 3) + np.sum(np.append([x], [x * x], axis=0) ** 2)


def _linspace(x):
    return np.sum(np.linspace(x, x * x, 4) ** 3) + np.sum(np.linspace(x[0], x[1] ** 2, 3, endpoint=False) ** 3)


def _written(x):
    u = np.zeros(4)
    u[[1, 1, 3]] = x ** 2      # (a repeated index: only the last write is stored)
    return np.sum(u ** 3) + np.sum(np.sin(u) * u)


def _var(x):
    return np.var(x * x) * np.sum(x) + np.var(np.sin(x), ddof=1) + np.std(x * x * x)


SECOND = [("untile", _tile, np.array([0.3, -0.8, 1.1])),
          ("unrepeat", _repeat, np.array([0.3, -0.8, 1.1])),
          ("untake", _take, np.array([0.3, -0.8, 1.1])),
          ("unpad", _pad, np.array([0.3, -0.8, 1.1])),
          ("undiagonal/untrace/undiag", _diagonal, np.array([0.3, -0.8, 1.1])),
          ("undiag (build)", _diag_build, np.array([0.3, -0.8, 1.1])),
          ("unmoveaxis", _moveaxis, np.array([0.3, -0.8, 1.1, 0.4, -0.2, 0.9])),
          ("untril/untriu", _tri, np.array([0.3, -0.8, 1.1])),
          ("undiff", _diff, np.array([0.3, -0.8, 1.1, 0.5])),
          ("unsort", _sort, np.array([0.3, -0.8, 1.1, 0.5])),
          ("unreduce_minmax/minmax_jvp", _max, np.array([0.3, -0.8, 1.1, 0.5])),
          ("unstack/unhstack", _stack, np.array([0.3, -0.8, 1.1])),
          ("unvstack", _vstack, np.array([0.3, -0.8, 1.1])),
          ("unappend", _append, np.array([0.3, -0.8, 1.1])),
          ("linspace_vjp", _linspace, np.array([0.3, -0.8, 1.1])),
          ("written_part", _written, np.array([0.3, -0.8, 1.1])),
          ("unreduce_var/var_jvp (np.var, np.std)", _var, np.array([0.3, -0.8, 1.1, 0.5]))]


@pytest.mark.parametrize("name,fn,x", SECOND, ids=[c[0] for c in SECOND])
def test_second_derivative_of_the_op(name, fn, x):
    from adjointc import grad, hessian, jacrev
    g = grad(fn)
    n, h = np.size(x), 1e-6
    ref = np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(n)], axis=1)
    assert np.max(np.abs(ref)) > 1e-3
    H = hessian(fn)(x)
    np.testing.assert_allclose(H, ref, rtol=1e-6, atol=1e-6 * np.max(np.abs(ref)))
    np.testing.assert_allclose(jacrev(g)(x), ref, rtol=1e-6, atol=1e-6 * np.max(np.abs(ref)))
