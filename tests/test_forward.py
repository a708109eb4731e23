"""Forward mode end to end (adjointc/forward.py, passes/tangent.py): `jvp` against
directional central finite differences and against reverse mode (<grad f, v> is the
directional derivative too), `jacfwd` against finite-difference Jacobians and `grad`,
the generated tangent's form, its errors, and the whole corpus through `jvp`."""
from __future__ import annotations

import copy
import importlib
import inspect
import math
import os
from dataclasses import dataclass

import numpy as np
import pytest

import adjointc
from adjointc import NoAdjointRule, TypeMismatch, grad, jacfwd, jvp, tangent
from adjointc import types as T
from adjointc.rules import BUILTIN_RULE_OPS, REGISTRY
from corpus import A, copy_value, wrt_names
from golden import programs as G

RNG = np.random.default_rng(20261201)


# ---------------------------------------------------------------- references
def direction(x, rng=RNG):
    """A random tangent with x's structure (None for what carries none: ints, flags)."""
    if isinstance(x, np.ndarray):
        return rng.normal(size=x.shape).astype(x.dtype) if x.dtype.kind == "f" else None
    if isinstance(x, (bool, int, np.integer)) or x is None:
        return None
    if isinstance(x, float):
        return float(rng.normal())
    if isinstance(x, (tuple, list)):
        items = [direction(v, rng) for v in x]
        items = [v if d is None else d for d, v in zip(items, x)]
        return type(x)._make(items) if hasattr(type(x), "_make") else type(x)(items)
    if isinstance(x, dict):
        return {k: (v if direction(v, rng) is None else direction(v, rng)) for k, v in x.items()}
    fields = T.struct_fields(x)
    if fields is not None:
        out = copy.copy(x)
        for k, v in fields.items():
            d = direction(v, rng)
            object.__setattr__(out, k, v if d is None else d)
        return out
    return None


def axpy(x, h, v):
    """x + h v, structure by structure (what carries no tangent stays)."""
    if isinstance(x, np.ndarray):
        return x + h * v if x.dtype.kind == "f" else x
    if isinstance(x, (bool, int, np.integer)) or x is None:
        return x
    if isinstance(x, float):
        return x + h * v
    if isinstance(x, (tuple, list)):
        items = [axpy(a, h, b) for a, b in zip(x, v)]
        return type(x)._make(items) if hasattr(type(x), "_make") else type(x)(items)
    if isinstance(x, dict):
        return {k: axpy(x[k], h, v[k]) for k in x}
    out = copy.copy(x)
    for k, a in T.struct_fields(x).items():
        object.__setattr__(out, k, axpy(a, h, getattr(v, k)))
    return out


def inner(g, v) -> float:
    """<g, v> over matching structures (a gradient and a tangent of one input)."""
    if v is None or isinstance(v, (bool, int, np.integer)):
        return 0.0
    if isinstance(v, (np.ndarray, float, np.floating)):
        return float(np.sum(np.asarray(g, dtype=float) * v))
    if isinstance(v, (tuple, list)):
        return sum(inner(a, b) for a, b in zip(g, v))
    if isinstance(v, dict):
        return sum(inner(g[k], v[k]) for k in v)
    fields = T.struct_fields(v)
    return sum(inner(getattr(g, k) if not isinstance(g, dict) else g[k], b) for k, b in fields.items()
               if T.of_value(b).differentiable)


def flat(v) -> np.ndarray:
    if isinstance(v, (tuple, list)):
        return np.concatenate([flat(a) for a in v]) if len(v) else np.zeros(0)
    # (the real part: a real function's finite difference may step off its domain,
    # (-h) ** 2.0000001, into complex values whose real part still converges)
    return np.ravel(np.real(np.asarray(v)).astype(float))


def bind(fn, a: A):
    """Bound arguments (defaults applied) over deep copies (corpus.bind makes a
    NamedTuple a tuple)."""
    b = inspect.signature(fn).bind(*copy.deepcopy(a.args), **copy.deepcopy(a.kwargs))
    b.apply_defaults()
    return b


def fd_directional(fn, a: A, names, dirs, h: float = 1e-6) -> np.ndarray:
    """(f(x + h v) - f(x - h v)) / 2h, on copies of the arguments."""
    def at(s):
        b = bind(fn, a)
        for n, d in zip(names, dirs):
            b.arguments[n] = axpy(b.arguments[n], s, d)
        return flat(fn(*b.args, **b.kwargs))
    return (at(h) - at(-h)) / (2 * h)


