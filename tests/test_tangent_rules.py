"""Forward mode, rule by rule (rules/tangents.py and the `defjvp` lines of the families).

* Every rule's tangent (JVP) against finite differences, on the cases tests/test_rules.py
  checks the VJPs on, and the tangent and the VJP of every case are transposes
  (<J u, v> == <u, J^T v>, both exact: a convention at a kink must agree).
* The math rules' tangents against SymPy at the points their VJPs are checked at.
* Operators beyond the case table: getitem's indexes, powers at x == 0 / y == 0,
  einsum with some operands constant; conventions at kinks, ties and zeros.
* Random shapes: broadcasting (with one input carrying a tangent, the tangent still
  has the result's shape), reduction axes, linalg batches.
* The derivation from VJP templates never gives a wrong tangent (it refuses).
* An integer dtype option has no derivative, in either mode.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adjointc import printer
from adjointc.rules import BUILTIN_RULE_OPS, REGISTRY, defjvp, defvjp, parse_template
from adjointc.rules.tangents import NoTangentRule, derive, has_tangent
from adjointc.rules.testing import check_jvp, check_transpose, eval_rule, eval_tangent, find_rule, primal

from test_rules import CASES, SYMPY, A, _x, _y, _z, away, case, S


@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES)
def test_jvp(fn, args, kwargs, wrt):
    with np.errstate(invalid="ignore"):
        check_jvp(fn, args, kwargs, wrt=wrt)


# Kinks, ties and zeros, where finite differences cannot judge a convention: the tangent
# must be the transpose of the VJP there too.
KINKS = [
    case(np.abs, np.array([0.0, -2.0, 3.0]), id="abs-at-0"), case(abs, 0.0, id="abs-builtin-at-0"),
    case(math.fabs, 0.0, id="math.fabs-at-0"), case(np.fabs, np.array([0.0, 1.0]), id="fabs-at-0"),
    case(np.maximum, np.array([1.0, 2.0]), np.array([1.0, 3.0]), id="maximum-tie"),
    case(np.minimum, 1.0, np.array([1.0, 0.5]), id="minimum-tie-broadcast"),
    case(np.fmax, np.array([1.0, np.nan]), np.array([1.0, 2.0]), id="fmax-tie-nan"),
    case(max, 0.5, 0.5, id="max-builtin-tie"), case(min, 0.5, 0.5, id="min-builtin-tie"),
    case(np.clip, np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), -0.5, 0.5, id="clip-boundaries"),
    case(np.max, np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), id="max-ties"),
    case(np.min, np.array([[1.0, 3.0, 1.0], [2.0, 2.0, 2.0]]), axis=1, id="min-ties-axis"),
    case(np.nanmax, np.array([np.nan, 2.0, 2.0]), id="nanmax-ties"),
    case(np.sort, np.array([1.0, 0.5, 1.0, 0.5]), id="sort-ties"),
    case(np.linalg.norm, np.zeros(3), id="norm-at-0"), case(np.linalg.norm, np.zeros(3), 1, id="norm-1-at-0"),
    case(np.linalg.norm, np.array([1.0, -3.0, 3.0]), np.inf, id="norm-inf-ties"),
    case(np.linalg.norm, np.zeros((2, 2)), "fro", id="norm-fro-at-0"),
    case(np.std, np.ones(3), id="std-at-0"), case(np.std, np.ones((2, 3)), axis=1, id="std-rows-at-0"),
    case(np.hypot, 0.0, 0.0, id="hypot-at-0"), case(math.hypot, 0.0, 0.0, id="math.hypot-at-0"),
    case(np.prod, np.array([2.0, 0.0, 3.0]), id="prod-zero"), case(np.prod, np.array([0.0, 2.0, 0.0]), id="prod-two-zeros"),
    case(np.cumprod, np.array([2.0, 0.0, 3.0, 0.0]), id="cumprod-zeros"),
    case(np.linalg.det, np.array([[1.0, 2.0], [2.0, 4.0]]), id="det-singular"),
    case(np.linalg.det, np.zeros((3, 3)), id="det-zero"),
    case(np.sqrt, np.array([1.0, 4.0]), id="sqrt"), case(np.sinc, np.array([0.0, 1e-6]), id="sinc-at-0"),
    case(np.interp, np.array([-1.0, 2.0, 0.5]), np.array([-1.0, 0.5, 2.0]), A(3), id="interp-at-knots"),
    case(np.interp, np.array([-2.0, 3.0]), np.array([-1.0, 2.0]), A(2), -0.5, 0.5, id="interp-left-right-outside"),
    case(np.interp, np.array([-2.0, 0.0, 3.0]), np.array([0.0]), A(1), id="interp-one-knot"),
    case(np.power, np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0]), id="power-edges"),
    case("pow", np.array([0.0, 1.5]), 2, id="pow-int-exponent-at-0"),
    case("pow", 0.0, np.array([1.0, 2.0]), id="pow-zero-base"),
    case(math.pow, 0.0, 2.0, id="math.pow-zero-base"), case(math.pow, 2.0, 0.0, id="math.pow-zero-exponent"),
    case("mod", np.array([3.5, -1.25]), 1.5, id="mod-negative"),
]


@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES + KINKS)
def test_tangent_and_vjp_are_transposes(fn, args, kwargs, wrt):
    with np.errstate(invalid="ignore", divide="ignore"):
        for seed in range(2):
            check_transpose(fn, args, kwargs, wrt=wrt, seed=seed)


# The conventions, as values (and they are what the VJP does: test_rules.py pins those).
def T(fn, args, tangents, kwargs=None):
    with np.errstate(invalid="ignore", divide="ignore"):
        return eval_tangent(fn, args, kwargs, tangents)


def test_abs_at_zero_is_zero():
    assert T(np.abs, (np.array([0.0, -2.0, 3.0]),), {0: np.ones(3)}).tolist() == [0.0, -1.0, 1.0]
    assert T(abs, (0.0,), {0: 1.0}) == 0.0 and T(math.fabs, (0.0,), {0: 1.0}) == 0.0


def test_maximum_minimum_split_ties():
    for f in (np.maximum, np.minimum, np.fmax, np.fmin, max, min):
        assert T(f, (1.0, 1.0), {0: 1.0}) == 0.5 and T(f, (1.0, 1.0), {1: 1.0}) == 0.5
        assert T(f, (1.0, 1.0), {0: 1.0, 1: 3.0}) == 2.0          # the mean of the two tangents


def test_extrema_take_the_mean_of_tied_tangents():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    d = np.array([[10.0, 1.0, 2.0], [3.0, 6.0, 9.0]])
    assert T(np.max, (a,), {0: d}) == 1.5
    assert T(np.max, (a,), {0: d}, {"axis": 1}).tolist() == [1.5, 6.0]
    assert T(np.nanmin, (np.array([np.nan, 2.0, 2.0]),), {0: np.array([5.0, 1.0, 2.0])}) == 1.5


def test_clip_passes_the_tangent_on_the_boundary():
    a = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert T(np.clip, (a, -0.5, 0.5), {0: np.ones(5)}).tolist() == [0, 1, 1, 1, 0]
    assert T(np.clip, (a, -0.5, 0.5), {1: 1.0}).tolist() == [1, 0, 0, 0, 0]
    assert T(np.clip, (a, -0.5, 0.5), {2: 1.0}).tolist() == [0, 0, 0, 0, 1]


def test_norms_at_zero_take_the_subgradient_zero():
    assert T(np.linalg.norm, (np.zeros(3),), {0: np.ones(3)}) == 0.0
    assert T(np.std, (np.ones(3),), {0: np.array([1.0, 2.0, 4.0])}) == 0.0
    assert T(np.hypot, (0.0, 0.0), {0: 1.0, 1: 1.0}) == 0.0
    assert T(math.sqrt, (0.0,), {0: 1.0}) == math.inf        # the true value, as the VJP's


def test_prod_and_cumprod_with_zeros_are_exact():
    a = np.array([2.0, 0.0, 3.0])
    assert T(np.prod, (a,), {0: np.array([1.0, 1.0, 1.0])}) == 6.0
    assert T(np.prod, (np.array([0.0, 2.0, 0.0]),), {0: np.ones(3)}) == 0.0
    # d(a0, a0 a1, a0 a1 a2) along e1 = (0, a0, a0 a2)
    assert T(np.cumprod, (a,), {0: np.array([0.0, 1.0, 0.0])}).tolist() == [0.0, 2.0, 6.0]


def test_det_of_a_singular_matrix_is_exact():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])     # d det = tr(adj(a) da), adj = [[4, -2], [-2, 1]]
    assert T(np.linalg.det, (a,), {0: np.array([[1.0, 0.0], [0.0, 0.0]])}) == pytest.approx(4.0)
    assert T(np.linalg.det, (np.zeros((3, 3)),), {0: np.eye(3)}) == pytest.approx(0.0)


@pytest.mark.parametrize("f", [np.power, "pow", math.pow], ids=["np.power", "operator", "math.pow"])
def test_power_at_zero(f):
    """As the VJP (test_rules.test_power_at_zero): d/dx at y == 0 is 0, also at x == 0;
    d/dy 0 ** y is 0 for y > 0; d/dx at x == 0 with 0 < y < 1 is inf."""
    for x, y, dx, dy in [(0.0, 0.0, 0.0, 0.0), (0.0, 2.0, 0.0, 0.0), (0.0, 1.0, 1.0, 0.0),
                         (0.0, 0.5, math.inf, 0.0), (2.0, 0.0, 0.0, math.log(2.0)),
                         (1.5, 2.5, 2.5 * 1.5 ** 1.5, 1.5 ** 2.5 * math.log(1.5))]:
        assert T(f, (x, y), {0: 1.0}) == pytest.approx(dx) and T(f, (x, y), {1: 1.0}) == pytest.approx(dy)
    assert T(f, (0.0, 2), {0: 1.0}) == 0.0                       # a constant exponent
    assert T(f, (-1.5, 2), {0: 1.0}) == -3.0                      # exact without a logarithm


# ------------------------------------------------------------------ random shapes
@settings(max_examples=30, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       fn=st.sampled_from([np.multiply, np.divide, np.power, np.hypot, np.arctan2, np.maximum, np.fmin,
                           "truediv", "pow", "mul", np.logaddexp]),
       seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_tangents(shapes, fn, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.uniform(0.5, 1.5, s) for s in shapes.input_shapes)
    check_jvp(fn, (x, y), seed=seed)
    check_transpose(fn, (x, y), seed=seed)


DERIVED_BINARY = [np.divide, np.power, np.arctan2, np.hypot, np.logaddexp, np.logaddexp2, np.maximum,
                  np.minimum, np.fmax, np.fmin, np.mod, np.fmod, "truediv", "pow", "mod", max, min]


@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       fn=st.sampled_from(DERIVED_BINARY + [np.where, np.clip]), which=st.integers(0, 2),
       seed=st.integers(0, 2 ** 16))
def test_one_input_carrying_a_tangent_gives_the_results_shape(shapes, fn, which, seed):
    """A derived tangent of an elementwise call where only one input carries a tangent
    still has the result's shape (which the other inputs broadcast it to)."""
    rng = np.random.default_rng(seed)
    if fn in (max, min):
        shapes = type(shapes)(input_shapes=((), (), ()), result_shape=())
    sx, sy, sz = shapes.input_shapes
    if fn is np.where:
        args, params = (rng.uniform(-1, 1, sx) > 0, rng.uniform(0.5, 1.5, sy), rng.uniform(0.5, 1.5, sz)), ("x", "y")
    elif fn is np.clip:   # bounds away from a: no kinks
        a = rng.uniform(-1, 1, sx)
        args, params = (a, rng.uniform(-3, -2, sy), rng.uniform(2, 3, sz)), ("a", "a_min", "a_max")
    else:
        x, y = rng.uniform(0.5, 1.5, sx), rng.uniform(0.5, 1.5, sy)
        if fn in (np.mod, np.fmod, "mod"):   # x / y inside (k, k + 1): away from the jumps
            y = np.full(sy, 1.7)
            x = 1.7 * (rng.integers(-2, 3, sx) + rng.uniform(0.2, 0.8, sx))
        args, params = (x, y), ("x", "y")
        if fn in (max, min, np.arctan2):
            args = tuple(float(v) for v in args) if fn in (max, min) else args
            params = ("y", "x") if fn is np.arctan2 else params
    wrt = (params[which % len(params)],)
    tan = check_jvp(fn, args, wrt=wrt, seed=seed)
    assert np.shape(tan) == np.shape(primal(fn)(*args))


