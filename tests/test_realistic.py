"""Realistic programs written the way scientists write them, differentiated as written.

Each is a small version of code a user brings (a wave equation with double buffering, an
N-body step, Burgers, a pendulum, a Kalman filter's likelihood, an MLP trained with Adam
over a dict of parameters, logistic regression with a generator penalty, Gray-Scott,
finite volumes, Lotka-Volterra from a tuple of parameters, Jacobi iterations, a binomial
option tree of list comprehensions, a mixture likelihood with lgamma, a spectral heat
step, Ellipsis statistics, starred unpacking, a for-else search); every gradient is
checked against central finite differences on two inputs.
"""
import copy
import math

import numpy as np
import pytest

from adjointc import grad


def wave(u0, c, steps=50):
    n = u0.shape[0]
    dx = 1.0 / (n - 1)
    dt = 0.5 * dx / c
    u_prev = u0.copy()
    u = u0.copy()
    u_next = np.zeros_like(u0)
    r2 = (c * dt / dx) ** 2
    for _ in range(steps):
        u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + r2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u_next[0] = 0.0
        u_next[-1] = 0.0
        u_prev, u, u_next = u, u_next, u_prev
    return np.sum(u ** 2)


def nbody(pos, masses, steps=20, dt=0.01):
    n = pos.shape[0]
    vel = np.zeros_like(pos)
    for _ in range(steps):
        acc = np.zeros_like(pos)
        for i in range(n):
            for j in range(n):
                if i != j:
                    d = pos[j] - pos[i]
                    r = math.sqrt(float(np.sum(d * d)) + 0.01)
                    acc[i] += masses[j] * d / r ** 3
        vel = vel + dt * acc
        pos = pos + dt * vel
    return float(np.sum(pos[:, 0]))


def burgers(u0, nu, steps=40):
    u = np.array(u0, dtype=float)
    dx = 2 * np.pi / len(u)
    dt = 0.2 * dx
    for _ in range(steps):
        un = u.copy()
        u[1:-1] = (un[1:-1] - un[1:-1] * dt / dx * (un[1:-1] - un[:-2])
                   + nu * dt / dx ** 2 * (un[2:] - 2 * un[1:-1] + un[:-2]))
        u[0] = u[-2]
        u[-1] = u[1]
    return np.mean(u ** 2)


def pendulum(theta0, L, T=2.0, dt=0.01):
    g = 9.81
    theta, omega = theta0, 0.0
    t = 0.0
    while t < T:
        alpha = -(g / L) * math.sin(theta)
        omega += alpha * dt
        theta += omega * dt
        t += dt
    return theta


def kalman(zs, q, r):
    x, P = 0.0, 1.0
    nll = 0.0
    for z in zs:
        P = P + q
        S = P + r
        K = P / S
        innov = z - x
        nll += 0.5 * (math.log(2 * math.pi * S) + innov ** 2 / S)
        x = x + K * innov
        P = (1 - K) * P
    return nll


def mlp_adam(W1, W2, X, y, steps=3, lr=0.01):
    params = {"W1": W1, "W2": W2}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    loss = 0.0
    for t in range(1, steps + 1):
        h = np.tanh(X @ params["W1"])
        pred = h @ params["W2"]
        loss = np.mean((pred - y) ** 2)
        err = 2 * (pred - y) / y.shape[0]
        grads = {"W2": h.T @ err, "W1": X.T @ ((err @ params["W2"].T) * (1 - h ** 2))}
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            params[k] = params[k] - lr * m[k] / (1 - 0.9 ** t)
    return loss


