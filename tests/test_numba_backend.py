"""The numba backend (adjointc/backends/): `grad(f, backend="numba")`.

Every gradient is checked against central finite differences and against the NumPy
backend's on several inputs, and each program is checked to have really run as numba
machine code (no fallback). Then: the machine code cached across processes, the
fallback to NumPy with an AdjointcWarning (a construct the printer refuses, and one
numba's type inference refuses), a numba @njit function as f, and the option itself.
Skipped as a whole when numba is not installed (the `numba` extra).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import adjointc  # noqa: E402
from adjointc import AdjointcWarning, InvalidArgument  # noqa: E402
from adjointc.backends.njit_runtime import NumbaAdjoint  # noqa: E402


# ------------------------------------------------------------ the programs
def rhs(x, y, z, sigma):
    return sigma * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z


def lorenz(x0, y0, z0, sigma, dt, steps):
    """RK4 on Python floats, through a helper returning a tuple (inlined)."""
    x, y, z = x0, y0, z0
    for _ in range(steps):
        k1x, k1y, k1z = rhs(x, y, z, sigma)
        k2x, k2y, k2z = rhs(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z, sigma)
        k3x, k3y, k3z = rhs(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z, sigma)
        k4x, k4y, k4z = rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z, sigma)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    return x + y + z


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def adaptive(y0, k, T):
    """A while loop: its trip count is known only when it ends (a growable tape)."""
    y = y0
    t = 0.0
    while t < T:
        h = 0.05 / (1.0 + y * y)
        y = y + h * (-k * y + math.sin(t))
        t = t + h
    return y * y


def branchy(x, a, n):
    s = 0.0
    for i in range(n):
        if s > 1.0:
            s = s * 0.5 + x * a
        else:
            s = s + x * x
    return s


def breaker(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * s + 0.1
        if s > 5.0:
            break
    return s


def triangle(x):
    """A nested loop whose inner range changes per outer trip (a tape of ranges)."""
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i):
            s = s + math.sin(x[i] * x[j])
    return s


def smooth(x, sweeps):
    """In-place element updates of a 1-D array (a tape of elements)."""
    y = x.copy()
    for k in range(sweeps):
        for i in range(1, y.shape[0]):
            y[i] = y[i] * 0.9 + 0.1 * np.tanh(y[i - 1])
    return np.sum(y * y)


def mixed(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.exp(-x[i]) * np.sqrt(1.0 + (w * x[i]) ** 2)
    return s + np.sum(x ** 2)


def steps_down(x, n):
    """A range counting down, reversed by the backward sweep."""
    s = 1.0
    for i in range(n, 0, -2):
        s = s * (1.0 + x / i)
    return s


def heat(u0, kappa, steps):
    """The heat stencil (examples/heat.py): a tape of 1-D arrays, one Laplacian per step."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_rebind(u0, kappa, steps):
    """The rebinding form: each step's Laplacian a fresh array, filled in place."""
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def heat_until(u0, kappa, T):
    """Heat steps in a while loop, the step shortened where the field is steep: a tape of
    arrays whose trip count is known only at the end (grown as it is pushed), pushed
    under a branch."""
    u = u0.copy()
    t = 0.0
    while t < T:
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        if np.max(np.abs(lap)) > 0.1:
            u[1:-1] = u[1:-1] + 0.5 * kappa * lap
            t = t + 0.5
        else:
            u[1:-1] = u[1:-1] + kappa * lap
            t = t + 1.0
    return np.sum(u * u)


R = np.random.default_rng(3)
CASES = {  # name -> (f, wrt, [argument tuples])
    "lorenz": (lorenz, (0, 1, 2, 3), [(1.0, 1.0, 20.0, 10.0, 1e-3, 40), (-2.0, 0.5, 10.0, 8.0, 2e-3, 25)]),
    "rosen": (rosen, 0, [(R.uniform(-1, 1, 7),), (R.uniform(0, 2, 12),)]),
    "adaptive": (adaptive, (0, 1), [(0.5, 1.0, 1.0), (1.5, 0.3, 2.0)]),
    "branchy": (branchy, (0, 1), [(0.45, 2.0, 7), (0.9, 0.7, 12)]),
    "breaker": (breaker, 0, [(0.3, 40), (0.05, 10)]),
    "triangle": (triangle, 0, [(R.uniform(0, 1, 6),), (R.uniform(-1, 1, 9),)]),
    "smooth": (smooth, 0, [(np.linspace(0.1, 1.0, 6), 3), (R.uniform(-1, 1, 10), 2)]),
    "mixed": (mixed, (0, 1), [(R.uniform(0, 1, 5), 1.5), (R.uniform(-1, 1, 8), 0.5)]),
    "steps_down": (steps_down, 0, [(0.4, 9), (1.3, 6)]),
    "heat": (heat, (0, 1), [(np.exp(-30 * (np.linspace(0, 1, 9) - 0.5) ** 2), 0.2, 6), (R.uniform(0, 1, 6), 0.3, 3)]),
    "heat_rebind": (heat_rebind, (0, 1), [(R.uniform(-1, 1, 8), 0.25, 5), (R.uniform(0, 1, 5), 0.1, 2)]),
    "heat_until": (heat_until, (0, 1), [(np.exp(-30 * (np.linspace(0, 1, 9) - 0.5) ** 2), 0.2, 6.0),
                                        (R.uniform(0, 1, 7), 0.3, 4.0)]),
}