def test_the_result_shape_is_restored_only_where_a_term_may_lack_it():
    """`rebroadcast(t, ans)` only where a constant input is missing from the tangent."""
    from adjointc.ir import Call, Name
    def printed(fn, args, carrying):
        rule = find_rule(fn)
        call = Call(rule.op, tuple(Name(a) for a in args))
        bound = rule.bind(call.args, ())
        e = rule.tangent(call, bound, lambda a: Name(a.id + "_dot") if a.id in carrying else None, Name("ans"))
        return printer.expr(e)
    assert printed(np.sin, ("x",), {"x"}) == "x_dot * np.cos(x)"
    assert printed(np.divide, ("x", "c"), {"x"}) == "x_dot / c"
    assert printed(np.maximum, ("x", "c"), {"x"}) == "x_dot * ((x > c) + 0.5 * (x == c))"
    assert printed(np.mod, ("x", "y"), {"x", "y"}) == "x_dot + -y_dot * np.floor_divide(x, y)"
    assert printed(np.mod, ("x", "c"), {"x"}) == "rebroadcast(x_dot, ans)"
    assert printed(np.where, ("c", "x", "y"), {"x"}) == "rebroadcast(np.where(c, x_dot, 0.0), ans)"
    assert printed(np.where, ("c", "x", "y"), {"x", "y"}) == "np.where(c, x_dot, 0.0) + np.where(c, 0.0, y_dot)"
    assert printed(np.clip, ("a", "lo", "hi"), {"lo"}) == "rebroadcast(lo_dot * (a < lo), ans)"


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(),
       fn=st.sampled_from([np.max, np.nanmin, np.prod, np.var, np.std, np.nanmean, np.cumprod, np.sort,
                           np.linalg.norm]),
       keepdims=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_reduction_tangents_over_random_axes(shape, data, fn, keepdims, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    kwargs = {"axis": axis} if fn in (np.cumprod, np.sort) else {"axis": axis, "keepdims": keepdims}
    if fn is np.linalg.norm and axis is None and len(shape) > 2:
        kwargs = {"keepdims": keepdims}
    check_jvp(fn, (x,), kwargs, seed=seed)
    check_transpose(fn, (x,), kwargs, seed=seed)


@settings(max_examples=20, deadline=None)
@given(batch=st.sampled_from([(), (2,), (2, 1)]), n=st.integers(1, 4), seed=st.integers(0, 2 ** 16),
       fn=st.sampled_from([np.linalg.inv, np.linalg.det, np.linalg.slogdet, np.linalg.solve, np.linalg.eigh,
                           np.linalg.eigvalsh, np.linalg.cholesky]))
@example(batch=(2,), n=3, seed=966, fn=np.linalg.eigh)   # (LAPACK flips an eigenvector's sign at h = 1e-4)
def test_linalg_tangents_over_random_batches(batch, n, seed, fn):
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, batch + (n, n))
    a = m @ np.swapaxes(m, -1, -2) + n * np.eye(n)                   # symmetric positive definite
    if fn in (np.linalg.eigh, np.linalg.eigvalsh):                   # well separated eigenvalues
        q, _ = np.linalg.qr(m)
        a = q @ (np.arange(1.0, n + 1) * 1.5 * np.eye(n)) @ np.swapaxes(q, -1, -2)
    args = (a, rng.uniform(-1, 1, batch + (n, 2))) if fn is np.linalg.solve else (a,)
    check_jvp(fn, args, seed=seed, rtol=1e-5)
    check_transpose(fn, args, seed=seed)


