"""Batched forward-mode Jacobians (rules/batched.py, jacfwd): one tangent sweep over a
matrix of tangent columns.

For every function: the batched jacfwd (its mode "batched") equals the per-column
jacfwd, jacrev and central finite differences. Sizes are chosen so that the batch
length equals some primal axis length, where a misplaced batch axis would broadcast
silently instead of failing. Functions with an operation that has no batch form fall
back to the per-column sweeps (mode "per-column"), with the same Jacobian.
"""
from __future__ import annotations

import numpy as np
import pytest

import adjointc
from adjointc import jacfwd, jacrev
from adjointc import forward
from adjointc.forward import Tangent
from adjointc.rules.batched import Unbatchable

RNG = np.random.default_rng(11)


def fd_jacobian(f, args, k=0, eps=1e-6):
    """Central differences of f's output with respect to args[k] (out.shape + x.shape)."""
    x = np.asarray(args[k], dtype=float)
    out0 = np.asarray(f(*args))
    J = np.zeros(out0.shape + x.shape)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        lo, hi = list(args), list(args)
        lo[k], hi[k] = x - e.reshape(x.shape), x + e.reshape(x.shape)
        J.reshape(out0.shape + (x.size,))[..., j] = (np.asarray(f(*hi)) - np.asarray(f(*lo))) / (2 * eps)
    return J


# ------------------------------------------------------------------ simulations
def rhs(y, k):
    return np.array([y[1], -k * y[0] - 0.1 * y[1] * y[1]])


def rk4(y0, k):
    y = y0.copy()
    dt = 0.1
    for _ in range(10):
        k1 = rhs(y, k)
        k2 = rhs(y + 0.5 * dt * k1, k)
        k3 = rhs(y + 0.5 * dt * k2, k)
        k4 = rhs(y + dt * k3, k)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def lorenz_rk4(y0, sigma):
    y = y0.copy()
    dt = 0.01
    for _ in range(20):
        k1 = np.array([sigma * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 2.5 * y[2]])
        z = y + 0.5 * dt * k1
        k2 = np.array([sigma * (z[1] - z[0]), z[0] * (28.0 - z[2]) - z[1], z[0] * z[1] - 2.5 * z[2]])
        y = y + dt * k2
    return y


def heat(u0, kappa):
    u = u0.copy()
    for _ in range(6):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u


def heat_nonlinear(u0, kappa):
    u = u0.copy()
    for _ in range(4):
        lap = np.roll(u, 1) - 2.0 * u + np.roll(u, -1)
        u = u + kappa * lap * (1.0 + u * u)
    return u


def branches_and_loop(x, c):
    y = np.zeros(3)
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            s = s + np.sin(x[i]) * x[i]
        else:
            s = s - x[i] ** 2 * c
        j = i % 3
        y[j] = y[j] + s * x[i]
    k = 0
    while s > -100.0 and k < 3:
        s = s * 0.5 - 1.0
        k += 1
    return y * s


# ---------------------------------------------------------- indexing / setitem
def indexing(x):
    A = x.reshape(3, 4)
    idx = np.array([2, 0, 2])
    a = A[1] * A[:, 2][0] + A[-1, ::2].sum()
    b = A[idx, 1:3]
    c = A[A[:, 0] > 0.3][:, 0]
    d = x[idx]
    return np.concatenate([a, b.ravel(), [np.sum(c)], d, A[:, 3], A[None, 1, :][0]])


def setitems(x):
    A = np.zeros((3, 4))
    A[0] = x[:4]
    A[1, :] = x[4] * 2.0
    A[2, 1:3] = x[5:7] * x[7]
    A[:, 3] = A[:, 3] + x[8:11]
    A[2, 0] = x[0] * x[11]
    v = x.copy()
    v[::2] = v[1::2] * A[1, 0]
    v[np.array([0, 3])] = 1.0
    return A.sum(axis=0) * v[:4] + v[4:8]


