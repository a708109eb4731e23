"""Small realistic programs whose generated adjoints are checked in as golden text.

Each function below is ordinary scientific Python, written the way a user would
write it; ``CASES`` lists what tests/test_golden.py differentiates: the function,
the parameters it differentiates with respect to, and one fixed input (the
generated text is specialised on the input's types, so the input is part of the
snapshot). Inputs are literals, not random draws, so the snapshots never depend
on a generator's state.

The custom rule (``softplus``) is registered here, at import: it is global, and
the function exists only in this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import adjointc


@dataclass
class GoldenCase:
    """One snapshot: ``grad(fn, wrt=wrt).source_for(*args, **kwargs)``.

    sympy: every differentiated parameter is a float and the function is
           arithmetic on them: the gradient is also compared with SymPy.
    rtol:  tolerance against central finite differences, relative to max(1, |reference|).
    """
    name: str
    fn: Callable
    wrt: Any
    args: tuple
    kwargs: dict = field(default_factory=dict)
    sympy: bool = False
    rtol: float = 1e-6


# ------------------------------------------------------------ a scalar loop
def rosenbrock(x):
    """The Rosenbrock function written as a scalar loop over the coordinates."""
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        s = s + 100.0 * a * a + (1.0 - x[i]) ** 2
    return s


# ------------------------------------------------------- 1-D heat stencils
def heat_inplace(u0, kappa, steps=4):
    """Explicit Euler for u_t = kappa u_xx, the interior updated in place."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_rebind(u0, kappa, steps=4):
    """The same scheme with a full-size Laplacian and the field rebound each step."""
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


# ------------------------------------------------------------ an MLP loss
def mlp_loss(W1, b1, W2, X, y):
    """Mean squared error of a one-hidden-layer tanh network."""
    h = np.tanh(X @ W1 + b1)
    pred = h @ W2
    return np.mean((pred - y) ** 2)


# ------------------------------------------------- RK4 with a helper (Lorenz-63)
def lorenz(s, sigma, rho, beta):
    """The Lorenz-63 right-hand side (small, no loop: inlined into its caller)."""
    return np.array([sigma * (s[1] - s[0]), s[0] * (rho - s[2]) - s[1], s[0] * s[1] - beta * s[2]])


def lorenz_rk4(s0, sigma, rho, beta, dt=0.01, steps=3):
    """Classical RK4; the loss is the squared norm of the final state."""
    s = s0.copy()
    for _ in range(steps):
        k1 = lorenz(s, sigma, rho, beta)
        k2 = lorenz(s + 0.5 * dt * k1, sigma, rho, beta)
        k3 = lorenz(s + 0.5 * dt * k2, sigma, rho, beta)
        k4 = lorenz(s + dt * k3, sigma, rho, beta)
        s = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(s * s)


# ------------------------------------------------------------ a while loop
def fall(h, g):
    """A ball dropped from height h, integrated (symplectic Euler) until it lands."""
    y = h
    v = 0.0
    while y > 0.0:
        v = v - g * 0.1
        y = y + 0.1 * v
    return v * v + y


# ------------------------------------------------------------ a branchy loop
def capped_series(x, gain):
    """Alternating terms, a clamp on negative partial sums, and an early exit."""
    s = 0.0
    for i in range(8):
        if i % 2 == 0:
            s = s + gain * math.sin(x * i)
        else:
            s = s - 0.5 * x * x / (i + 1)
        if s < -1.0:
            s = -1.0 + 0.1 * s
        if s > 3.0:
            break
    return s


# ---------------------------------------------------------- an in-place helper
def apply_bc(u, left, right):
    """Dirichlet boundary values, written into u in place (returns nothing)."""
    u[0] = left
    u[-1] = right


def smoothed_with_bc(u0, left, right, passes=3):
    """Jacobi smoothing of the interior between boundary conditions set by a helper."""
    u = u0.copy()
    for _ in range(passes):
        apply_bc(u, left, right)
        u[1:-1] = 0.5 * u[1:-1] + 0.25 * (u[:-2] + u[2:])
    return np.sum(u * u)


# ------------------------------------------------- a parameter dataclass argument
@dataclass
class Oscillator:
    """Parameters of a damped oscillator (`steps` is an integer: not differentiated)."""
    k: float
    c: float
    w: np.ndarray
    steps: int = 5