# ------------------------------------------------------------------ math vs SymPy
MATH_POINTS = [pytest.param(f, b, p, id=f"{f.__name__}{p}") for f, entries in SYMPY.items() for b, p in entries]


@pytest.mark.parametrize("fn, builder, point", MATH_POINTS)
def test_math_tangent_against_sympy(fn, builder, point):
    """Each argument's tangent alone, then all together: sum_i t_i * d f / d x_i."""
    syms = (_x, _y, _z)[:len(point)]
    expr = builder(*syms)
    subs = dict(zip(syms, point))
    ts = (0.7, -1.3, 0.4)[:len(point)]
    partial = [float(S.diff(expr, s).subs(subs).evalf()) for s in syms]
    cases = [{i: ts[i]} for i in range(len(point))] + [dict(enumerate(ts))]
    for tangents in cases:
        want = sum(ts[i] * partial[i] for i in tangents)
        got = eval_tangent(fn, point, {}, tangents)
        got = 0.0 if got is None else got       # an argument without a derivative (copysign's y)
        assert math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-12), (tangents, got, want)


# ------------------------------------------------------------------ getitem, einsum
X = A(4, 5)
INDEXES = [2, -1, slice(1, 3), slice(None, None, -2), (1, 2), (slice(None), 3), (Ellipsis, 1),
           np.array([0, 2, 2]), (np.array([0, 3]), np.array([4, 1])), X[:, 0] > 0, X > 0, (None, 1)]


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_getitem_tangent(index):
    """x[i]'s tangent is x_dot[i]; its transpose is the reverse pass's scatter-add."""
    check_jvp("getitem", (X, index))
    u, v = A(4, 5), A(*np.shape(X[index]))
    scatter = np.zeros_like(X)
    np.add.at(scatter, index, v)
    assert np.sum(eval_tangent("getitem", (X, index), {}, {0: u}) * v) == pytest.approx(np.sum(u * scatter))