def _fd(f, args, k, h=1e-6):
    """Central finite differences of f in argument k (a float or an array)."""
    x = args[k]
    if isinstance(x, float):
        hi, lo = list(args), list(args)
        hi[k], lo[k] = x + h, x - h
        return (f(*hi) - f(*lo)) / (2 * h)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        hi, lo = list(args), list(args)
        hi[k], lo[k] = x.copy(), x.copy()
        hi[k][i] += h
        lo[k][i] -= h
        out[i] = (f(*hi) - f(*lo)) / (2 * h)
    return out


def _numba_grad(f, wrt, **kw):
    """The gradient compiled by numba; a fallback warning fails the test."""
    return adjointc.grad(f, wrt=wrt, backend="numba", **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences_and_numpy(name):
    f, wrt, inputs = CASES[name]
    g = _numba_grad(f, wrt)
    reference = adjointc.grad(f, wrt=wrt)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjointcWarning)
        for args in inputs:
            got = g(*args)
            got = got if isinstance(wrt, tuple) else (got,)
            want = reference(*args)
            want = want if isinstance(wrt, tuple) else (want,)
            for k, a, b in zip(positions, got, want):
                assert type(a) is type(b)
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(a, _fd(f, args, k), rtol=1e-5, atol=1e-6)
    c = g._last
    assert isinstance(c.fn, NumbaAdjoint) and c.fn.fell_back is None
    assert "@njit(cache=True)" in g.source and "Backend: numba" in g.source
    assert ".append(" not in g.source and ".pop()" not in g.source  # (tapes are arrays)


def test_lorenz_tapes_are_reserved_at_loop_entry():
    """A for over a range reserves its tapes once; the loop body only stores."""
    g = _numba_grad(lorenz, (0, 1, 2, 3))
    g(1.0, 1.0, 20.0, 10.0, 1e-3, 5)
    src = g.source
    loop = src.index("    for _ in ")
    assert "tape_reserve(_tape_x, _tape_x_n + len(_range1))" in src[:loop]
    assert "tape_reserve" not in src[loop:]
    assert "[0.0, 0.0, 0.0]" not in src and "piece(" not in src  # (the helper's tuple adjoint: scalars)


def test_while_loop_tapes_grow():
    g = _numba_grad(adaptive, (0, 1))
    dy, dk = g(0.5, 1.0, 30.0)  # (hundreds of trips: the tapes double several times)
    np.testing.assert_allclose(dy, _fd(adaptive, (0.5, 1.0, 30.0), 0), rtol=1e-5)
    np.testing.assert_allclose(dk, _fd(adaptive, (0.5, 1.0, 30.0), 1), rtol=1e-5)
    body = g.source[g.source.index("    while "):]
    assert "tape_reserve(_tape_y, _tape_y_n + 1)" in body


def test_value_and_grad_and_vjp():
    x = R.uniform(-1, 1, 6)
    vg = adjointc.value_and_grad(rosen, backend="numba")
    v, dx = vg(x)
    assert v == pytest.approx(rosen(x), rel=1e-14)
    np.testing.assert_allclose(dx, _fd(rosen, (x,), 0), rtol=1e-5, atol=1e-6)
    value, pullback = adjointc.vjp(branchy, 0.45, 2.0, 7, wrt=(0, 1), backend="numba")
    assert value == pytest.approx(branchy(0.45, 2.0, 7))
    d0, d1 = pullback(3.0)
    assert d0 == pytest.approx(3.0 * _fd(branchy, (0.45, 2.0, 7), 0), rel=1e-6)
    assert d1 == pytest.approx(3.0 * _fd(branchy, (0.45, 2.0, 7), 1), rel=1e-6)


def test_numba_njit_function_gets_an_njit_adjoint():
    jitted = numba.njit(rosen)
    g = adjointc.grad(jitted)
    assert g.backend == "numba"
    x = R.uniform(-1, 1, 5)
    np.testing.assert_allclose(g(x), _fd(rosen, (x,), 0), rtol=1e-5, atol=1e-6)
    assert "rosen is a numba @njit function: its Python source (.py_func) was differentiated" in g.source
    assert "@njit(cache=True)" in g.source
    plain = adjointc.grad(jitted, backend="numpy")  # (asked for: the NumPy adjoint of its source)
    np.testing.assert_allclose(plain(x), g(x), rtol=1e-12)
    assert "@njit" not in plain.source