def rel_err(got, ref) -> float:
    got, ref = flat(got), flat(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    return float(np.max(np.abs(got - ref))) / max(1.0, float(np.max(np.abs(ref)))) if ref.size else 0.0


def check_jvp(fn, wrt, a: A, rtol: float = 1e-6, reverse: bool = True, gtol: float = 1e-9):
    """jvp of fn at `a` along a random direction against finite differences and, for a
    scalar output, against <grad f, v>; the value against f; the inputs unchanged."""
    names, single = wrt_names(fn, wrt)
    point = bind(fn, a).arguments
    dirs = [direction(point[n]) for n in names]
    snapshot = copy_value(a.args)
    value, t = tangent(fn, wrt=wrt)(*copy.deepcopy(a.args), tangents=dirs[0] if single else tuple(dirs), **a.kwargs)
    assert all(np.array_equal(x, y) if isinstance(x, np.ndarray) else True for x, y in zip(a.args, snapshot))
    ref_value = fn(*copy_value(a.args), **a.kwargs)
    assert rel_err(value, ref_value) < 1e-12
    _assert_like(t, ref_value)
    err = rel_err(t, fd_directional(fn, a, names, dirs))
    assert err < rtol, f"{fn.__name__}{a}: jvp relative error {err:.2e} vs finite differences"
    if reverse and not isinstance(ref_value, (tuple, list)) and np.ndim(ref_value) == 0:
        g = grad(fn, wrt=wrt)(*a.args, **a.kwargs)
        g = (g,) if single else g
        along = sum(inner(gi, d) for gi, d in zip(g, dirs))
        assert abs(float(t) - along) <= gtol * max(1.0, abs(along)), (float(t), along)
    return value, t


def _assert_like(t, value):
    """The output tangent has the output's structure, shape and dtype (a float for a float)."""
    if isinstance(value, np.ndarray):
        assert isinstance(t, np.ndarray) and t.shape == value.shape and t.dtype == value.dtype
    elif isinstance(value, float):
        assert isinstance(t, float)
    elif isinstance(value, (tuple, list)):
        assert type(t) is type(value) and len(t) == len(value)
        for a, b in zip(t, value):
            _assert_like(a, b)


# ------------------------------------------------------------ the programs
def _n(*shape):
    return RNG.normal(size=shape)


@pytest.mark.parametrize("name, fn, wrt, inputs", [
    ("rosenbrock", G.rosenbrock, 0, [A(_n(4)), A(_n(7)), A(np.array([-1.2, 1.0]))]),
    ("oscillator", G.oscillator_energy, (0, 1), [A(G.Oscillator(1.3, 0.2, _n(3)), _n(3)),
                                                  A(G.Oscillator(0.7, 0.5, _n(2), steps=8), _n(2))]),
    ("heat in place", G.heat_inplace, (0, 1), [A(_n(8), 0.2), A(_n(5), 0.1, steps=7)]),
    ("heat rebinding", G.heat_rebind, (0, 1), [A(_n(8), 0.2), A(_n(5), 0.1, steps=7)]),
    ("mlp loss", G.mlp_loss, (0, 1, 2), [A(_n(3, 4), _n(4), _n(4), _n(5, 3), _n(5)),
                                         A(_n(2, 3), _n(3), _n(3), _n(4, 2), _n(4))]),
    ("lorenz rk4", G.lorenz_rk4, (0, 1, 2, 3), [A(np.array([1.0, 1.5, 2.0]), 10.0, 28.0, 8.0 / 3.0),
                                               A(_n(3), 9.0, 20.0, 2.0, steps=6)]),
    ("while with data-dependent trips", G.fall, (0, 1), [A(1.3, 9.81), A(2.7, 3.1), A(0.4, 12.0)]),
    ("branches and break", G.capped_series, (0, 1), [A(0.7, 1.3), A(-1.1, 0.4), A(1.4, 0.9)]),
    ("in-place helper", G.smoothed_with_bc, (0, 1, 2), [A(_n(6), 0.3, -0.2), A(_n(4), 1.0, 2.0, passes=5)]),
    ("callee with a loop", G.two_decays, (0, 1), [A(0.8, 0.6), A(0.3, 1.1)]),
])
def test_jvp_matches_finite_differences_and_reverse_mode(name, fn, wrt, inputs):
    for a in inputs:
        check_jvp(fn, wrt, a)


def lists_and_append(x, c):
    out = []
    acc = 0.0
    for i in range(x.shape[0]):
        acc = acc + c * x[i] * x[i]
        out.append(acc)
    return out[-1] * out[0] + sum(out)


def tuples(x, c):
    pair = (np.sin(x), c * x)
    a, b = pair
    t = (a, 2.0)
    return np.sum(t[0] * b) + t[1] * c


Params = __import__("collections").namedtuple("Params", "a b n")


def named_parameters(p, x):
    """A NamedTuple of parameters, read by position (its tangent is a Params too)."""
    y = x
    for _ in range(p[2]):
        y = np.tanh(p[0] * y + p[1])
    return np.sum(y * y)


def early_return(x, c):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            return s * c
        s = s + np.exp(x[i] * c)
    return s


def bump_in_place(u, c):
    """Not inlined (a loop): modifies its argument in place and returns a value."""
    total = 0.0
    for i in range(u.shape[0]):
        u[i] = u[i] * c + 0.1 * u[i] * u[i]
        total = total + u[i]
    return total


def calls_a_mutating_callee(x, c):
    u = x * 1.0
    t = bump_in_place(u, c)
    return t * np.sum(u * u)


def modifies_its_parameter(u, c):
    for i in range(1, u.shape[0]):
        u[i] = u[i] + c * u[i - 1]
    return np.sum(u ** 3)


def lorenz_rhs(s, sigma, rho, beta):
    return np.array([sigma * (s[1] - s[0]), s[0] * (rho - s[2]) - s[1], s[0] * s[1] - beta * s[2]])


def rk4_state(s0, sigma, dt=0.01, steps=20):
    """Returns the final state (a vector output: forward mode's case)."""
    s = s0.copy()
    for _ in range(steps):
        k1 = lorenz_rhs(s, sigma, 28.0, 8.0 / 3.0)
        k2 = lorenz_rhs(s + 0.5 * dt * k1, sigma, 28.0, 8.0 / 3.0)
        k3 = lorenz_rhs(s + 0.5 * dt * k2, sigma, 28.0, 8.0 / 3.0)
        k4 = lorenz_rhs(s + dt * k3, sigma, 28.0, 8.0 / 3.0)
        s = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return s


def stencil_field(u0, kappa, steps=5):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u


def two_outputs(x, c):
    return (np.sum(x * c), np.cos(x) * c)


@dataclass
class Model:
    w: np.ndarray
    scale: float
    layers: int = 2


def dataclass_parameter(m, x):
    h = x
    for _ in range(m.layers):
        h = np.tanh(m.w * h) * m.scale
    return np.sum(h)


@pytest.mark.parametrize("fn, wrt, inputs", [
    (lists_and_append, (0, 1), [A(_n(4), 0.7), A(_n(2), -1.2)]),
    (tuples, (0, 1), [A(_n(3), 0.4), A(_n(5), 1.7)]),
    (named_parameters, (0, 1), [A(Params(0.7, _n(3), 3), _n(3)), A(Params(-0.4, _n(2), 1), _n(2))]),
    (dataclass_parameter, (0, 1), [A(Model(_n(3), 0.8), _n(3)), A(Model(_n(2), 1.3, 4), _n(2))]),
    (early_return, (0, 1), [A(np.array([0.1, 0.5, 1.5, 0.2]), 0.8), A(np.array([0.1, 0.5]), 0.3)]),
    (calls_a_mutating_callee, (0, 1), [A(_n(4), 0.9), A(_n(3), 1.4)]),
    (modifies_its_parameter, (0, 1), [A(_n(4), 0.5), A(_n(6), -0.3)]),
    (rk4_state, (0, 1), [A(np.array([1.0, 1.5, 2.0]), 10.0), A(_n(3), 7.0, steps=5)]),
    (stencil_field, (0, 1), [A(_n(7), 0.2), A(_n(4), 0.4, steps=2)]),
    (two_outputs, (0, 1), [A(_n(3), 0.5)]),
])
def test_jvp_of_containers_objects_callees_and_vector_outputs(fn, wrt, inputs):
    for a in inputs:
        check_jvp(fn, wrt, a)


def test_jvp_convention_none_for_what_is_not_differentiated():
    x, dx = _n(5), _n(5)
    value, t = jvp(G.heat_inplace, (x, 0.2, 3), (dx, None, None))
    ref = fd_directional(G.heat_inplace, A(x, 0.2, 3), ("u0",), (dx,))
    assert value == G.heat_inplace(x, 0.2, 3) and isinstance(t, float)
    assert rel_err(t, ref) < 1e-6
    value, t = jvp(G.heat_inplace, (x, 0.2, 3), (None, 1.0, None))
    assert rel_err(t, fd_directional(G.heat_inplace, A(x, 0.2, 3), ("kappa",), (1.0,))) < 1e-6
    value, t = jvp(G.heat_inplace, (x, 0.2, 3), (None, None, None))
    assert t == 0.0 and isinstance(t, float)


def test_jvp_is_memoised_and_the_caller_arrays_are_untouched():
    u, du = _n(5), _n(5)
    keep = (u.copy(), du.copy())
    jvp(modifies_its_parameter, (u, 0.5), (du, 0.1))
    before = adjointc.api.stats()["transforms"]
    for _ in range(3):
        jvp(modifies_its_parameter, (u, 0.5), (du, 0.1))
    assert adjointc.api.stats()["transforms"] == before
    assert np.array_equal(u, keep[0]) and np.array_equal(du, keep[1])


# ------------------------------------------------------------------ jacfwd
def fd_jacobian(fn, args, pos, h=1e-6):
    x = args[pos]
    cols = []
    for j in range(np.size(x)):
        e = np.zeros(np.size(x))
        e[j] = 1.0
        e = e.reshape(np.shape(x)) if isinstance(x, np.ndarray) else 1.0
        a = list(copy_value(args))
        a[pos] = x + h * e
        fp = np.asarray(fn(*a))
        a[pos] = x - h * e
        fm = np.asarray(fn(*a))
        cols.append((fp - fm) / (2 * h))
    out = np.stack(cols, axis=-1)
    return out.reshape(np.shape(cols[0]) + np.shape(x))


def test_jacfwd_matches_finite_differences_with_the_shape_out_plus_in():
    s0 = np.array([1.0, 1.5, 2.0])
    J = jacfwd(rk4_state)(s0, 10.0)
    assert J.shape == (3, 3)
    assert rel_err(J, fd_jacobian(rk4_state, (s0, 10.0), 0)) < 1e-6
    Js, Jsigma = jacfwd(rk4_state, wrt=(0, 1))(s0, 10.0)
    assert np.array_equal(Js, J) and Jsigma.shape == (3,)
    assert rel_err(Jsigma, fd_jacobian(rk4_state, (s0, 10.0), 1)) < 1e-6
    u0 = _n(3, 4)
    J = jacfwd(lambda u, k: stencil_field(u.ravel(), k).reshape(3, 4))(u0, 0.2)
    assert J.shape == (3, 4, 3, 4)
    assert rel_err(J, fd_jacobian(lambda u, k: stencil_field(u.ravel(), k).reshape(3, 4), (u0, 0.2), 0)) < 1e-6


@pytest.mark.parametrize("fn, args", [(G.rosenbrock, (_n(5),)), (G.heat_rebind, (_n(6), 0.3)),
                                      (G.mlp_loss, (_n(3, 2), _n(2), _n(2), _n(4, 3), _n(4)))])
def test_jacfwd_of_a_scalar_function_is_its_gradient(fn, args):
    J = jacfwd(fn)(*args)
    g = grad(fn)(*args)
    assert J.shape == np.shape(args[0])
    assert np.allclose(J, g, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ source
def test_the_tangent_source_is_readable():
    fwd = tangent(G.heat_inplace, wrt=(0, 1))
    value, t = fwd(_n(5), 0.2, tangents=(_n(5), 1.0))
    src = fwd.source
    assert "def heat_inplace_jvp(u0, kappa, steps, u0_dot, kappa_dot):" in src
    assert '"""Tangent (JVP) of heat_inplace (' in src and "with respect to u0, kappa. Generated by adjointc." in src
    assert "# line " in src and "_tape" not in src and "_bar" not in src
    assert "return (result, result_dot)" in src
    assert fwd.primal is G.heat_inplace and fwd.source_for(_n(5), 0.2) == src


@pytest.mark.parametrize("case", [c for c in G.CASES if c.name in G.TANGENT_CASES], ids=lambda c: c.name)
def test_the_golden_tangent_snapshots_compute_the_jvp(case):
    check_jvp(case.fn, case.wrt, A(*case.args, **case.kwargs))


def test_the_tangent_pipeline_can_be_stopped_after_a_pass():
    from adjointc import passes, printer
    assert [p.name for p in passes.TANGENT_PIPELINE][-2:] == ["tangent", "tangent-dce"]
    prog = tangent(G.rosenbrock).program_after("tangent", _n(4))
    text = printer.block(prog.ir.body)
    assert "a_dot = " in text and "s_dot = 0.0" in text


def test_tangent_and_gradient_of_one_function_are_cached_apart():
    x = _n(4)
    grad(G.rosenbrock)(x)
    src = tangent(G.rosenbrock).source_for(x)
    assert "rosenbrock_jvp" in src and "rosenbrock_grad" in grad(G.rosenbrock).source_for(x)


# ------------------------------------------------------------------ errors
def uses_prod(x):
    return np.prod(np.sin(x))


def test_a_missing_tangent_rule_is_a_located_error(monkeypatch):
    from adjointc.rules import lookup_object
    monkeypatch.setattr(lookup_object(np.prod), "jvp", None)   # (as if np.prod had none)
    with pytest.raises(NoAdjointRule) as info:
        jvp(uses_prod, (_n(3),), (_n(3),))
    msg = str(info.value)
    assert "test_forward.py:" in msg and "forward mode" in msg and "defjvp" in msg
    assert "np.prod(np.sin(x))" in msg


def test_a_users_rule_without_defjvp_is_refused_with_a_hint():
    with pytest.raises(NoAdjointRule) as info:
        jvp(G.logistic_loss, (_n(3), _n(4, 3), np.sign(_n(4))), (_n(3), None, None))
    assert "programs.py:" in str(info.value) and "defjvp" in str(info.value)


@pytest.mark.parametrize("primals, tangents, what", [
    ((np.ones(3), 0.2), (np.ones(4), None), "shape"),
    ((np.ones(3), 0.2), (np.ones(3, dtype=np.float32), None), "dtype"),
    ((np.ones(3), 0.2), (np.ones(3), "a"), "float"),
    ((np.ones(3), 0.2, 3), (np.ones(3), None, 1.0), "int"),
])
def test_a_tangent_unlike_its_primal_is_refused(primals, tangents, what):
    with pytest.raises(TypeMismatch) as info:
        jvp(G.heat_inplace, primals, tangents)
    assert what in str(info.value)


def test_jvp_argument_errors():
    with pytest.raises(adjointc.InvalidArgument):
        jvp(G.rosenbrock, (np.ones(3),), ())
    with pytest.raises(adjointc.InvalidArgument):
        jvp(G.rosenbrock, np.ones(3), np.ones(3))


def complex_intermediate(x):
    z = x * 1j
    return np.real(z * z)


def test_complex_intermediates_as_in_reverse_mode():
    """real((1j x)**2) = -x**2 (rules/complex.py; tests/test_complex_fft.py has the rest)."""
    value, tangent = jvp(complex_intermediate, (1.5,), (1.0,))
    assert value == pytest.approx(-2.25) and tangent == pytest.approx(-3.0, rel=1e-14)


# --------------------------------------------------------- the whole corpus
MODULES = ("straight_line", "numpy_ops", "numpy_more", "loops", "branches", "inplace", "edge_cases",
           "entry_points", "fuzz_found", "calls", "function_values", "everyday", "spectral")
CORPUS = [c for m in MODULES for c in importlib.import_module(f"corpus.{m}").CASES if "grad" not in c.bugs]


def _missing_tangent(err: NoAdjointRule) -> bool:
    """The one refusal forward mode may give where reverse mode works: a user's rule
    registered with defvjp but not defjvp (every built-in rule has a tangent)."""
    msg = str(err)
    if "forward mode (jvp) is missing for " not in msg:
        return False
    op = msg.split("forward mode (jvp) is missing for ", 1)[1].split(":", 1)[0]
    return op in REGISTRY and op not in BUILTIN_RULE_OPS and REGISTRY[op].jvp is None


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_through_jvp(case):
    names, single = wrt_names(case.fn, case.wrt)
    for a in case.calls():
        point = bind(case.fn, a).arguments
        if any(isinstance(point[n], np.ndarray) and point[n].dtype != np.float64 for n in names):
            # (float32: finite differences are noise; <grad, v> decides, at float32's precision)
            check = dict(rtol=math.inf, gtol=1e-5)
        else:
            check = dict(rtol=max(case.rtol, 1e-5) * 10)
        try:
            check_jvp(case.fn, case.wrt, a, **check)
        except NoAdjointRule as e:
            assert _missing_tangent(e), str(e)
            return


# ------------------------------------------------------------ the fuzz oracle
def test_the_fuzz_oracle_judges_forward_mode(monkeypatch):
    """tests/fuzz/oracle.py checks every program's jvp: a slightly wrong tangent is caught."""
    from fuzz.oracle import judge
    from test_fuzz import PROGRAM
    assert judge(PROGRAM, seed=1).kind == "ok"
    real = adjointc.jvp
    monkeypatch.setattr(adjointc, "jvp", lambda f, p, t: (lambda v, d: (v, d * 1.001))(*real(f, p, t)))
    out = judge(PROGRAM, seed=1)
    assert out.kind == "wrong" and out.detail.startswith("jvp"), out
    monkeypatch.setattr(adjointc, "jvp", lambda f, p, t: (lambda v, d: (v + 1.0, d))(*real(f, p, t)))
    assert judge(PROGRAM, seed=1).kind == "value"


# ------------------------------------------------- the unsupported constructs
UNSUPPORTED = importlib.import_module("corpus.unsupported").CASES
# Refused by reverse mode but correct in forward mode (none now: a repeated or
# concatenated list, once here, is differentiated both ways: corpus/everyday.py).
FORWARD_SUPPORTS: set[str] = set()


@pytest.mark.parametrize("case", UNSUPPORTED, ids=lambda c: c.fn.__name__)
def test_unsupported_constructs_in_forward_mode(case):
    from test_corpus import _expected_line
    a = case.args if isinstance(case.args, A) else A(*case.args)
    if case.fn.__name__ in FORWARD_SUPPORTS:
        check_jvp(case.fn, case.wrt, a, reverse=False)
        return
    with pytest.raises(adjointc.AdjointcError) as info:
        fwd = tangent(case.fn, wrt=case.wrt)
        point = bind(case.fn, a).arguments
        dots = tuple(direction(point[n]) for n in fwd.wrt)
        fwd(*a.args, tangents=dots[0] if fwd._single else dots, **a.kwargs)
    err = info.value
    assert isinstance(err, case.error), f"expected {case.error.__name__}, got {type(err).__name__}: {err}"
    where = f"{os.path.basename(inspect.getsourcefile(case.fn))}:{_expected_line(case.fn)}:"
    assert where in str(err) and "hint:" in str(err), str(err)


# ------------------------------------------- a popped value nobody reads still pops
def _pop_dropped_then_read(a, b, x):
    L = [np.mean(x), a, np.dot(x, x)]
    dropped = L.pop()
    kept = L.pop(-1)
    return kept * b


def _pop_dropped_in_loop(x, y):
    L = [np.sum(x), np.sum(y * y)]
    for i in range(3):
        L.append(x[i] * y[i])
    s = 0.0
    for i in range(3):
        unused = L.pop()
        s = s + L[-1] * (i + 1.0)
    return s


@pytest.mark.parametrize("fn, args", [
    (_pop_dropped_then_read, (0.25, -0.9, np.array([0.3, 0.4, -1.5, 0.36]))),
    (_pop_dropped_then_read, (-1.3, 0.7, np.array([1.1, -0.2, 0.5, 2.0]))),
    (_pop_dropped_in_loop, (np.array([0.5, -1.2, 0.8, 0.1]), np.array([1.5, 0.3, -0.7, 2.2]))),
    (_pop_dropped_in_loop, (np.array([-0.4, 0.9, 1.8, -1.1]), np.array([0.2, -0.6, 1.3, 0.4]))),
])
def test_a_pop_whose_value_is_dead_still_pops_the_tangent_list(fn, args):
    """`v = L.pop()` with v never read: the tangent list must be popped too, or every
    later read of L's tangent is one entry off (the fuzzer found `L.pop(); L.pop(-1)`
    giving the jvp of the popped entry)."""
    rng = np.random.default_rng(7)
    for _ in range(2):
        dirs = tuple(rng.normal(size=np.shape(v)) if np.ndim(v) else float(rng.normal()) for v in args)
        _, got = jvp(fn, args, dirs)
        h = 1e-6
        plus = [v + h * d for v, d in zip(args, dirs)]
        minus = [v - h * d for v, d in zip(args, dirs)]
        want = (fn(*plus) - fn(*minus)) / (2 * h)
        assert np.isclose(got, want, rtol=1e-6, atol=1e-8), (got, want)