def test_getitem_of_a_list_and_a_tuple():
    xs = [A(3), A(3)]
    assert eval_tangent("getitem", (xs, 1), {}, {0: [np.ones(3), 2 * np.ones(3)]}).tolist() == [2.0] * 3
    check_jvp("tuple", (A(2), 0.5))


@pytest.mark.parametrize("args, which", [
    (("ij,jk->ik", A(2, 3), A(3, 4)), 2), (("...ij,...jk", A(5, 2, 3), A(3, 4)), 1),
    (("i...,i...->...", A(3, 2), A(3, 2)), 2), ((A(2, 3), [0, 1], A(3, 4), [1, 2], [0, 2]), 2),
    ((A(5, 2, 3), [Ellipsis, 0, 1], A(3, 4), [1, 2], [Ellipsis, 0, 2]), 0),
    ((A(2, 3), [0, 1], A(3), [1], A(2), [0], []), 4), (("ii->i", A(3, 3)), 1)],
    ids=["explicit", "ellipsis-implicit", "ellipsis-leading", "sublists", "sublists-ellipsis",
         "sublists-three", "diagonal"])
def test_einsum_tangent_of_one_operand(args, which):
    """The other operands constant: the tangent is the einsum with that operand's tangent."""
    d = A(*np.shape(args[which]))
    want = np.einsum(*args[:which], d, *args[which + 1:])
    assert np.allclose(eval_tangent(np.einsum, args, {}, {which: d}), want)


