"""The problems of benchmarks/numba_backend.py, and careful hand-written adjoints of them
compiled with numba: the bar the numba backend is measured against (issue 14).

The hand-written Lorenz adjoint is what one writes by hand: it stores the state once per
step (3 floats) and recomputes the four RK4 stages in the backward sweep; the Rosenbrock
adjoint needs no tape at all (x is not overwritten). Both return (value, gradient) as the
generated adjoints do.
"""
import numpy as np
from numba import njit


def rhs(x, y, z, sigma):
    return sigma * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z


def lorenz(x0, y0, z0, sigma, dt, steps):
    """Lorenz-63, classical RK4 on Python floats, the right-hand side a helper."""
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


@njit(cache=True)
def _rhs(x, y, z, sigma):
    return sigma * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z


@njit(cache=True)
def _rhs_bar(x, y, z, sigma, gx, gy, gz):
    """The cotangents of (x, y, z, sigma) given those (gx, gy, gz) of rhs's three results."""
    return (-sigma * gx + (28.0 - z) * gy + y * gz, sigma * gx - gy + x * gz,
            -x * gy - 8.0 / 3.0 * gz, (y - x) * gx)


@njit(cache=True)
def lorenz_adjoint(x0, y0, z0, sigma, dt, steps):
    xs, ys, zs = np.empty(steps), np.empty(steps), np.empty(steps)
    x, y, z = x0, y0, z0
    for n in range(steps):
        xs[n], ys[n], zs[n] = x, y, z
        k1x, k1y, k1z = _rhs(x, y, z, sigma)
        k2x, k2y, k2z = _rhs(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z, sigma)
        k3x, k3y, k3z = _rhs(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z, sigma)
        k4x, k4y, k4z = _rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z, sigma)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    value = x + y + z
    xb, yb, zb, sb = 1.0, 1.0, 1.0, 0.0
    for n in range(steps - 1, -1, -1):
        x, y, z = xs[n], ys[n], zs[n]
        k1x, k1y, k1z = _rhs(x, y, z, sigma)
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x, k2y, k2z = _rhs(x2, y2, z2, sigma)
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x, k3y, k3z = _rhs(x3, y3, z3, sigma)
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        # x_new = x + dt/6 (k1 + 2 k2 + 2 k3 + k4): x's cotangent passes through
        c1, c2 = dt / 6.0, dt / 3.0
        g4x, g4y, g4z, s4 = _rhs_bar(x4, y4, z4, sigma, c1 * xb, c1 * yb, c1 * zb)
        g3x, g3y, g3z, s3 = _rhs_bar(x3, y3, z3, sigma, c2 * xb + dt * g4x, c2 * yb + dt * g4y,
                                     c2 * zb + dt * g4z)
        g2x, g2y, g2z, s2 = _rhs_bar(x2, y2, z2, sigma, c2 * xb + 0.5 * dt * g3x, c2 * yb + 0.5 * dt * g3y,
                                     c2 * zb + 0.5 * dt * g3z)
        g1x, g1y, g1z, s1 = _rhs_bar(x, y, z, sigma, c1 * xb + 0.5 * dt * g2x, c1 * yb + 0.5 * dt * g2y,
                                     c1 * zb + 0.5 * dt * g2z)
        xb, yb, zb = xb + g4x + g3x + g2x + g1x, yb + g4y + g3y + g2y + g1y, zb + g4z + g3z + g2z + g1z
        sb += s4 + s3 + s2 + s1
    return value, (xb, yb, zb, sb)


@njit(cache=True)
def rosen_adjoint(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n - 1):
        s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    g = np.zeros_like(x)
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        g[i] += -400.0 * a * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * a
    return s, g



def heat(u0, kappa, steps):
    """1-D heat, explicit Euler with NumPy slicing (examples/heat.py)."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


@njit(cache=True)
def heat_adjoint(u0, kappa, steps):
    """(value, (du0, dkappa)) of heat: the forward sweep keeps each step's field (one row
    per step of a preallocated (steps, n) array), the backward sweep reads them back."""
    n = u0.shape[0]
    fields = np.empty((steps, n))
    u = u0.copy()
    for k in range(steps):
        fields[k] = u
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u[1:-1] = u[1:-1] + kappa * lap
    value = np.sum(u * u)
    u_bar = 2.0 * u
    kappa_bar = 0.0
    for k in range(steps - 1, -1, -1):
        v = fields[k]
        g = u_bar[1:-1].copy()  # (the interior's cotangent, before this step)
        for i in range(1, n - 1):
            kappa_bar += g[i - 1] * (v[i + 1] - 2.0 * v[i] + v[i - 1])
        for i in range(1, n - 1):  # (u_bar[1:-1] kept g: the identity part of the update)
            d = kappa * g[i - 1]
            u_bar[i - 1] += d
            u_bar[i] -= 2.0 * d
            u_bar[i + 1] += d
    return value, (u_bar, kappa_bar)