# ---------------------------------------------------------------- reductions
def reductions(x):
    A = x.reshape(4, 3)
    return np.concatenate([
        np.sum(A, axis=0), np.mean(A, axis=1), np.sum(A * A, axis=-1), np.mean(A, axis=0, keepdims=True)[0],
        np.max(A, axis=1), np.min(A, axis=0), np.prod(A[:2], axis=0), np.cumsum(x[:5]),
        np.cumsum(A, axis=1)[1], np.diff(x[:6]), [np.sum(x) + np.mean(x ** 2) + np.max(x)],
        np.sum(A, axis=(0, 1), keepdims=True).ravel(), [np.trace(A[:3])],
    ])


def scalar_broadcasts(x):
    s = np.sum(x)                    # a float tangent against arrays: the expansion
    M = np.ones((4, 4)) * 0.5
    t = x[0] * M + s * x[:, None] + x[None, :]
    return (t * s).ravel()[:10] + np.sum(t, axis=0)[0] * x[:10] if x.shape[0] >= 10 else t.ravel()


def scalar_out(x):
    return np.sum(np.sin(x) * x) + x[0] * x[1]


# ----------------------------------------------------------------- products
def matmuls(x, A):
    M = x[:9].reshape(3, 3)
    v = x[:3]
    return np.concatenate([A @ v, v @ A, (M @ A).ravel(), (A @ M).ravel(), M @ v, v @ M, [v @ v],
                           np.dot(M, v), np.dot(v, A), [np.dot(v, v)], (np.dot(A, M)).ravel()])


def contractions(x, A):
    M = x[:9].reshape(3, 3)
    v = x[:3]
    return np.concatenate([np.einsum("ij,j->i", A, v), np.einsum("ij,jk->ik", M, A).ravel(),
                           np.einsum("ii->i", M), np.tensordot(A, M, axes=1).ravel(),
                           np.tensordot(M, A, axes=2).ravel(), np.outer(v, x[3:6]).ravel(),
                           np.outer(A[0], v).ravel(), np.einsum("i,i->", v, x[3:6]).reshape(1)])


def shapes(x):
    A = x.reshape(2, 3, 2)
    B = np.transpose(A, (2, 1, 0)) * 2.0 + np.swapaxes(A, 0, 2)
    C = np.moveaxis(A, 0, -1).T
    D = np.stack([x[:4], x[4:8]], axis=1)
    E = np.expand_dims(x[:3], axis=0) * np.squeeze(x[3:6].reshape(1, 3), axis=0)
    F = np.concatenate([D, D * D], axis=-1)
    G = np.flip(A, axis=1) + np.flip(A)
    H = np.broadcast_to(x[:3], (2, 3))
    return np.concatenate([B.ravel(), C.ravel(), D.ravel(), E.ravel(), F.ravel(), G.ravel(), H.ravel(),
                           A.T.ravel(), np.reshape(A, -1)[::3], np.stack((x[0], x[1] * x[2])),
                           np.squeeze(x[6:9].reshape(1, 3, 1))])


def lists_and_tuples(x):
    parts = [x[0] * x[1], 1.0, x[2] * x[2], x[3]]
    rows = [[x[0], x[1]], [x[2] * x[3], 2.0]]
    a, b = x[0] * 2.0, x[1] + x[2]
    pair = (a, b * x[3])
    tot = sum(parts) + pair[0] * pair[1]
    q = []
    for i in range(3):
        q.append(x[i] * tot)
    return np.concatenate([np.array(parts) * tot + np.array([a, b, pair[1], x[4]]), np.array(rows).ravel(),
                           np.array(q)])


def unknown_ranks(x):
    return x[np.array([0, 2])] * x[[1, 3]]   # (fancy indexing: no static rank, so no batch form)


def tuple_output(x):
    return np.sin(x) * x[0], np.sum(x * x)


def elementwise_mix(x, y):
    z = np.where(x > 0.5, x * y, np.exp(-x)) + np.maximum(x, 0.3) * np.abs(y - x)
    w = np.clip(x, 0.2, 0.8) / (1.0 + y * y) + np.arctan2(x, y) + np.hypot(x, y)
    return z * w + np.sqrt(x + 1.0) ** 1.5