# ------------------------------------------------------------------ the derivation
def test_the_derivation_transposes_elementwise_templates_only():
    d = lambda s: None if derive(parse_template(s)) is None else printer.expr(derive(parse_template(s)))
    assert d("unbroadcast(g * np.cos(x), x)") == "d * np.cos(x)"
    assert d("-g / np.sqrt(1 - x * x)") == "-d / np.sqrt(1 - x * x)"
    assert d("unbroadcast(np.where(condition, g, 0.0), x)") == "np.where(condition, d, 0.0)"
    assert d("fdiv(-g * y, x * x + y * y)") == "fdiv(-d * y, x * x + y * y)"
    assert d("unreduce(g, a, axis, keepdims)") is None          # a reduction
    assert d("matmul_lhs(g, x, y)") is None                      # not elementwise
    assert d("g * x + g * y") is None                            # g twice
    assert d("np.where(c, g, 1.0)") is None                      # not linear in g
    assert d("g + x") is None and d("x / g") is None and d("g ** 2") is None
    assert d("unbroadcast(g, x) * np.sum(y)") is None            # unbroadcast inside: it sums
    assert d("unbroadcast(x, g)") is None                        # g not the broadcast value
    assert d("np.sum(x, axis=g)") is None and d("x * np.sum(y, axis=g)") is None   # g in a keyword
    assert d("g * d") is None                                    # `d` is the tangent's name


def _without_jvp(monkeypatch, fn):
    rule = find_rule(fn)
    monkeypatch.setattr(rule, "jvp", None)
    return rule


def test_a_scalar_result_of_arrays_is_not_derived(monkeypatch):
    """np.vdot's VJP is `g * np.reshape(b, np.shape(a))`, elementwise-looking with a "float"
    result: derived, its tangent would be the array d * b instead of sum(d * b)."""
    rule = _without_jvp(monkeypatch, np.vdot)
    assert rule.result == "float" and not has_tangent(rule)
    with pytest.raises(NoTangentRule):
        eval_tangent(np.vdot, (A(3), A(3)), {}, {0: A(3)})


@pytest.mark.parametrize("fn, args", [(np.linalg.inv, (A(3, 3) + 3 * np.eye(3),)),
                                      (np.linalg.cholesky, (np.eye(3) * 2,)), (np.copy, (A(3),))])