def logistic(w, X, y, lam=0.1):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    ll = np.sum(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    return -ll / len(y) + lam * sum(wi ** 2 for wi in w)


def gray_scott(U0, V0, F, k, steps=10):
    U, V = U0.copy(), V0.copy()
    Du, Dv, dt = 0.16, 0.08, 1.0
    for _ in range(steps):
        Lu = np.roll(U, 1, 0) + np.roll(U, -1, 0) + np.roll(U, 1, 1) + np.roll(U, -1, 1) - 4 * U
        Lv = np.roll(V, 1, 0) + np.roll(V, -1, 0) + np.roll(V, 1, 1) + np.roll(V, -1, 1) - 4 * V
        uvv = U * V * V
        U = U + dt * (Du * Lu - uvv + F * (1 - U))
        V = V + dt * (Dv * Lv + uvv - (F + k) * V)
    return np.sum(V)


def finite_volume(q0, a, steps=30):
    q = q0.copy()
    n = len(q)
    dx = 1.0 / n
    dt = 0.4 * dx / abs(a)
    flux = np.zeros(n + 1)
    for _ in range(steps):
        for i in range(1, n):
            flux[i] = a * q[i - 1] if a > 0 else a * q[i]
        flux[0] = flux[n - 1]
        flux[n] = flux[1]
        q = q - dt / dx * (flux[1:] - flux[:-1])
    return np.sum(q * q)


def lotka_volterra(params, y0, T=5.0, n=200):
    alpha, beta, gamma, delta = params
    dt = T / n
    y = np.array(y0, dtype=float)
    traj = [y.copy()]
    for _ in range(n):
        prey, pred = y
        dy = np.array([alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred])
        y = y + dt * dy
        traj.append(y.copy())
    return sum(float(s[0]) for s in traj) * dt


def jacobi(f, iters=50):
    n = f.shape[0]
    h = 1.0 / (n + 1)
    u = np.zeros_like(f)
    for _ in range(iters):
        u_new = u.copy()
        u_new[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - h * h * f[1:-1, 1:-1])
        u = u_new
    return np.sum(u ** 2)


def binomial_option(S0, sigma, K=1.0, r=0.05, T=1.0, N=30):
    dt = T / N
    u = math.exp(sigma * math.sqrt(dt))
    d = 1 / u
    p = (math.exp(r * dt) - d) / (u - d)
    values = [max(S0 * u ** j * d ** (N - j) - K, 0.0) for j in range(N + 1)]
    for i in range(N - 1, -1, -1):
        values = [math.exp(-r * dt) * (p * values[j + 1] + (1 - p) * values[j]) for j in range(i + 1)]
    return values[0]


def gmm_like(alphas, means, x):
    k = len(alphas)
    logs = [alphas[j] - 0.5 * np.sum((x - means[j]) ** 2) for j in range(k)]
    m = max(logs)
    return m + math.log(sum(math.exp(l - m) for l in logs)) + sum(math.lgamma(1.5 + j) for j in range(2))


def spectral_heat(u0, kappa, steps=5):
    u = u0.copy()
    n = len(u)
    kx = np.fft.rfftfreq(n, d=1.0 / n) * 2 * np.pi
    decay = np.exp(-kappa * kx ** 2 * 0.01)
    for _ in range(steps):
        u = np.fft.irfft(np.fft.rfft(u) * decay, n=n)
    return np.sum(u ** 3)


def ellipsis_stats(X):
    mu = X.mean(axis=0)
    Z = X - mu[None, ...]
    return np.sum(Z[..., 0] ** 2) + np.sum(Z ** 4)


def starred_state(state):
    x, *rest = state
    total = x
    for v in rest:
        total = total + v * x
    return total


def for_else_search(x, tol=1e-3):
    y = x
    for i in range(50):
        y = 0.5 * (y + 2.0 / y)
        if abs(y * y - 2.0) < tol:
            break
    else:
        y = y + 0.0
    return y * x


def _cases():
    r = np.random.default_rng(0)
    return [
        (wave, (0, 1), [(r.normal(size=16) * np.hanning(16), 1.0), (np.sin(np.linspace(0, 3, 12)), 0.7)]),
        (nbody, (0, 1), [(r.normal(size=(3, 2)), np.array([1.0, 0.5, 0.8])), (r.normal(size=(4, 2)), r.random(4) + 0.5)]),
        (burgers, (0, 1), [(np.sin(np.linspace(0, 2 * np.pi, 24)) + 1.5, 0.05), (list(r.random(16) + 1.0), 0.1)]),
        (pendulum, (0, 1), [(0.4, 1.2), (-1.1, 0.8)]),
        (kalman, (1, 2), [(r.normal(size=10), 0.1, 0.5), (list(r.normal(size=6)), 0.3, 0.2)]),
        (mlp_adam, (0, 1), [(r.normal(size=(3, 4)) * 0.5, r.normal(size=(4, 1)) * 0.5, r.normal(size=(6, 3)),
                             r.normal(size=(6, 1)))]),
        (logistic, (0,), [(r.normal(size=3), r.normal(size=(8, 3)), (r.random(8) > 0.5).astype(float)),
                          (r.normal(size=2), r.normal(size=(5, 2)), np.array([1.0, 0.0, 1.0, 1.0, 0.0]))]),
        (gray_scott, (0, 1, 2, 3), [(1 - 0.1 * r.random((6, 6)), 0.1 * r.random((6, 6)), 0.04, 0.06)]),
        (finite_volume, (0, 1), [(np.exp(-((np.linspace(0, 1, 20) - 0.5) ** 2) * 50), 0.7),
                                 (r.random(12), -0.4)]),
        (lotka_volterra, (0, 1), [((1.0, 0.4, 0.8, 0.2), [2.0, 1.0]), ((0.7, 0.3, 0.9, 0.4), [1.0, 1.5])]),
        (jacobi, (0,), [(r.normal(size=(7, 7)),), (r.normal(size=(5, 6)),)]),
        (binomial_option, (0, 1), [(1.1, 0.3), (0.9, 0.2)]),
        (gmm_like, (0, 1, 2), [(np.array([0.1, -0.2, 0.3]), r.normal(size=(3, 2)), r.normal(size=2)),
                               (np.array([0.5, 0.1]), r.normal(size=(2, 3)), r.normal(size=3))]),
        (spectral_heat, (0, 1), [(np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False)) + 0.3, 0.5),
                                 (r.normal(size=12), 0.2)]),
        (ellipsis_stats, (0,), [(r.normal(size=(5, 3)),), (r.normal(size=(4, 2)),)]),
        (starred_state, (0,), [(np.array([1.2, 0.3, -0.7]),), (np.array([0.5, -0.4]),)]),
        (for_else_search, (0,), [(1.3,), (0.6,)]),
    ]