def listy(x):
    L = []
    for i in range(3):
        L.append(x * i)
    return L[0] + L[1] * L[2]


def test_refused_construct_falls_back_to_numpy_with_a_warning():
    g = _numba_grad(listy, 0)
    with pytest.warns(AdjointcWarning, match=r"numba backend cannot compile .*list appended to in a loop.*"
                                             r"line \d+: L.append\(x \* i\)"):
        d = g(0.7)
    assert d == pytest.approx(4 * 0.7)  # d/dx (x * 2x) = 4x
    assert "Backend: NumPy. The numba backend was asked for" in g.source
    assert "@njit" not in g.source


def heat_2d(u0, kappa, steps):
    """A 2-D field: a tape of 2-D arrays (the numba backend keeps 1-D ones)."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1, 1:-1] = u[1:-1, 1:-1] + kappa * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
                                                 - 4.0 * u[1:-1, 1:-1])
    return np.sum(u * u)


def heat_inner(u0, kappa, steps):
    """A tape of arrays that another name views (`inner`): the numba backend's copy on
    the tape would not be the object the NumPy adjoint restores, which the view shares."""
    u = u0.copy()
    s = 0.0
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        inner = lap[1:-1]
        u = u + kappa * lap
        s = s + np.sum(inner * inner)
    return s + np.sum(u * u)


@pytest.mark.parametrize("f, x, reason", [
    (heat_2d, np.outer(np.linspace(0, 1, 6), np.linspace(1, 2, 5)), "a tape of arrays of rank other than 1"),
    (heat_inner, np.linspace(0.2, 1.0, 7) ** 2, "a tape of arrays sharing memory with another name"),
])
def test_tapes_of_arrays_numba_cannot_keep_fall_back_with_the_reason(f, x, reason):
    g = _numba_grad(f, (0, 1))
    with pytest.warns(AdjointcWarning, match=r"numba backend cannot compile .*" + reason + r".*line \d+"):
        du, dk = g(x, 0.1, 3)
    np.testing.assert_allclose(du, _fd(f, (x, 0.1, 3), 0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dk, _fd(f, (x, 0.1, 3), 1), rtol=1e-5, atol=1e-7)
    assert "Backend: NumPy. The numba backend was asked for" in g.source


def axis_sum(x):
    return np.sum(np.sum(x, axis=0) ** 2)


def test_numba_type_inference_failure_falls_back_to_numpy_with_a_warning():
    """The printer lets this through; numba refuses it at its compile: the NumPy adjoint runs."""
    g = _numba_grad(axis_sum, 0)
    x = R.uniform(-1, 1, (3, 4))
    with pytest.warns(AdjointcWarning, match="numba backend cannot compile .*numba: "):
        d = g(x)
    np.testing.assert_allclose(d, np.broadcast_to(2 * x.sum(axis=0), x.shape), rtol=1e-12)
    assert g._last.fn.fell_back is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjointcWarning)  # (warned once: the NumPy adjoint runs now)
        np.testing.assert_allclose(g(2 * x), np.broadcast_to(4 * x.sum(axis=0), x.shape), rtol=1e-12)


def test_warning_can_be_an_error():
    g = _numba_grad(listy, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjointcWarning)
        with pytest.raises(AdjointcWarning):
            g(0.7)


def test_backend_option_is_checked():
    with pytest.raises(InvalidArgument, match="backend='cuda' is not a backend"):
        adjointc.grad(rosen, backend="cuda")
    assert adjointc.grad(rosen).backend == "numpy"


def test_tape_bytes_of_a_numba_gradient_is_the_numpy_statistics_build():
    g = _numba_grad(rosen, 0)
    report = g.tape_bytes(R.uniform(-1, 1, 6))
    assert "total" in report


_CHILD = """
import sys, warnings
sys.path.insert(0, {tests!r})
warnings.simplefilter("error")
import numpy as np, adjointc
from adjointc import cache
from test_numba_backend import lorenz
g = adjointc.grad(lorenz, wrt=(0, 1, 2, 3), backend="numba")
print(repr(g(1.0, 1.0, 20.0, 10.0, 1e-3, 30)))
d = g._last.fn.dispatcher
print(cache.stats()["hits"], sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
"""


def test_compiled_code_is_cached_across_processes(cdir):
    env = dict(os.environ, ADJOINTC_CACHE_DIR=str(cdir), PYTHONPATH=os.pathsep.join(sys.path))
    code = textwrap.dedent(_CHILD.format(tests=os.path.dirname(__file__)))

    def run() -> list[str]:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout.split("\n")
    first, second = run(), run()
    assert first[1].split() == ["0", "0", "1"]   # adjointc transformed, numba compiled
    assert second[1].split() == ["1", "1", "0"]  # both from the disk: no transform, no compile
    assert first[0] == second[0]
    want = adjointc.grad(lorenz, wrt=(0, 1, 2, 3))(1.0, 1.0, 20.0, 10.0, 1e-3, 30)
    np.testing.assert_allclose(eval(first[0]), want, rtol=1e-12)
    assert any(p.name == "__pycache__" for p in cdir.iterdir())  # (numba's files, beside adjointc's)


def test_higher_order_differentiates_the_numpy_adjoint():
    """jacfwd / grad of a numba-backend gradient read its NumPy twin's generated source."""
    x = R.uniform(-1, 1, 5)
    g = _numba_grad(rosen, 0)
    np.testing.assert_allclose(adjointc.jacfwd(g)(x), adjointc.hessian(rosen)(x), rtol=1e-12)
    outer = adjointc.grad(lambda v: np.sum(g(v) ** 2))
    reference = adjointc.grad(rosen)
    np.testing.assert_allclose(outer(x), adjointc.grad(lambda v: np.sum(reference(v) ** 2))(x), rtol=1e-12)
    assert isinstance(g._last.fn, NumbaAdjoint)  # (g itself still runs compiled)


def pushed_at_two_depths(x, n):
    """One value overwritten in a loop and in the loop nested in it: one tape, pushed at both
    depths (its pushes cannot all be reserved at the outer loop's entry)."""
    s = 0.0
    for i in range(n):
        s = math.sin(s) * 0.5 + x
        for j in range(i):
            s = s + math.sin(s * x)
    return s


def test_a_tape_pushed_in_a_nested_loop_grows_safely():
    g = _numba_grad(pushed_at_two_depths, 0)
    for args in ((0.3, 12), (0.7, 30)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdjointcWarning)
            got = g(*args)
        assert got == pytest.approx(adjointc.grad(pushed_at_two_depths)(*args), rel=1e-12)
        assert got == pytest.approx(_fd(pushed_at_two_depths, args, 0), rel=1e-5)



def test_one_tape_pushed_at_two_depths_is_not_reserved_at_the_outer_loop():
    """(adjointc gives each site its own tape, but the lowering must not rely on it: numba does
    not check bounds, so a push that skips the check must be one a reservation counted.)"""
    from adjointc import types as T
    from adjointc.backends.njit import lower
    from adjointc.ir import Assign, Call, Const, ExprStmt, For, Function, Name, Param, Return
    push = ExprStmt(Call("method:append", (Name("t"), Name("v"))))
    body = (Assign("t", Call("list")), Assign("v", Const(0.0)), Assign("r", Call("range", (Name("n"),))),
            For("i", Name("r"), (push, For("j", Call("range", (Name("i"),)), (push,)))),
            Assign("v", Call("method:pop", (Name("t"),))), Return(Name("v")))
    low = lower(Function("f_grad", (Param("n"),), body), {"v": T.FLOAT, "n": T.INT, "i": T.INT}, {"n": T.INT}, {})
    from adjointc.printer import block
    text = block(low.body)
    outer = text[text.index("for i in r:"):text.index("for j in ")]
    assert "t = tape_reserve(t, t_n + 1)" in outer  # (checked at the push, not reserved at entry)
    assert "t = tape_reserve(t, t_n + len(range(i)))" in text  # (the inner loop's own pushes)


def _corpus_sample() -> list:
    """Every twelfth case of the loops and in-place corpora (deterministic): ordinary loop code,
    some of it compiled by numba and some falling back."""
    import importlib
    sys.path.insert(0, os.path.dirname(__file__))
    out = []
    for module in ("loops", "inplace"):
        cases = [c for c in importlib.import_module(f"corpus.{module}").CASES if not c.bugs]
        out += [pytest.param(c, id=f"{module}:{c.name}") for c in cases[::12]]
    return out


@pytest.mark.parametrize("case", _corpus_sample())
def test_corpus_gradients_match_the_numpy_backend(case):
    """Compiled or fallen back, the numba backend's gradient is the NumPy backend's."""
    from corpus import bind
    numpy_grad = adjointc.grad(case.fn, wrt=case.wrt)
    numba_grad = adjointc.grad(case.fn, wrt=case.wrt, backend="numba")
    for a in case.calls()[:2]:
        b = bind(case.fn, a)
        want = numpy_grad(*b.args, **b.kwargs)
        b = bind(case.fn, a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdjointcWarning)
            got = numba_grad(*b.args, **b.kwargs)
        for x, y in zip(*((v,) if not isinstance(case.wrt, (tuple, list)) else v for v in (got, want))):
            np.testing.assert_allclose(np.asarray(x, dtype=float), np.asarray(y, dtype=float), rtol=1e-10,
                                       atol=1e-12)