def test_a_same_shaped_result_is_not_derived(monkeypatch, fn, args):
    """result="same" says the shape, not that the function is elementwise."""
    rule = _without_jvp(monkeypatch, fn)
    assert rule.result == "same" and not has_tangent(rule)
    with pytest.raises(NoTangentRule):
        eval_tangent(fn, args, {}, {0: A(*np.shape(args[0]))})


def test_every_derived_tangent_is_of_an_elementwise_rule():
    """The rules whose tangents are derived: the elementwise ufuncs and operators, the math
    functions, and where/clip/abs; each checked against finite differences above."""
    derived = sorted({r.op for r in REGISTRY.values() if r.op in BUILTIN_RULE_OPS and not r.nondiff
                      and r.refused is None and r.jvp is None})
    for op in derived:
        r = REGISTRY[op]
        assert r.result == "elementwise" or op.startswith("math.") or op in (
            "np.where", "np.clip", "np.absolute", "np.fabs", "abs"), op


def test_a_wrong_tangent_fails_the_checks():
    rule = find_rule(np.sin)
    saved = rule.jvp
    try:
        rule.jvp = {"x": "d * np.sin(x)"}
        with pytest.raises(AssertionError):
            check_jvp(np.sin, (np.linspace(-1, 1, 5),))
        with pytest.raises(AssertionError):
            check_transpose(np.sin, (np.linspace(-1, 1, 5),))
    finally:
        rule.jvp = saved


def test_a_wrong_convention_at_a_kink_fails_the_transpose_check(monkeypatch):
    """Finite differences cannot see abs'(0); the transpose check can."""
    monkeypatch.setattr(find_rule(np.abs), "jvp", {"x": "d * np.where(x == 0, 1.0, np.sign(x))"})
    check_jvp(np.abs, (away(A(4)),))
    with pytest.raises(AssertionError):
        check_transpose(np.abs, (np.array([0.0, 1.0, -2.0]),))


def test_a_users_rule_needs_defjvp():
    def softplus(x):
        return np.log1p(np.exp(x))
    defvjp(softplus, "x", x="g / (1 + np.exp(-x))")
    x = np.linspace(-2, 2, 4)
    with pytest.raises(NoTangentRule):
        check_jvp(softplus, (x,))
    defjvp(softplus, x="d / (1 + np.exp(-x))")
    check_jvp(softplus, (x,))
    check_transpose(softplus, (x,))


def test_defjvp_refuses_a_parameter_named_d():
    def scaled(x, d):
        return x * d
    defvjp(scaled, "x, d", x="g * d")
    with pytest.raises(ValueError, match="'d'"):
        defjvp(scaled, x="d * d")


def test_every_builtin_rule_has_forward_mode():
    missing = {r.op for r in REGISTRY.values() if r.op in BUILTIN_RULE_OPS and r.refused is None
               and not has_tangent(r)}
    assert missing == set()


# ------------------------------------------------------------------ integer results
def _sum_as_int(x):
    return np.sum(np.array(x * 3.7, dtype="int64") * 1.0) + np.sum(x * 3.7, dtype="int32") * 1.0


@pytest.mark.parametrize("fn, args, kwargs", [
    (np.sum, (A(3),), {"dtype": "int64"}), (np.cumsum, (A(3),), {"dtype": "int32"}),
    (np.mean, (A(3),), {"dtype": "bool"}), (np.array, (A(3),), {"dtype": "int64"}),
    (np.asarray, (A(3),), {"dtype": "uint8"}), (np.full, ((2,), 1.7), {"dtype": "int64"}),
    (np.linspace, (0.5, 7.5, 4), {"dtype": "int64"}), (np.trace, (A(2, 2),), {"dtype": "int64"})],
    ids=lambda v: getattr(v, "__name__", None))
def test_an_integer_dtype_has_no_derivative(fn, args, kwargs):
    """The result is piecewise constant: no adjoint and no tangent (once both were the
    float derivative, truncated to int forward)."""
    assert eval_rule(fn, args, kwargs, 1.0) == {}
    assert eval_tangent(fn, args, kwargs, {i: np.ones(np.shape(a)) for i, a in enumerate(args)
                                           if isinstance(a, (float, np.ndarray))}) is None
    assert eval_rule(fn, args, {**kwargs, "dtype": "float32"}, np.ones(np.shape(fn(*args, **kwargs)))) != {}


def test_an_integer_dtype_has_no_derivative_end_to_end():
    from adjointc import grad
    assert grad(_sum_as_int)(np.array([1.0, 2.0])).tolist() == [0.0, 0.0]