def _fd(f, args, w, eps=1e-6):
    """Central differences of f w.r.t. argument w (a float, a tuple/list of floats or an array)."""
    def at(v):
        a = list(copy.deepcopy(args))
        a[w] = v
        return f(*a)
    x = args[w]
    if isinstance(x, (float, int)):
        return (at(x + eps) - at(x - eps)) / (2 * eps)
    if isinstance(x, (tuple, list)):
        out = []
        for i in range(len(x)):
            up, dn = list(x), list(x)
            up[i] += eps
            dn[i] -= eps
            out.append((at(type(x)(up)) - at(type(x)(dn))) / (2 * eps))
        return type(x)(out)
    g = np.zeros(np.shape(x))
    for i in np.ndindex(np.shape(x)):
        up, dn = x.copy(), x.copy()
        up[i] += eps
        dn[i] -= eps
        g[i] = (at(up) - at(dn)) / (2 * eps)
    return g


CASES = [(f, wrt, a) for f, wrt, inputs in _cases() for a in inputs]


@pytest.mark.parametrize("f, wrt, args", CASES, ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(CASES)])
def test_realistic_program_gradient_matches_finite_differences(f, wrt, args):
    got = grad(f, wrt=wrt)(*copy.deepcopy(args))
    for w, g in zip(wrt, got if len(wrt) > 1 else (got,)):
        ref = _fd(f, args, w)
        assert np.allclose(np.asarray(g, dtype=float), np.asarray(ref, dtype=float), rtol=1e-4, atol=1e-6), \
            (f.__name__, w, g, ref)