def numbers_and_rebroadcast(x):
    s = float(x[0] * x[1])
    M = np.ones((3, x.shape[0])) * 0.7
    return (np.where(x > 0.5, x, 0.0) * s + np.mod(x, M) + np.sum(x) ** 2).ravel()


def two_inputs(x, y):
    return np.concatenate([x * y[:x.shape[0]], np.sin(y) * np.sum(x)])


# ----------------------------------------------------------- falling back
def _sorter(x):
    return np.sort(x)


def sorts(x):
    return np.sort(x) * x[0]


def looped_helper(v):
    out = v * 1.0
    for i in range(3):
        out = out + 0.5 * np.sin(out) * i
    return out


def calls_helper(x):
    return looped_helper(x) * 2.0 + x


def sorting_helper(v):
    out = v * 1.0
    for i in range(2):
        out = np.sort(out) * (1.0 + i)
    return out


def calls_sorting_helper(x):
    return sorting_helper(x) + x


def scale_inplace(v, s):
    for i in range(v.shape[0]):
        v[i] = v[i] * s + 0.1 * i


def calls_mutating_helper(x):
    y = x.copy()
    scale_inplace(y, x[0])
    return y * x


def one_float(s, x):
    return x * s + s * s


A34 = RNG.random((3, 4))
A33 = RNG.random((3, 3))

