"""Helpers of the complex and FFT rules (rules/complex.py, rules/np_fft.py).

The cotangent convention is JAX's (see rules/complex.py): a holomorphic linear map's
VJP is its transpose, not its conjugate transpose. The DFT matrix is symmetric, so
`fftn`'s VJP is `fftn` of the cotangent and `ifftn`'s is `ifftn`, both cut or
zero-padded back to the input's lengths where `n=`/`s=` changed them. `rfftn` keeps
the first n // 2 + 1 outputs of the last axis: its transpose pads the cotangent with
zeros to length n before the `fftn` and keeps the real part (the input is real).
`irfftn` reads a half spectrum as a Hermitian one: each retained bin k of the last
axis stands for bins k and n - k, so its cotangent is `ifftn` of g on the bins it
keeps, times 2 where a bin has a mirror (0 < k < n / 2) and 1 where it has none
(k = 0 and, n even, k = n / 2). Every helper is linear in `g` (`@linear`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .core import linear

__all__ = ["csign", "csign_vjp", "csign_jvp", "dangle", "dangle_vjp", "fft_fit", "ifft_fit", "fftn_fit", "ifftn_fit", "fftn_vjp", "ifftn_vjp", "rfftn_vjp", "irfftn_vjp", "fft_vjp", "ifft_vjp",
           "rfft_vjp", "irfft_vjp", "ifftshift_of", "fftshift_of", "freq_jvp"]


def csign(x: Any) -> Any:
    """x / |x| (0 at 0): the direction of a complex number (the sign of a real one)."""
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(x, a)
    return np.where(a == 0, 0.0, q)[()]


@linear("x")
def csign_vjp(g: Any, x: Any) -> Any:
    """Adjoint of x in `csign(x)` (second order of abs): (g - Re(g s) conj(s)) / |x|,
    s = csign(x); 0 for a real x (its sign is piecewise constant) and at 0."""
    s = csign(x)
    return div0_abs(g - np.real(g * s) * np.conj(s), x)


def csign_jvp(d: Any, x: Any) -> Any:
    """Tangent of `csign(x)`: (d - s Re(conj(s) d)) / |x| (0 for a real x, and at 0)."""
    s = csign(x)
    return div0_abs(d - s * np.real(np.conj(s) * d), x)


def div0_abs(a: Any, x: Any) -> Any:
    """a / |x|, 0 where x == 0."""
    r = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(a, r)
    return np.where(r == 0, 0.0, q)[()]


def dangle(z: Any, deg: bool = False) -> Any:
    """np.angle's cotangent factor: -1j * conj(z) / |z|**2 (JAX's convention), 0 at 0
    and for a real z (its angle, 0 or pi, is piecewise constant)."""
    if not np.iscomplexobj(z):
        return np.zeros(np.shape(z))[()]
    a2 = np.real(z * np.conj(z))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = -1j * np.conj(z) / a2
    q = np.where(a2 == 0, 0.0, q)[()]
    return q * (180 / np.pi) if deg else q


@linear("z")
def dangle_vjp(g: Any, z: Any, deg: bool = False) -> Any:
    """Adjoint (and, holomorphic, tangent) of `dangle(z, deg)` = -1j / z: g * 1j / z**2,
    0 at 0 and for a real z (second order of np.angle)."""
    if not np.iscomplexobj(z):
        return np.zeros(np.shape(z))[()]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = g * 1j / (z * z)
    q = np.where(z == 0, 0.0, q)[()]
    return q * (180 / np.pi) if deg else q


def _axes(ndim: int, s: Any, axes: Any) -> tuple[int, ...]:
    """The transformed axes of an n-D FFT call, as NumPy picks them."""
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    elif np.ndim(axes) == 0:
        axes = (axes,)
    return tuple(int(a) % ndim for a in axes)


def _fit(a: np.ndarray, lengths: dict[int, int]) -> np.ndarray:
    """`a` cut or zero-padded at the end of each axis to the given lengths."""
    for ax, n in lengths.items():
        m = a.shape[ax]
        if m > n:
            a = np.take(a, np.arange(n), axis=ax)
        elif m < n:
            pad = [(0, 0)] * a.ndim
            pad[ax] = (0, n - m)
            a = np.pad(a, pad)
    return a


def _lengths(x: Any, axes: tuple[int, ...]) -> dict[int, int]:
    return {ax: np.shape(x)[ax] for ax in axes}


def _dft_vjp(g: Any, x: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> np.ndarray:
    g = np.asarray(g)
    ax = _axes(np.ndim(x), s, axes)
    out = (np.fft.ifftn if inverse else np.fft.fftn)(g, axes=ax, norm=norm)
    return _fit(out, _lengths(x, ax))


@linear("x")
def fftn_vjp(g: Any, x: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """Adjoint of `x` in `fftn(x, s, axes, norm)` (also fft2)."""
    return _dft_vjp(g, x, s, axes, norm, False)


@linear("x")
def ifftn_vjp(g: Any, x: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """Adjoint of `x` in `ifftn(x, s, axes, norm)` (also ifft2)."""
    return _dft_vjp(g, x, s, axes, norm, True)


@linear("c")
def fft_fit(c: Any, like: Any, axis: int = -1, norm: Any = None) -> np.ndarray:
    """`fft(c, n=len(like along axis))`: the transpose of `fft_vjp(., like, ...)` (second order)."""
    return np.fft.fft(c, n=np.shape(like)[axis], axis=axis, norm=norm)


@linear("c")
def ifft_fit(c: Any, like: Any, axis: int = -1, norm: Any = None) -> np.ndarray:
    """`ifft(c, n=len(like along axis))`: the transpose of `ifft_vjp(., like, ...)`."""
    return np.fft.ifft(c, n=np.shape(like)[axis], axis=axis, norm=norm)


@linear("c")
def fftn_fit(c: Any, like: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """`fftn(c, s=like's lengths)`: the transpose of `fftn_vjp(., like, s, axes, norm)`."""
    ax = _axes(np.ndim(c), s, axes)
    return np.fft.fftn(c, s=[np.shape(like)[a] for a in ax], axes=ax, norm=norm)


@linear("c")
def ifftn_fit(c: Any, like: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """`ifftn(c, s=like's lengths)`: the transpose of `ifftn_vjp(., like, s, axes, norm)`."""
    ax = _axes(np.ndim(c), s, axes)
    return np.fft.ifftn(c, s=[np.shape(like)[a] for a in ax], axes=ax, norm=norm)


def _one(n: Any) -> Any:
    return None if n is None else (n,)


@linear("x")
def fft_vjp(g: Any, x: Any, n: Any = None, axis: int = -1, norm: Any = None) -> np.ndarray:
    """Adjoint of `x` in `fft(x, n, axis, norm)`."""
    return _dft_vjp(g, x, _one(n), (axis,), norm, False)


@linear("x")
def ifft_vjp(g: Any, x: Any, n: Any = None, axis: int = -1, norm: Any = None) -> np.ndarray:
    """Adjoint of `x` in `ifft(x, n, axis, norm)`."""
    return _dft_vjp(g, x, _one(n), (axis,), norm, True)


@linear("x")
def rfft_vjp(g: Any, x: Any, n: Any = None, axis: int = -1, norm: Any = None) -> np.ndarray:
    """Adjoint of the real `x` in `rfft(x, n, axis, norm)`."""
    return rfftn_vjp(g, x, _one(n), (axis,), norm)


@linear("x")
def irfft_vjp(g: Any, x: Any, n: Any = None, axis: int = -1, norm: Any = None) -> np.ndarray:
    """Adjoint of the half spectrum `x` in `irfft(x, n, axis, norm)`."""
    return irfftn_vjp(g, x, _one(n), (axis,), norm)


@linear("x")
def rfftn_vjp(g: Any, x: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """Adjoint of the real `x` in `rfftn(x, s, axes, norm)` (also rfft, rfft2)."""
    g = np.asarray(g)
    ax = _axes(np.ndim(x), s, axes)
    n = np.shape(x)[ax[-1]] if s is None else int(s[-1])
    full = _fit(g, {ax[-1]: n})          # the bins rfft dropped get no cotangent
    out = np.fft.fftn(full, axes=ax, norm=norm)
    if s is not None:
        out = _fit(out, _lengths(x, ax))
    return np.real(out)


@linear("x")
def irfftn_vjp(g: Any, x: Any, s: Any = None, axes: Any = None, norm: Any = None) -> np.ndarray:
    """Adjoint of the half spectrum `x` in `irfftn(x, s, axes, norm)` (also irfft, irfft2)."""
    g = np.asarray(g)
    ax = _axes(np.ndim(x), s, axes)
    n = g.shape[ax[-1]]                     # the output length of the last axis
    m = n // 2 + 1                          # the bins irfft reads
    out = np.fft.ifftn(g, axes=ax, norm=norm)
    out = np.take(out, np.arange(m), axis=ax[-1])
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    out = out * w.reshape((m,) + (1,) * (out.ndim - 1 - ax[-1]))
    return _fit(out, _lengths(x, ax))


@linear("x")
def ifftshift_of(g: Any, x: Any, axes: Any = None) -> np.ndarray:
    """Adjoint of `x` in `fftshift(x, axes)`: the inverse permutation."""
    return np.fft.ifftshift(g, axes=axes)


@linear("x")
def fftshift_of(g: Any, x: Any, axes: Any = None) -> np.ndarray:
    """Adjoint of `x` in `ifftshift(x, axes)`."""
    return np.fft.fftshift(g, axes=axes)


def freq_jvp(t: Any, ans: Any, n: int, full: bool) -> np.ndarray:
    """Tangent of `fftfreq(n, d)` (`full`) or `rfftfreq(n, d)` for the spacing's tangent
    t: -t * ans / d, with 1 / d read off the grid: its entry 1 is 1 / (n d), except
    fftfreq(2, d)'s, -1 / (2 d); a grid of one point is constant."""
    ans = np.asarray(ans)
    if ans.shape[0] < 2:
        return np.zeros(ans.shape)
    inv_d = n * ans[1] * (-1.0 if full and n == 2 else 1.0)
    return -t * ans * inv_d
