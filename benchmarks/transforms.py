"""Cost of the composable transforms relative to what they build on, in one run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/transforms.py [--quick]

Ratios (times are the best of several repeats, as benchmarks/run.py's `best`: on a
shared machine the ratios matter, not the absolute times):

* jvp / f: the forward-mode tangent against the function (issue 11's target <= 3);
* HVP / grad: the Hessian-vector product `jvp(grad(f), x, v)`, forward over reverse,
  against the gradient (target <= 3);
* hessian / (n x HVP): the Hessian of n inputs is n HVPs through one compiled
  tangent (target about 1);
* jacrev vs jacfwd: a trajectory of many states from 3 parameters (jacfwd: 3 tangent
  sweeps; jacrev: one adjoint per output) and a function of many inputs with 2
  outputs (jacrev: 2 sweeps; jacfwd: one per input). Each should win its case.
* batched vs per-column jacfwd: the Jacobian's columns from one batched tangent sweep
  (every tangent with a leading axis of n columns, rules/batched.py) against n tangent
  sweeps through one compiled tangent (`jacfwd(f, batched=False)`), 50-100 inputs.

Printed as Markdown tables.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

import adjointc  # noqa: E402
from run import best  # noqa: E402
import lorenz  # noqa: E402
import rosen as rosen_ex  # noqa: E402


def heat(u0, kappa, steps=500):
    """The heat equation's explicit Euler steps (slicing form), a scalar misfit."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def mlp_loss(w1, w2, x, y):
    """A one-hidden-layer network's mean squared error."""
    h = np.tanh(x @ w1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def lorenz_rhs(y, p):
    return np.array([p[0] * (y[1] - y[0]), y[0] * (p[1] - y[2]) - y[1], y[0] * y[1] - p[2] * y[2]])


def trajectory(p, y0, dt=0.01, steps=100):
    """Lorenz-63 RK4: every state of the trajectory (steps x 3 outputs) from 3 parameters."""
    out = np.zeros((steps, 3))
    y = y0.copy()
    for i in range(steps):
        k1 = lorenz_rhs(y, p)
        k2 = lorenz_rhs(y + 0.5 * dt * k1, p)
        k3 = lorenz_rhs(y + 0.5 * dt * k2, p)
        k4 = lorenz_rhs(y + dt * k3, p)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[i] = y
    return out


def two_moments(x):
    """Two outputs of many inputs."""
    return np.array([np.sum(np.sin(x) * x), np.sum(x ** 2) * np.mean(np.cos(x))])


def heat_field(u0, kappa, steps=50):
    """The heat equation's explicit Euler steps: the whole field (n outputs of n inputs)."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u


def reaction_diffusion(u0, k, steps=20):
    """A periodic nonlinear reaction-diffusion field by RK2 (np.roll stencil)."""
    u = u0.copy()
    dt = 0.01
    for _ in range(steps):
        f1 = k * (np.roll(u, 1) - 2.0 * u + np.roll(u, -1)) + u - u ** 3
        v = u + 0.5 * dt * f1
        f2 = k * (np.roll(v, 1) - 2.0 * v + np.roll(v, -1)) + v - v ** 3
        u = u + dt * f2
    return u


def main() -> None:
    quick = "--quick" in sys.argv
    rng = np.random.default_rng(0)

    # ---------------------------------------------------------------- jvp / f
    rows = []
    xr = rng.standard_normal(200 if quick else 1000)
    vr = rng.standard_normal(xr.size)
    rows.append((f"rosenbrock loop, n={xr.size}", best(lambda: rosen_ex.rosen(xr)),
                 best(lambda: adjointc.jvp(rosen_ex.rosen, (xr,), (vr,)))))
    n, steps = (200, 100) if quick else (1000, 500)
    xs = np.linspace(0.0, 1.0, n)
    u0, du = np.exp(-100.0 * (xs - 0.5) ** 2), np.sin(np.pi * xs)
    rows.append((f"heat 1-D, {n} pts x {steps} steps", best(lambda: heat(u0, 0.2, steps)),
                 best(lambda: adjointc.jvp(heat, (u0, 0.2, steps), (du, 1.0, None)))))
    s0, p = np.array([1.0, 1.0, 1.0]), np.array([10.0, 28.0, 8.0 / 3.0])
    ls = 200 if quick else 1000
    rows.append((f"lorenz-63 RK4, {ls} steps", best(lambda: lorenz.lorenz_rk4(s0, p, 0.01, ls)),
                 best(lambda: adjointc.jvp(lorenz.lorenz_rk4, (s0, p, 0.01, ls),
                                           (np.ones(3), np.ones(3), None, None)))))
    print("| forward mode | f | jvp | jvp / f |")
    print("|---|---|---|---|")
    for name, tf, tj in rows:
        print(f"| {name} | {tf * 1e3:.3f} ms | {tj * 1e3:.3f} ms | {tj / tf:.2f} |")

    # ---------------------------------------------------------------- HVP / grad
    rows = []
    gr = adjointc.grad(rosen_ex.rosen)
    rows.append((f"rosenbrock loop, n={xr.size}", best(lambda: gr(xr)), best(lambda: adjointc.jvp(gr, (xr,), (vr,)))))
    d_in, d_hid, batch = 20, 32, 64
    w1, w2 = rng.standard_normal((d_in, d_hid)) / 4, rng.standard_normal(d_hid) / 4
    X, Y = rng.standard_normal((batch, d_in)), rng.standard_normal(batch)
    gm = adjointc.grad(mlp_loss)
    v1 = rng.standard_normal(w1.shape)
    rows.append((f"MLP loss wrt W1 ({d_in}x{d_hid}, batch {batch})", best(lambda: gm(w1, w2, X, Y)),
                 best(lambda: adjointc.jvp(gm, (w1, w2, X, Y), (v1, None, None, None)))))
    print("\n| second order | grad | HVP = jvp(grad(f)) | HVP / grad |")
    print("|---|---|---|---|")
    for name, tg, th in rows:
        print(f"| {name} | {tg * 1e3:.3f} ms | {th * 1e3:.3f} ms | {th / tg:.2f} |")

    # ---------------------------------------------------------- hessian / (n HVP)
    rows = []
    xh = rng.standard_normal(50)
    gh, hh = adjointc.grad(rosen_ex.rosen), adjointc.hessian(rosen_ex.rosen)
    vh = rng.standard_normal(xh.size)
    rows.append((f"rosenbrock loop, n={xh.size}", xh.size, best(lambda: adjointc.jvp(gh, (xh,), (vh,))),
                 best(lambda: hh(xh), repeat=3)))
    xe = rng.standard_normal(30)

    def energy(x):
        return np.sum(np.sin(x) * x ** 2) + np.dot(x, x) ** 2
    ge, he = adjointc.grad(energy), adjointc.hessian(energy)
    rows.append((f"array energy, n={xe.size}", xe.size, best(lambda: adjointc.jvp(ge, (xe,), (xe,))),
                 best(lambda: he(xe), repeat=3)))
    print("\n| Hessian | n | HVP | hessian | hessian / (n x HVP) |")
    print("|---|---|---|---|---|")
    for name, k, th, tH in rows:
        print(f"| {name} | {k} | {th * 1e3:.3f} ms | {tH * 1e3:.3f} ms | {tH / (k * th):.2f} |")

    # ------------------------------------------------------------ jacrev/jacfwd
    rows = []
    ts = 50 if quick else 100
    jf, jr = adjointc.jacfwd(trajectory, wrt=0), adjointc.jacrev(trajectory, wrt=0)
    y0 = np.array([1.0, 1.0, 1.0])
    rows.append((f"RK4 trajectory ({ts} x 3 outputs) vs 3 parameters", best(lambda: trajectory(p, y0, 0.01, ts)),
                 best(lambda: jf(p, y0, 0.01, ts), repeat=3), best(lambda: jr(p, y0, 0.01, ts), repeat=3)))
    xm = rng.standard_normal(100 if quick else 300)
    jf2, jr2 = adjointc.jacfwd(two_moments), adjointc.jacrev(two_moments)
    rows.append((f"2 outputs of {xm.size} inputs", best(lambda: two_moments(xm)),
                 best(lambda: jf2(xm), repeat=3), best(lambda: jr2(xm), repeat=3)))
    print("\n| Jacobian | f | jacfwd | jacrev | jacfwd / f | jacrev / f | winner |")
    print("|---|---|---|---|---|---|---|")
    for name, tf, tfw, trv in rows:
        win = "jacfwd" if tfw < trv else "jacrev"
        print(f"| {name} | {tf * 1e3:.3f} ms | {tfw * 1e3:.2f} ms | {trv * 1e3:.2f} ms | {tfw / tf:.1f} | "
              f"{trv / tf:.1f} | {win} ({max(tfw, trv) / min(tfw, trv):.1f}x) |")

    # ------------------------------------------------- batched vs per-column jacfwd
    rows = []
    nh = 50 if quick else 100
    uh = np.exp(-30.0 * (np.linspace(0.0, 1.0, nh) - 0.5) ** 2)
    rows.append((f"heat field, {nh} pts x 50 steps", heat_field, (uh, 0.2)))
    nr = 50 if quick else 80
    ur = 0.5 * np.sin(np.linspace(0.0, 2 * np.pi, nr))
    rows.append((f"reaction-diffusion RK2, {nr} pts x 20 steps", reaction_diffusion, (ur, 0.5)))
    xt = rng.standard_normal(50 if quick else 100)
    rows.append((f"2 outputs of {xt.size} inputs", two_moments, (xt,)))
    print("\n| jacfwd | n inputs | per-column | batched | per-column / batched | mode |")
    print("|---|---|---|---|---|---|")
    for name, f, args in rows:
        jb, jc = adjointc.jacfwd(f), adjointc.jacfwd(f, batched=False)
        tb = best(lambda: jb(*args), repeat=3)
        tc = best(lambda: jc(*args), repeat=3)
        assert np.allclose(jb(*args), jc(*args), rtol=1e-12, atol=1e-12)
        print(f"| {name} | {np.size(args[0])} | {tc * 1e3:.2f} ms | {tb * 1e3:.2f} ms | {tc / tb:.1f} | {jb.mode} |")


if __name__ == "__main__":
    main()
