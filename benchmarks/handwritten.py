"""Hand-written adjoints, the bar adjointc is measured against."""
import numpy as np


def heat_adjoint(u0, kappa, steps):
    u = u0.copy()
    laps = []
    for _ in range(steps):
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        laps.append(lap)
        u[1:-1] += kappa * lap
    ub = 2.0 * u
    kb = 0.0
    for lap in reversed(laps):
        g = ub[1:-1].copy()
        kb += g @ lap
        t = kappa * g
        ub[:-2] += t
        ub[1:-1] -= 2.0 * t
        ub[2:] += t
    return ub, kb


def rosen_adjoint(x):
    n = x.shape[0]
    s = 0.0  # the same scalar loop as the primal (vectorising only the adjoint would not compare like with like)
    tape = []
    for i in range(n - 1):
        ai = x[i + 1] - x[i] * x[i]
        tape.append(ai)
        s = s + 100.0 * ai * ai + (1.0 - x[i]) ** 2
    xb = np.zeros_like(x)
    for i in reversed(range(n - 1)):
        ai = tape.pop()
        ab = 200.0 * ai
        xb[i + 1] += ab
        xb[i] += -2.0 * x[i] * ab - 2.0 * (1.0 - x[i])
    return xb


def heat_bc_adjoint(u0, kappa, left, amplitude, steps=200):
    """examples/heat_bc.py by hand: boundary values, Euler steps with a source, and
    two Jacobi passes every 50 steps (linear: their adjoint needs no values)."""
    n = u0.shape[0]
    x = np.linspace(0.0, 1.0, n)
    e = np.exp(-50.0 * (x - 0.3) ** 2)
    f = amplitude * e
    u = u0.copy()
    laps = []
    for k in range(steps):
        u[0] = left
        u[-1] = 0.0
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        laps.append(lap)
        u[1:-1] += kappa * lap + 0.01 * f[1:-1]
        if k % 50 == 49:
            for _ in range(2):
                u[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]
    ub = 2.0 * u / n
    kb = lb = 0.0
    fb = np.zeros(n)
    for k in reversed(range(steps)):
        if k % 50 == 49:
            for _ in range(2):
                g = ub[1:-1].copy()
                ub[1:-1] = 0.5 * g
                ub[:-2] += 0.25 * g
                ub[2:] += 0.25 * g
        lap = laps.pop()
        g = ub[1:-1].copy()
        kb += g @ lap
        fb[1:-1] += 0.01 * g
        t = kappa * g
        ub[:-2] += t
        ub[1:-1] -= 2.0 * t
        ub[2:] += t
        ub[-1] = 0.0
        lb += ub[0]
        ub[0] = 0.0
    return ub, kb, lb, fb @ e


def heat_rebind_adjoint(u0, kappa, steps=200):
    """The careful adjoint of benchmarks/rebind.py: one Laplacian per step on the tape."""
    u = u0.copy()
    laps = []
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        laps.append(lap)
        u = u + kappa * lap
    ub = 2.0 * u
    kb = 0.0
    for lap in reversed(laps):
        kb += ub @ lap
        t = kappa * ub[1:-1]
        ub[:-2] += t
        ub[1:-1] -= 2.0 * t
        ub[2:] += t
    return ub, kb
