"""Hand-written adjoints, the bar adjointc is measured against."""
import numpy as np


def heat_forward(u0, kappa, steps):
    """heat_adjoint's forward sweep: the final field and the tape (one interior Laplacian per step)."""
    u = u0.copy()
    laps = []
    for _ in range(steps):
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        laps.append(lap)
        u[1:-1] += kappa * lap
    return u, laps


def heat_adjoint(u0, kappa, steps):
    u, laps = heat_forward(u0, kappa, steps)
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


def heat_rebind_forward(u0, kappa, steps=200):
    """heat_rebind_adjoint's forward sweep: the final field and the tape (one Laplacian per step)."""
    u = u0.copy()
    laps = []
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        laps.append(lap)
        u = u + kappa * lap
    return u, laps


def heat_rebind_adjoint(u0, kappa, steps=200):
    """The careful adjoint of benchmarks/rebind.py: one Laplacian per step on the tape."""
    u, laps = heat_rebind_forward(u0, kappa, steps)
    ub = 2.0 * u
    kb = 0.0
    for lap in reversed(laps):
        kb += ub @ lap
        t = kappa * ub[1:-1]
        ub[:-2] += t
        ub[1:-1] -= 2.0 * t
        ub[2:] += t
    return ub, kb


def _lorenz_vjp(x, y, z, a, b, c, sigma, rho, beta):
    """The cotangent (a, b, c) of the Lorenz field f(x, y, z) pulled back: (dx, dy, dz,
    dsigma, drho, dbeta)."""
    return (-sigma * a + (rho - z) * b + y * c, sigma * a - b + x * c, -x * b - beta * c,
            (y - x) * a, x * b, -z * c)


def lorenz_final_sum_adjoint(state0, params, dt=0.01, steps=500):
    """examples/lorenz.py final_sum by hand: the states on a tape, each RK4 step's stages
    recomputed from its state in the backward sweep (what a careful scalar adjoint does)."""
    x, y, z = state0[0], state0[1], state0[2]
    sigma, rho, beta = params[0], params[1], params[2]
    tape = []
    for _ in range(steps):
        tape.append((x, y, z))
        k1x, k1y, k1z = sigma * (y - x), x * (rho - z) - y, x * y - beta * z
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x, k2y, k2z = sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x, k3y, k3z = sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x, k4y, k4z = sigma * (y4 - x4), x4 * (rho - z4) - y4, x4 * y4 - beta * z4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    xb = yb = zb = 1.0
    sb = rb = bb = 0.0
    h, h2, w1, w2 = 0.5 * dt, dt, dt / 6.0, dt / 3.0
    for _ in range(steps):
        x, y, z = tape.pop()
        # the stages again (cheap: the field is a few multiplications)
        k1x, k1y, k1z = sigma * (y - x), x * (rho - z) - y, x * y - beta * z
        x2, y2, z2 = x + h * k1x, y + h * k1y, z + h * k1z
        k2x, k2y, k2z = sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2
        x3, y3, z3 = x + h * k2x, y + h * k2y, z + h * k2z
        k3x, k3y, k3z = sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3
        x4, y4, z4 = x + h2 * k3x, y + h2 * k3y, z + h2 * k3z
        # k4 = f(s4), s4 = s + dt * k3
        d4x, d4y, d4z, ds, dr, db = _lorenz_vjp(x4, y4, z4, w1 * xb, w1 * yb, w1 * zb, sigma, rho, beta)
        sb, rb, bb = sb + ds, rb + dr, bb + db
        a3, b3, c3 = w2 * xb + h2 * d4x, w2 * yb + h2 * d4y, w2 * zb + h2 * d4z
        d3x, d3y, d3z, ds, dr, db = _lorenz_vjp(x3, y3, z3, a3, b3, c3, sigma, rho, beta)
        sb, rb, bb = sb + ds, rb + dr, bb + db
        a2, b2, c2 = w2 * xb + h * d3x, w2 * yb + h * d3y, w2 * zb + h * d3z
        d2x, d2y, d2z, ds, dr, db = _lorenz_vjp(x2, y2, z2, a2, b2, c2, sigma, rho, beta)
        sb, rb, bb = sb + ds, rb + dr, bb + db
        a1, b1, c1 = w1 * xb + h * d2x, w1 * yb + h * d2y, w1 * zb + h * d2z
        d1x, d1y, d1z, ds, dr, db = _lorenz_vjp(x, y, z, a1, b1, c1, sigma, rho, beta)
        sb, rb, bb = sb + ds, rb + dr, bb + db
        xb, yb, zb = xb + d4x + d3x + d2x + d1x, yb + d4y + d3y + d2y + d1y, zb + d4z + d3z + d2z + d1z
    return np.array([xb, yb, zb]), np.array([sb, rb, bb])


def oscillator_misfit_adjoint(params, data, dt=0.02, steps=400):
    """examples/fit_oscillator.py misfit by hand: (x, v) before each step on a tape."""
    k, c = params[0], params[1]
    x, v = 1.0, 0.0
    total = 0.0
    tape = []
    for i in range(steps):
        tape.append((x, v))
        v = v + dt * (-k * x - c * v + 0.5 * np.sin(i * dt))
        x = x + dt * v
        total = total + (x - data[i]) ** 2
    tb = 1.0 / steps
    xb = vb = kb = cb = 0.0
    for i in reversed(range(steps)):
        xo, vo = tape.pop()
        xb += 2.0 * (x - data[i]) * tb      # total += (x - d)^2, x the state after step i
        vb += dt * xb                        # x = xo + dt * v
        kb -= dt * xo * vb                   # v = vo + dt * (-k xo - c vo + ...)
        cb -= dt * vo * vb
        xb -= dt * k * vb
        vb *= 1.0 - dt * c
        x = xo
    return np.array([kb, cb])


def mlp_loss_adjoint(w1, w2, x, y):
    """benchmarks/run.py mlp_loss by hand, wrt (w1, w2)."""
    h = np.tanh(x @ w1)
    r = h @ w2 - y
    rb = (2.0 / r.size) * r
    ab = np.outer(rb, w2) * (1.0 - h * h)
    return x.T @ ab, h.T @ rb


def soft_pairs_adjoint(x):
    """benchmarks/run.py soft_pairs by hand: the energy's gradient wrt the positions."""
    d = x[:, None, :] - x[None, :, :]
    r2 = np.sum(d * d, axis=-1) + 1.0
    gd = d * (-1.0 / (r2 * r2))[:, :, None]  # 0.5 * d(1/r2)/d(r2) * d(r2)/d(d) = -d / r2**2
    return gd.sum(axis=1) - gd.sum(axis=0)
