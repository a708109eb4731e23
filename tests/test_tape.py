"""What the forward sweep records, measured against the minimum reasoned out by hand."""
import math

import numpy as np

from adjointc import grad


def heat(u0, kappa, steps=10):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def linear_loop(x, n=50):
    s = 0.0
    for i in range(n):
        s = s + 2.0 * x[i % x.shape[0]]
    return s


def scalar_state(x0, a, n=20):
    x = x0
    for _ in range(n):
        x = x - 0.1 * math.sin(x) * a
    return x


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        s = s + 100.0 * a * a + (1.0 - x[i]) ** 2
    return s


def test_heat_records_one_interior_laplacian_per_step():
    # kappa's adjoint needs the Laplacian of every step; the overwritten slices of u are
    # never read by the backward sweep. The last step's Laplacian is still live in its
    # variable: (steps - 1) pushes of (n - 2) float64 values.
    report = grad(heat, wrt=(0, 1)).tape_bytes(np.random.rand(8), 0.1, 10).data
    assert report["total"] == 9 * 6 * 8


def heat_with_source(u0, kappa, amplitude, steps=10):
    x = np.linspace(0.0, 1.0, u0.shape[0])
    f = amplitude * np.sin(np.pi * x)
    g = np.zeros(len(u0)) + 0.5
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2]) + 0.01 * f[1:-1] * g[1:-1]
    return np.sum(u * u)


def test_lengths_carry_shapes_so_nothing_is_recorded_for_broadcasting():
    # `x`, `f` and `g` have u0's length (from u0.shape[0] and len(u0)), so the terms of the
    # update provably have one shape: no `unbroadcast`, hence no term recorded only for its
    # shape. What remains is the Laplacian, as in `heat`.
    report = grad(heat_with_source, wrt=(0, 1, 2)).tape_bytes(np.random.rand(8), 0.1, 2.0, 10).data
    assert report["total"] == 9 * 6 * 8


def test_linear_loop_records_nothing():
    # s = s + 2 x[i]: the backward sweep needs no primal value at all, only the trip count
    assert grad(linear_loop).tape_bytes(np.ones(5)).data["total"] == 0


def test_loop_carried_scalar_state_records_one_value_per_step():
    # x_{k+1} = x_k - 0.1 sin(x_k) a needs x_k in step k's adjoint: n values
    report = grad(scalar_state, wrt=(0, 1)).tape_bytes(0.3, 1.5, 20).data
    assert report["total"] == 20 * 8


def test_rosenbrock_records_one_value_per_iteration():
    # x[i] and x[i+1] are re-read from x (never written). The backward sweep redoes
    # `a = x[i + 1] - x[i] * x[i]` (two operations) where it reads it, but not
    # `100.0 * a` on top of it (three): that one value per iteration is recorded,
    # (n - 1) iterations, the last value stays live -> n - 2 pushes
    x = np.random.rand(6)
    report = grad(rosen).tape_bytes(x).data
    assert report["total"] == (6 - 2) * 8
    assert len(report) == 2


def test_gradients_are_right_where_tapes_were_measured():
    x = np.array([0.3, 0.9, -0.4, 1.2])
    h = 1e-6
    g = grad(rosen)(x)
    fd = [(rosen(x + h * e) - rosen(x - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    gs = grad(scalar_state, wrt=(0, 1))(0.3, 1.5)
    fd0 = (scalar_state(0.3 + h, 1.5) - scalar_state(0.3 - h, 1.5)) / (2 * h)
    fd1 = (scalar_state(0.3, 1.5 + h) - scalar_state(0.3, 1.5 - h)) / (2 * h)
    np.testing.assert_allclose(gs, (fd0, fd1), rtol=1e-7)


def tanh_rebound_then_incremented(x):
    v = x * 2.0
    v = np.tanh(v)
    v[0] += 1.0
    return np.sum(v * v)


def test_write_into_a_rebound_result_is_undone_before_its_vjp_reads_it():
    """`v = np.tanh(v)` binds v to tanh's result, which its VJP reads (1 - ans**2): the
    in-place write through v saves the entry it overwrites, and the backward sweep puts
    it back before reaching the VJP. Only that entry is saved, not the array."""
    x = np.array([0.3, -0.7, 1.1])
    g = grad(tanh_rebound_then_incremented)
    src = g.source_for(x)
    fwd, bwd = src.split("# ---- backward sweep ----")
    assert fwd.count("v[0].copy()") == 1 and "np.copy(v)" not in fwd
    restore = bwd.index("v[0] = _saved_v")
    assert restore < bwd.index("(1 - _t1 * _t1)")
    t = np.tanh(2.0 * x)
    y = t.copy()
    y[0] += 1.0
    np.testing.assert_allclose(g(x), 2.0 * y * (1.0 - t * t) * 2.0, rtol=1e-12)

