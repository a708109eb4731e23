"""Aliasing the flow-sensitive check lets through since the pipeline work (passes/
sharing.Flow, passes/aliasing.py): a view of one row of a preallocated history read
after the next row is written, and a helper returning a fresh array then written in
place (issue 13's remaining aliasing items)."""
import numpy as np

from . import Case, rng_for


_r = rng_for("pipe")


def _n(*shape):
    return _r.normal(size=shape)


def trajectory_history(x, c):
    """An explicit time stepper keeping every state in a preallocated array."""
    steps = 4
    hist = np.zeros((steps + 1, x.size))
    hist[0] = x
    energy = 0.0
    for i in range(steps):
        y = hist[i]
        hist[i + 1] = y + 0.1 * (c * np.sin(y) - y)
        energy = energy + 0.5 * np.sum(y * y)
    return energy + np.sum(hist[steps] ** 2)


def history_2d_rows(x, c):
    hist = np.zeros((3, x.size))
    hist[0, :] = x
    for i in range(2):
        prev = hist[i, :]
        hist[i + 1, :] = np.tanh(c * prev)
        hist[0, :] = hist[0, :] * 0.5 + prev * 0.25
    return np.sum(hist * np.arange(1.0, hist.size + 1.0).reshape(hist.shape))


def _fresh_step(u, c):
    return u * c + np.roll(u, 1) * (1.0 - c)


def helper_fresh_then_written(x, c):
    u = x * 1.0
    for _ in range(3):
        u = _fresh_step(u, c)
        u[0] = u[0] * 0.5 + c
        u[1:] += 0.1 * u[:-1]
    return np.sum(u * u)


CASES = [
    Case(trajectory_history, (0, 1), [(_n(5), 0.7), (_n(3), -0.4)]),
    Case(history_2d_rows, (0, 1), [(_n(4), 0.6), (_n(2), 1.3)]),
    Case(helper_fresh_then_written, (0, 1), [(_n(5), 0.3), (_n(4), 0.8)]),
]
