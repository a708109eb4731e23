"""Reverse-over-reverse: gradients of gradients (adjointc/higher.py).

`grad(grad(f))` differentiates f's generated adjoint; a Gradient called inside a
differentiated function is differentiated through. Scalar cases are compared with
SymPy's second derivatives and mixed partials (the corpus shapes: straight-line
code, a for loop with a known trip count, branches, a while loop), array cases
with central finite differences of the gradient. What is not supported yet raises
a located adjointc error, never a wrong value."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import adjointc
from adjointc import grad, value_and_grad
from adjointc.errors import AdjointcError
from adjointc.runtime import add_adjoint


# ------------------------------------------------------------------ scalar corpus
def straight(x):
    return x * x * np.sin(x) + np.exp(0.5 * x) / (1.0 + x * x)


def loop(x):
    s = 0.0
    for i in range(4):
        s = s + x * s + np.sin(x * i)
    return s


def branches(x):
    y = x * x
    if x > 0.5:
        y = y * np.cos(x)
    else:
        y = y + x ** 3
    return y * x


def while_loop(x):
    s = x
    n = 0
    while n < 3:
        s = s * np.sin(s) + x
        n += 1
    return s


def _sym_straight(x):
    return x * x * sp.sin(x) + sp.exp(x / 2) / (1 + x * x)


def _sym_loop(x):
    s = 0
    for i in range(4):
        s = s + x * s + sp.sin(x * i)
    return s


def _sym_branches(x, at):
    y = x * x
    y = y * sp.cos(x) if at > 0.5 else y + x ** 3
    return y * x


def _sym_while(x):
    s = x
    for _ in range(3):
        s = s * sp.sin(s) + x
    return s


X = sp.Symbol("x")
SCALAR = [
    ("straight", straight, lambda at: _sym_straight(X), (0.7, -1.3)),
    ("loop", loop, lambda at: _sym_loop(X), (0.4, 1.1)),
    ("branches", branches, lambda at: _sym_branches(X, at), (0.2, 0.9)),
    ("while", while_loop, lambda at: _sym_while(X), (0.3, 0.8)),
]


def _close(a, b, rtol=1e-9):
    assert abs(float(a) - float(b)) <= rtol * max(1.0, abs(float(b))), (a, b)


@pytest.mark.parametrize("name,fn,sym,points", SCALAR, ids=[c[0] for c in SCALAR])
def test_second_derivative_matches_sympy(name, fn, sym, points):
    d2 = grad(grad(fn))
    for at in points:
        _close(d2(at), sp.diff(sym(at), X, 2).subs(X, at).evalf(30))


@pytest.mark.parametrize("name,fn,sym,points", SCALAR[:2], ids=[c[0] for c in SCALAR[:2]])
def test_gradient_of_a_function_of_the_gradient(name, fn, sym, points):
    gf = grad(fn)

    def loss(w):
        g = gf(w)
        return g * g + w

    for at in points:
        d1 = sp.diff(sym(at), X)
        _close(grad(loss)(at), sp.diff(d1 * d1 + X, X).subs(X, at).evalf(30))


def test_gradient_written_inside_the_function():
    """`g = grad(f)(w)` in the body: the gradient is made at transform time and its
    generated adjoint differentiated (with wrt, and value_and_grad, as literals)."""
    def loss(w):
        g = grad(straight)(w)
        return g * g

    def mixed(x, y):
        return grad(_k, wrt=1)(x, y) * y

    def both(w):
        v, g = value_and_grad(straight)(w)
        return v * g

    d1 = sp.diff(_sym_straight(X), X)
    _close(grad(loss)(0.7), sp.diff(d1 * d1, X).subs(X, 0.7).evalf(30))
    x, y = sp.symbols("x y")
    k = sp.exp(x * y) + x ** 3 * y + sp.sin(y) * x
    _close(grad(mixed)(0.3, 0.7), sp.diff(sp.diff(k, y) * y, x).subs({x: 0.3, y: 0.7}).evalf(30))
    _close(grad(both)(0.7), sp.diff(_sym_straight(X) * d1, X).subs(X, 0.7).evalf(30))
    w = np.array([0.3, -0.2, 0.5])

    def arrays(w):
        g = grad(energy)(w)
        return np.sum(g * g)
    np.testing.assert_allclose(grad(arrays)(w), _fd_grad(lambda u: np.sum(g_energy(u) ** 2), w),
                               rtol=1e-6, atol=1e-8)


def test_value_and_grad_of_a_gradient():
    v, d2 = value_and_grad(grad(straight))(0.7)
    d1 = sp.diff(_sym_straight(X), X)
    _close(v, d1.subs(X, 0.7).evalf(30))
    _close(d2, sp.diff(d1, X).subs(X, 0.7).evalf(30))


def _k(x, y):
    return np.exp(x * y) + x * x * x * y + np.sin(y) * x


def test_mixed_partials_match_sympy():
    x, y = sp.symbols("x y")
    k = sp.exp(x * y) + x ** 3 * y + sp.sin(y) * x
    at = {x: 0.3, y: 0.7}
    _close(grad(grad(_k, wrt=1), wrt=0)(0.3, 0.7), sp.diff(k, y, x).subs(at).evalf(30))
    _close(grad(grad(_k, wrt=0), wrt=1)(0.3, 0.7), sp.diff(k, x, y).subs(at).evalf(30))
    _close(grad(grad(_k, wrt=0), wrt=0)(0.3, 0.7), sp.diff(k, x, 2).subs(at).evalf(30))
    both = grad(grad(_k, wrt=1), wrt=(0, 1))(0.3, 0.7)
    _close(both[0], sp.diff(k, y, x).subs(at).evalf(30))
    _close(both[1], sp.diff(k, y, 2).subs(at).evalf(30))


def test_wrt_of_the_inner_gradient_is_part_of_the_key():
    """grad(f, wrt=0) and grad(f, wrt=1) called from the same code give different code."""
    gx, gy = grad(_k, wrt=0), grad(_k, wrt=1)

    def via(g):
        def outer(x, y):
            return g(x, y) * 2.0
        return outer
    a = grad(via(gx))(0.3, 0.7)
    b = grad(via(gy))(0.3, 0.7)
    assert abs(a - b) > 1e-3


# ----------------------------------------------------------------- array code
def _fd_grad(F, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        out.flat[i] = (F(x + e) - F(x - e)) / (2 * h)
    return out


def energy(x):
    return np.sum(np.sin(x) * x) + np.sum(x) ** 2 + np.sum(np.exp(-x * x))


g_energy = grad(energy)


def squared_gradient(w):
    g = g_energy(w)
    return np.sum(g ** 2)


def test_grad_of_squared_gradient_matches_finite_differences():
    x = np.array([0.3, -0.2, 0.5, 1.1])
    got = grad(squared_gradient)(x)
    ref = _fd_grad(lambda w: np.sum(g_energy(w) ** 2), x)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_by_reverse_over_reverse():
    x = np.array([0.3, -0.2, 0.5, 1.1])
    v = np.array([1.0, 2.0, -1.0, 0.5])

    def hv(w, v):
        return np.dot(g_energy(w), v)
    got = grad(hv)(x, v)
    ref = _fd_grad(lambda w: np.dot(g_energy(w), v), x)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-8)
    # the Hessian of this energy is known in closed form: check against it exactly
    n = x.size
    H = np.diag(2 * np.cos(x) - x * np.sin(x) + np.exp(-x * x) * (4 * x * x - 2)) + 2 * np.ones((n, n))
    np.testing.assert_allclose(got, H @ v, rtol=1e-10)


def mlp(W, X):
    return np.sum(np.tanh(X @ W))


g_mlp = grad(mlp)


def test_matmul_code_differentiated_twice():
    rng = np.random.default_rng(1)
    W, X = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))

    def lm(W, X):
        return np.sum(g_mlp(W, X) ** 2)
    np.testing.assert_allclose(grad(lm)(W, X), _fd_grad(lambda w: np.sum(g_mlp(w, X) ** 2), W),
                               rtol=1e-6, atol=1e-8)


def potential(q):
    """A pair potential of three particles on a line (soft, smooth)."""
    e = 0.0
    for i in range(q.shape[0]):
        for j in range(i + 1, q.shape[0]):
            d = q[i] - q[j]
            e = e + 1.0 / (1.0 + d * d)
    return e + 0.5 * np.sum(q * q)


force = grad(potential)


def trajectory_loss(q0, dt):
    """Particle-style objective: a trajectory integrated with the gradient of the
    potential (symplectic Euler), its final positions against a target."""
    q = q0
    p = np.zeros(3)
    for _ in range(5):
        p = p - dt * force(q)
        q = q + dt * p
    return np.sum((q - np.array([0.5, -0.2, 0.1])) ** 2)


def test_particle_objective_through_a_gradient_matches_finite_differences():
    q0 = np.array([0.3, -0.4, 1.0])

    def plain(q0):
        return trajectory_loss(q0, 0.1)
    got = grad(trajectory_loss)(q0, 0.1)
    np.testing.assert_allclose(got, _fd_grad(plain, q0), rtol=1e-6, atol=1e-9)


def test_vjp_of_a_gradient_is_a_hessian_vector_product():
    x = np.array([0.3, -0.2, 0.5, 1.1])
    v = np.array([1.0, 2.0, -1.0, 0.5])
    value, pullback = adjointc.vjp(g_energy, x)
    np.testing.assert_allclose(value, g_energy(x))
    ref = _fd_grad(lambda w: np.dot(g_energy(w), v), x)
    np.testing.assert_allclose(pullback(v), ref, rtol=1e-6, atol=1e-8)


def test_third_derivatives_match_sympy():
    for at in (0.7, -1.3):
        _close(grad(grad(grad(straight)))(at), sp.diff(_sym_straight(X), X, 3).subs(X, at).evalf(30), rtol=1e-8)
    x, y = sp.symbols("x y")
    k = sp.exp(x * y) + x ** 3 * y + sp.sin(y) * x
    got = grad(grad(grad(_k, wrt=1), wrt=0), wrt=0)(0.3, 0.7)
    _close(got, sp.diff(k, y, x, x).subs({x: 0.3, y: 0.7}).evalf(30), rtol=1e-8)


@pytest.mark.parametrize("name,fn,sym,points", [c for c in SCALAR if c[0] in ("loop", "while")],
                         ids=["loop", "while"])
def test_third_derivatives_through_loops_match_sympy(name, fn, sym, points):
    """Third derivatives through a for loop and a while loop: at the third level the
    adjoint of a tuple output is built as zeros, then given a tuple's adjoint
    (`_t1_bar = [0.0, 0.0]; _t1_bar[1] = add_adjoint(_t1_bar[1], g)`): the zero slot
    keeps the container's type (passes/types._zero_slots), so the in-place updates
    of the second-level adjoint are proved safe."""
    for at in points:
        _close(grad(grad(grad(fn)))(at), sp.diff(sym(at), X, 3).subs(X, at).evalf(30), rtol=1e-8)


def _zero_slot(x, g):
    t_bar = [0.0, 0.0]
    t_bar[1] = add_adjoint(t_bar[1], g)
    return t_bar


def _users_zero(x, g):
    t_bar = [0.0, 0.0]
    y = t_bar[1] * x   # (arithmetic reads this 0.0: a float, not a zero adjoint)
    t_bar[1] = g
    return t_bar, y


def _inferred(fn):
    from adjointc import frontend, types as T
    from adjointc.passes import types as typing_pass
    from adjointc.program import number
    ir = number(frontend.lower(fn).function, 0)[0]
    return typing_pass.infer(ir, {"x": T.FLOAT, "g": T.T("list", elts=(T.FLOAT,))}, {})


def test_a_zero_slot_takes_the_type_of_the_adjoint_added_into_it():
    """`L = [0.0, 0.0]; L[1] = add_adjoint(L[1], g)`: L[1]'s 0.0 is only ever the symbolic
    zero (add_adjoint fails on any other float beside a list), so L[1] has g's type; a 0.0
    that arithmetic reads, or a plain store, keeps the flow-insensitive join (unknown)."""
    zero = _inferred(_zero_slot)["t_bar_"]
    assert zero.kind == "list" and [e.kind for e in zero.elts] == ["float", "list"]
    assert [e.kind for e in zero.elts[1].elts] == ["float"]
    plain = _inferred(_users_zero)["t_bar_"]
    assert [e.kind for e in plain.elts] == ["float", "unknown"]


# ---------------------------------------------------------------- not yet
def peak(x):
    return np.max(x * x)


def norm_loss(x):
    return np.linalg.norm(x) * 2.0 + np.sum(np.hypot(x, 1.0))


def cumulative(x):
    return np.sum(np.cumprod(x))


def test_helper_without_a_second_order_rule_is_refused_with_a_location():
    """cumprod's second derivative calls nonlinear helpers (cumprod_vjp_da, ...) with no
    rule of their own yet: differentiating it is refused where the generated code calls it."""
    g2 = grad(lambda x: np.sum(grad(cumulative)(x) * x))
    with pytest.raises(AdjointcError, match="adjointc's helper 'cumprod_vjp_d") as e:
        grad(lambda x: np.sum(g2(x)))(np.array([1.0, 2.0]))
    assert e.value.loc is not None and e.value.loc.line > 0


def test_max_differentiated_twice():
    """max's gradient (unreduce_minmax: the cotangent to the maxima) is linear in the
    cotangent and piecewise constant in x: d/dx sum(grad(max(x*x))) = 2 at the argmax."""
    np.testing.assert_array_equal(grad(lambda x: np.sum(grad(peak)(x)))(np.array([1.0, 2.0])), [0.0, 2.0])


def test_norm_differentiated_twice():
    """norm's and hypot's gradients divide by the norm (div0): their second derivative."""
    x = np.array([0.5, -1.2, 2.0])
    gn = grad(norm_loss)

    def loss(w):
        return np.sum(gn(w) ** 2)
    np.testing.assert_allclose(grad(loss)(x), _fd_grad(lambda w: np.sum(gn(w) ** 2), x), rtol=1e-6, atol=1e-9)


def test_gradient_of_a_method_gradient_is_refused():
    class K:
        def f(self, x):
            return x * x * x

    with pytest.raises(AdjointcError, match="method, partial or callable object"):
        grad(grad(K().f))(0.5)


def test_math_module_code_twice():
    def f(x):
        return math.sin(x) * math.exp(x)
    x = 0.4
    ref = 2 * math.cos(x) * math.exp(x)   # (sin e^x)'' = 2 cos x e^x
    _close(grad(grad(f))(x), ref)


# ------------------------------------- what generated code does, written by a user
def test_pop_of_a_list_the_function_builds():
    def f(a, b):
        L = [a, b * 2.0]
        v = L.pop()
        L.append(v * a)
        w = L.pop()
        L.pop()
        L.append(a * a)
        return w + L[0] * 3.0 + len(L)
    # w = 2 a b, L[0] = a^2: d/da = 2 b + 6 a, d/db = 2 a
    da, db = grad(f, wrt=(0, 1))(1.5, 0.7)
    _close(da, 2 * 0.7 + 6 * 1.5)
    _close(db, 2 * 1.5)


def test_pop_of_a_parameter_is_refused():
    def g(L, x):
        v = L.pop()
        return v * x
    with pytest.raises(AdjointcError, match=r"this \.pop\(\)") as e:
        grad(g, wrt=1)([1.0, 2.0], 3.0)
    assert e.value.loc is not None


def test_loop_over_reversed_sequences():
    def r(x, u):
        s = 0.0
        for v in reversed([x, 2 * x, 3 * x]):
            s = s * 0.5 + v * v
        for w in reversed(u):
            s = s * 0.5 + w * x
        for i in reversed(range(3)):
            s = s + i * x
        return s
    u = np.array([0.5, -1.0, 2.0])
    got = grad(r, wrt=(0, 1))(1.2, u)
    h = 1e-6
    _close(got[0], (r(1.2 + h, u) - r(1.2 - h, u)) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(got[1], _fd_grad(lambda v: r(1.2, v), u), rtol=1e-6)


# ------------------------------------- the golden programs, differentiated twice
def _golden_cases():
    from tests.golden import programs
    return [c for c in programs.CASES if c.name != "oscillator_energy"]  # (a parameter object: below)


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda c: c.name)
def test_golden_program_gradient_norm_matches_finite_differences(case, tmp_path):
    """grad of sum(grad(f)(args)**2) for each golden program (loops with tapes,
    in-place stencils, matmul, an RK4 integrator...) against central differences."""
    import importlib.util
    import inspect
    sig = inspect.signature(case.fn)
    names = list(sig.parameters)
    header = ", ".join(p if sig.parameters[p].default is inspect.Parameter.empty
                       else f"{p}={sig.parameters[p].default!r}" for p in names)
    (tmp_path / "losses.py").write_text(
        f"import numpy as np\n\n\ndef loss({header}):\n    g = G({', '.join(names)})\n    return np.sum(g * g)\n")
    spec = importlib.util.spec_from_file_location(f"losses_{case.name}", tmp_path / "losses.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    w0 = case.wrt[0] if isinstance(case.wrt, (tuple, list)) else case.wrt
    mod.G = grad(case.fn, wrt=w0)
    pos = names.index(w0) if isinstance(w0, str) else w0
    args = list(case.args)
    got = grad(mod.loss, wrt=pos)(*args, **case.kwargs)

    def at(v):
        a = list(args)
        a[pos] = v if np.ndim(args[pos]) else float(v)
        return mod.loss(*a, **case.kwargs)
    ref = _fd_grad(at, args[pos], h=1e-6)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * max(1.0, float(np.max(np.abs(ref)))))


# ------------------------------------------------- nested AD: a saddle-point objective
def _payoff(x, y):
    return np.sum(x * y) - 0.5 * np.sum(y * y) + 0.25 * np.sum(x * x * y)


_d_payoff_dy = grad(_payoff, wrt=1)


def _best_response_value(x):
    """Gradient ascent on y inside the objective (the inner max of a saddle-point
    problem), the gradient a module-level Gradient."""
    y = np.zeros_like(x)
    for _ in range(6):
        y = y + 0.3 * _d_payoff_dy(x, y)
    return _payoff(x, y)


def _best_response_value_inline(x, lr):
    """The same with the inner gradient written where it is used, and its step size
    differentiated too."""
    y = np.zeros_like(x)
    for _ in range(4):
        y = y + lr * grad(_payoff, wrt=1)(x, y)
    return _payoff(x, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saddle_point_objective_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=4)
    g = grad(_best_response_value)(x)
    h = 1e-6
    fd = np.array([(_best_response_value(x + h * e) - _best_response_value(x - h * e)) / (2 * h)
                   for e in np.eye(4)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    gx, glr = grad(_best_response_value_inline, wrt=(0, 1))(x, 0.25)
    fdx = np.array([(_best_response_value_inline(x + h * e, 0.25)
                     - _best_response_value_inline(x - h * e, 0.25)) / (2 * h) for e in np.eye(4)])
    fdlr = (_best_response_value_inline(x, 0.25 + h) - _best_response_value_inline(x, 0.25 - h)) / (2 * h)
    np.testing.assert_allclose(gx, fdx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(glr, fdlr, rtol=1e-6, atol=1e-8)


def test_the_source_of_a_second_derivative_is_the_second_order_code():
    """grad(grad(f)).source shows G's generated adjoint differentiated (inlined), not a
    call of an adjoint of G."""
    g2 = grad(grad(straight))
    _close(g2(0.7), sp.diff(_sym_straight(X), X, 2).subs(X, 0.7).evalf(30))
    src = g2.source
    assert "np.sin(x)" in src and "np.cos(x)" in src and "_gradient_vjp" not in src
    assert "# ---- backward sweep ----" in src and "(straight_grad)" in src


def test_fourth_derivative_matches_sympy():
    """Four levels: the adjoint of an adjoint takes a cotangent of its own (a fresh name)."""
    for at in (0.7, -1.3):
        exact = sp.diff(_sym_straight(X), X, 4).subs(X, at).evalf(30)
        _close(grad(grad(grad(grad(straight))))(at), exact, rtol=1e-8)


# ------------------------------------- helpers modifying their arguments, differentiated twice
def _smooth_in_place(u, c):
    for i in range(1, u.shape[0] - 1):
        u[i] = u[i] + c * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    return np.sum(u)


def _uses_in_place_helper(x):
    u = np.sin(x)
    s = _smooth_in_place(u, 0.3)
    return np.sum(u * u * x) + s


def _gradient_norm_through_in_place_helper(x):
    gx = grad(_uses_in_place_helper)(x)
    return np.sum(gx * gx)


def test_second_order_through_a_helper_that_modifies_its_argument():
    """Generated code calls `h_returning_u` (the helper run on a copy) and the helper's
    adjoint with a cotangent for the modified argument: both are read again as defs."""
    from adjointc import hessian, jvp
    x, v, h = np.linspace(-1.0, 1.0, 5), np.cos(np.arange(5.0)), 1e-6
    g = grad(_uses_in_place_helper)
    fd = (g(x + h * v) - g(x - h * v)) / (2 * h)
    np.testing.assert_allclose(jvp(g, (x,), (v,))[1], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian(_uses_in_place_helper)(x) @ v, fd, rtol=1e-6, atol=1e-8)
    loss = _gradient_norm_through_in_place_helper
    fdl = np.array([(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(grad(loss)(x), fdl, rtol=1e-6, atol=1e-7)