def oscillator_energy(p, x0):
    """Integrate m x'' = -k x - c x' (symplectic Euler, m = 1) from x0 at rest; a
    weighted energy of the final state."""
    x = x0
    v = np.zeros_like(x0)
    for _ in range(p.steps):
        v = v - 0.1 * (p.k * x + p.c * v)
        x = x + 0.1 * v
    return np.sum(p.w * (0.5 * v * v + 0.5 * p.k * x * x))


# --------------------------------------------------------------- a custom rule
def softplus(x):
    """log(1 + e^x): its registered rule uses the logistic function, which is stable
    where differentiating log1p(exp(x)) would overflow."""
    return np.log1p(np.exp(x))


adjointc.defvjp(softplus, "x", x="g / (1.0 + np.exp(-x))")


def logistic_loss(w, X, y):
    """Mean logistic loss of a linear classifier, labels in {-1, +1}."""
    z = X @ w
    return np.mean(softplus(-y * z))


# ------------------------------------------------------- a callee in joint mode
def decay(y, k, n):
    """A helper with a loop: kept as a call and differentiated through its own
    adjoint (joint mode), not inlined."""
    for _ in range(n):
        y = y - 0.1 * k * y * y
    return y


def two_decays(y0, k):
    a = decay(y0, k, 4)
    b = decay(0.5 * a + y0, 2.0 * k, 3)
    return a * b


CASES = [
    GoldenCase("rosenbrock", rosenbrock, 0, (np.array([-1.2, 1.0, 0.5, 2.0]),)),
    GoldenCase("heat_inplace", heat_inplace, ("u0", "kappa"),
               (np.array([0.0, 0.3, 0.9, 1.0, 0.6, 0.2, 0.0]), 0.2)),
    GoldenCase("heat_rebind", heat_rebind, ("u0", "kappa"),
               (np.array([0.0, 0.3, 0.9, 1.0, 0.6, 0.2, 0.0]), 0.2)),
    GoldenCase("mlp_loss", mlp_loss, ("W1", "b1", "W2"),
               (np.array([[0.5, -0.3, 0.8], [0.1, 0.7, -0.6]]), np.array([0.1, -0.2, 0.05]),
                np.array([0.9, -0.4, 0.3]),
                np.array([[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1], [0.7, 0.1]]),
                np.array([0.3, -0.1, 0.4, 0.2]))),
    GoldenCase("lorenz_rk4", lorenz_rk4, ("s0", "sigma", "rho", "beta"),
               (np.array([1.0, 1.0, 1.0]), 10.0, 28.0, 8.0 / 3.0)),
    GoldenCase("fall", fall, ("h", "g"), (1.3, 9.81), sympy=True),
    GoldenCase("capped_series", capped_series, ("x", "gain"), (0.7, 1.3), sympy=True),
    GoldenCase("smoothed_with_bc", smoothed_with_bc, ("u0", "left", "right"),
               (np.array([0.2, 0.5, 0.9, 0.4, -0.3, 0.1]), 1.0, -0.5)),
    GoldenCase("oscillator_energy", oscillator_energy, ("p", "x0"),
               (Oscillator(2.0, 0.3, np.array([1.0, 0.5, 2.0])), np.array([0.8, -0.4, 1.2]))),
    GoldenCase("logistic_loss", logistic_loss, "w",
               (np.array([0.4, -0.7]), np.array([[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1], [0.7, 0.1]]),
                np.array([1.0, -1.0, 1.0, -1.0]))),
    GoldenCase("two_decays", two_decays, ("y0", "k"), (0.8, 0.6), sympy=True),
    # the callee's own adjoint, which two_decays' backward sweep calls as decay_vjp
    GoldenCase("decay", decay, ("y", "k"), (0.8, 0.6, 4), sympy=True),
]

# Forward mode: the snapshot of these cases is the tangent, tangent(fn, wrt).source_for(...)
# (x_dot names, no tape); test_golden checks the gradient at its input as for every case,
# tests/test_forward.py the jvp there.
CASES.append(GoldenCase("heat_inplace_jvp", heat_inplace, ("u0", "kappa"),
                        (np.array([0.0, 0.3, 1.0, 0.4, -0.2, 0.0]), 0.2)))
TANGENT_CASES = frozenset({"heat_inplace_jvp"})
