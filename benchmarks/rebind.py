"""The heat stencil written in the rebinding form (`u = u + kappa * lap`), as
NumPy users write it when they avoid in-place updates."""
import numpy as np


def heat_rebind(u0, kappa, steps=200):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)
