"""Digamma and trigamma (the derivatives of `math.lgamma`), without scipy.

psi(x) = d/dx log|Gamma(x)| and psi1(x) = psi'(x), for floats and float arrays, on
x > 0 and the negative non-integers (at 0, -1, -2, ... they are nan, as scipy's are:
lgamma has a pole there). Method: the recurrences psi(x) = psi(x + 1) - 1/x and
psi1(x) = psi1(x + 1) + 1/x**2 lift x to at least 10, where the asymptotic series
(Bernoulli numbers, 7 terms) are accurate to a few ulps; x < 0 goes through the
reflection formulas psi(x) = psi(1 - x) - pi / tan(pi x) and
psi1(x) = pi**2 / sin(pi x)**2 - psi1(1 - x). Accuracy (tests/test_complex_fft.py,
against scipy.special): relative 1e-14 or absolute 1e-14 near psi's root 1.4616...
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["digamma", "trigamma"]

_LIFT = 10.0
# Bernoulli numbers B_2k, k = 1..7
_B = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _scalar_out(x: Any, y: np.ndarray) -> Any:
    return float(y) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else y[()]


def _positive(x: np.ndarray, order: int) -> np.ndarray:
    """psi (order 0) or psi1 (order 1) for x > 0."""
    acc = np.zeros_like(x)
    x = x.copy()
    while True:
        low = x < _LIFT
        if not low.any():
            break
        acc = acc + np.where(low, -1.0 / np.where(low, x, 1.0) if order == 0
                             else 1.0 / np.where(low, x, 1.0) ** 2, 0.0)
        x = np.where(low, x + 1.0, x)
    inv2 = 1.0 / (x * x)
    if order == 0:
        series = np.zeros_like(x)
        for k in range(len(_B), 0, -1):
            series = series * inv2 + _B[k - 1] / (2 * k)
        return acc + np.log(x) - 0.5 / x - series * inv2
    series = np.zeros_like(x)
    for k in range(len(_B), 0, -1):
        series = series * inv2 + _B[k - 1]
    return acc + 1.0 / x + 0.5 * inv2 + series * inv2 / x


def _special(x: Any, order: int) -> Any:
    a = np.asarray(x, dtype=float)
    flat = np.atleast_1d(a)
    out = np.full(flat.shape, np.nan)
    pos = flat > 0
    if pos.any():
        out[pos] = _positive(flat[pos], order)
    neg = (flat <= 0) & (flat != np.floor(flat))
    if neg.any():
        xn = flat[neg]
        r = xn - np.round(xn)            # exact: pi * r keeps the digits pi * xn would lose
        s = np.sin(np.pi * r)            # (cot and sin**2 have period 1)
        if order == 0:
            out[neg] = _positive(1.0 - xn, 0) - np.pi * np.cos(np.pi * r) / s
        else:
            out[neg] = np.pi ** 2 / (s * s) - _positive(1.0 - xn, 1)
    return _scalar_out(x, out.reshape(a.shape))


def digamma(x: Any) -> Any:
    """psi(x) = d/dx log|Gamma(x)| (nan at the poles 0, -1, -2, ...)."""
    return _special(x, 0)


def trigamma(x: Any) -> Any:
    """psi1(x) = d/dx psi(x) (nan at the poles 0, -1, -2, ...)."""
    return _special(x, 1)
