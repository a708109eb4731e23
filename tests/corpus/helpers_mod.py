"""Helpers imported by tests/corpus/calls.py from another module: right-hand sides,
a flux, a step that itself calls a helper, and one helper adjointc cannot read."""
import math

import numpy as np

RATE = 0.5   # read by decay_rhs at call time


def rhs(y, k):
    """dy/dt of a damped nonlinear oscillator-like system (scalars or arrays)."""
    return -k * y + 0.3 * np.sin(y)


def decay_rhs(y):
    return -RATE * y


def flux(ul, ur):
    """Rusanov-like numerical flux of Burgers' equation between two cells."""
    fl = 0.5 * ul * ul
    fr = 0.5 * ur * ur
    a = 0.5 * (abs(ul) + abs(ur))
    return 0.5 * (fl + fr) - 0.5 * a * (ur - ul)


def euler_step(y, k, dt=0.1):
    return y + dt * rhs(y, k)


def gaussian(x, mu, sigma):
    z = (x - mu) / sigma
    return math.exp(-0.5 * z * z) / (sigma * math.sqrt(2.0 * math.pi))


def helper_with_lambda(x):
    """A lambda is lowered (inlined where called); storing it in a tuple is not."""
    y = x * 3.0
    sq = lambda t: t * t  # noqa: E731
    fs = (sq, sq)  # <- unsupported
    return fs[0](y)


def euler_with(f, y, dt):
    """A helper of another module taking a function (tests/corpus/function_values.py)."""
    return y + dt * f(y)