CASES = [
    (rk4, (np.array([1.0, 0.5]), 2.0)),
    (lorenz_rk4, (np.array([1.0, 1.0, 1.05]), 10.0)),
    (heat, (RNG.random(8), 0.1)),
    (heat_nonlinear, (RNG.random(6), 0.05)),
    (branches_and_loop, (RNG.random(6), 0.7)),
    (indexing, (RNG.random(12),)),
    (setitems, (RNG.random(12),)),
    (reductions, (RNG.random(12) + 0.1,)),
    (scalar_broadcasts, (RNG.random(4),)),
    (scalar_out, (RNG.random(5),)),
    (matmuls, (RNG.random(9), A33)),
    (contractions, (RNG.random(9), A33)),
    (shapes, (RNG.random(12),)),
    (lists_and_tuples, (RNG.random(5),)),
    (elementwise_mix, (RNG.random(4) + 0.1, RNG.random(4) + 0.2)),
    (two_inputs, (RNG.random(3), RNG.random(5))),
    (numbers_and_rebroadcast, (RNG.random(3) + 0.05,)),
    (calls_helper, (RNG.random(4),)),
    (calls_mutating_helper, (RNG.random(4),)),
]
IDS = [f.__name__ for f, _ in CASES]


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_batched_matches_per_column_jacrev_and_fd(f, args):
    jb = jacfwd(f)
    J = jb(*args)
    assert jb.mode == "batched"
    Jc = jacfwd(f, batched=False)(*args)
    Jr = jacrev(f)(*args)
    Jfd = fd_jacobian(f, args)
    assert J.shape == np.shape(f(*args)) + np.shape(args[0])
    np.testing.assert_allclose(J, Jc, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(J, Jr, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(J, Jfd, rtol=1e-5, atol=1e-6)


def test_several_wrt_and_a_float_input():
    x, y = RNG.random(3), RNG.random(5)
    jb = jacfwd(two_inputs, wrt=(0, 1))
    Jx, Jy = jb(x, y)
    assert jb.mode == ("batched", "batched")
    np.testing.assert_allclose(Jx, fd_jacobian(two_inputs, (x, y), 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(Jy, fd_jacobian(two_inputs, (x, y), 1), rtol=1e-6, atol=1e-7)
    Js = jacfwd(one_float)(0.7, x)   # a float input: one plain sweep
    np.testing.assert_allclose(Js, x + 1.4, rtol=1e-12)


def test_tuple_output():
    x = RNG.random(4)
    jb = jacfwd(tuple_output)
    J1, J2 = jb(x)
    assert jb.mode == "batched"
    np.testing.assert_allclose(J1, fd_jacobian(lambda v: tuple_output(v)[0], (x,)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(J2, 2 * x, rtol=1e-10)


def test_chunks(monkeypatch):
    """More columns than CHUNK: several batched sweeps, assembled in order."""
    monkeypatch.setattr(forward, "CHUNK", 3)
    x = RNG.random(8)
    jb = jacfwd(heat_nonlinear)
    J = jb(x, 0.05)
    assert jb.mode == "batched"
    np.testing.assert_allclose(J, jacfwd(heat_nonlinear, batched=False)(x, 0.05), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", [sorts, calls_sorting_helper, unknown_ranks],
                         ids=["no batch form (np.sort)", "in a called helper", "ranks not known"])
def test_falls_back_per_column(f):
    x = RNG.random(5)
    jb = jacfwd(f)
    J = jb(x)
    assert jb.mode == "per-column"
    assert J.shape == np.shape(f(x)) + (5,)
    np.testing.assert_allclose(J, fd_jacobian(f, (x,)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(J, jacrev(f)(x), rtol=1e-10, atol=1e-10)
    if f is not calls_sorting_helper:   # (a callee's batched build refuses when it is first called)
        with pytest.raises(Unbatchable):
            Tangent(f, 0, batched=True).source_for(x)
    assert jb(x).shape == J.shape and jb.mode == "per-column"   # (the refusal is remembered)


def test_batched_source_reads_like_the_tangent():
    src = Tangent(heat, 0, batched=True).source_for(RNG.random(8), 0.1)
    assert "def heat_jvp_batch(u0, kappa, u0_dot):" in src
    assert "u_dot[:, 1:-1] = u_dot[:, 1:-1] + kappa * (u_dot[:, 2:] - 2.0 * u_dot[:, 1:-1] + u_dot[:, :-2])" in src


def test_hessian_still_right():
    from adjointc import hessian

    def f(x):
        return np.sum(np.sin(x) * x[0]) + x[1] ** 3
    x = RNG.random(4)
    H = hessian(f)(x)
    expect = np.zeros((4, 4))
    expect += np.diag(-np.sin(x) * x[0])
    expect[0, :] += np.cos(x)
    expect[:, 0] += np.cos(x)
    expect[1, 1] += 6 * x[1]
    np.testing.assert_allclose(H, expect, rtol=1e-10, atol=1e-12)


def element_then_item_write(a, x):
    pair = (np.sum(x * x), x[-4])  # (an element: a number in the primal, copied)
    s, e = pair
    x[1:] = x[1:] + -0.2 * x[:-1]  # (changes x's tangent in place after the element was read)
    return np.sum(x) + np.log(e * e + 1.0) * s + a


def test_an_element_read_before_an_item_write_keeps_its_value():
    # found by the fuzzer: x_dot[:, -4] is a view of the batched tangent, where x[-4] is a copy
    x = np.array([0.69, -1.71, 0.39, 0.57, -0.64, -0.92])
    jf = adjointc.jacfwd(element_then_item_write, wrt=1)
    J = jf(1.45, x.copy())
    assert jf.mode == "batched"
    assert np.allclose(J, adjointc.grad(element_then_item_write, wrt=1)(1.45, x.copy()), rtol=1e-12, atol=1e-12)


def computed_element_then_item_write(x):
    i = 1
    e = x[i + 2]  # (an index computed in the subscript)
    x[1:] = x[1:] * 0.5
    return np.sum(x) * e


def test_an_element_at_a_computed_index_keeps_its_value():
    x = np.array([0.3, -0.2, 0.8, 1.1, -0.5])
    jf = adjointc.jacfwd(computed_element_then_item_write)
    J = jf(x.copy())
    assert np.allclose(J, adjointc.grad(computed_element_then_item_write)(x.copy()), rtol=1e-12, atol=1e-12)
