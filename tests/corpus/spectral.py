"""Spectral methods and complex arithmetic in real functions of real inputs: FFT
solvers (heat, advection, Burgers, Poisson), power spectra, FFT convolutions and
filters, complex exponentials and phasors; and the special functions lgamma/gamma."""
import math

import numpy as np

from . import Case, rng_for

_r = rng_for("spectral")


def _n(*shape):
    return _r.standard_normal(shape)


def spectral_heat(u0, nu, dt):
    n = u0.shape[0]
    k = 2 * np.pi * np.fft.rfftfreq(n, d=1.0 / n)
    decay = np.exp(-nu * k * k * dt)
    u = u0.copy()
    for _ in range(4):
        u = np.fft.irfft(np.fft.rfft(u) * decay, n)
    return np.sum(u * u * np.linspace(0.0, 1.0, n))


def spectral_advection(u0, c):
    n = u0.shape[0]
    k = 2 * np.pi * np.fft.fftfreq(n)
    shift = np.exp(-1j * k * c)
    u_hat = np.fft.fft(u0)
    for _ in range(3):
        u_hat = u_hat * shift
    u = np.real(np.fft.ifft(u_hat))
    return np.sum(u ** 3)


def pseudo_spectral_burgers(u0, nu):
    n = u0.shape[0]
    k = np.fft.rfftfreq(n, d=1.0 / n)
    u = u0
    for _ in range(3):
        u_hat = np.fft.rfft(u)
        ux = np.fft.irfft(1j * k * u_hat, n)
        uxx = np.fft.irfft(-k * k * u_hat, n)
        u = u + 0.01 * (nu * uxx - u * ux)
    return np.sum(u * u)


def poisson_periodic_2d(f):
    ny, nx = f.shape
    ky = np.fft.fftfreq(ny)[:, None]
    kx = np.fft.rfftfreq(nx)[None, :]
    k2 = ky * ky + kx * kx
    k2[0, 0] = 1.0
    phi_hat = np.fft.rfft2(f) / k2
    phi_hat[0, 0] = 0.0
    phi = np.fft.irfft2(phi_hat, s=f.shape)
    return np.sum(phi * f) + np.sum(phi ** 2)


def power_spectrum_peak(x):
    p = np.abs(np.fft.rfft(x)) ** 2
    w = np.arange(p.shape[0]) + 1.0
    return np.sum(w * p) / np.sum(p)


def circular_convolution(x, kernel):
    y = np.fft.ifft(np.fft.fft(x) * np.fft.fft(kernel))
    return np.sum(np.real(y) ** 2) + np.sum(np.imag(y) ** 2)


def low_pass_filter(x, cutoff):
    X = np.fft.fftshift(np.fft.fft(x))
    f = np.fft.fftshift(np.fft.fftfreq(x.shape[0]))
    H = 1.0 / (1.0 + (f / cutoff) ** 4)
    y = np.fft.ifft(np.fft.ifftshift(X * H))
    return np.sum(np.abs(y) ** 2)


def zero_padded_spectrum(x):
    X = np.fft.fft(x, n=2 * x.shape[0], norm="ortho")
    return np.sum(np.abs(X[1:5]))


def phasor_sum(amp, phase):
    z = amp * np.exp(1j * phase)
    s = np.sum(z)
    return abs(s) ** 2 + np.angle(s) + s.real * s.imag


def complex_scalar_recurrence(a, b):
    z = complex(a, b)
    w = 1.0 + 0.0j
    for _ in range(5):
        w = w * z + 0.1j
    return w.real + abs(w) + (w * w.conjugate()).real


def complex_matrix_product(A, x):
    Z = A + 1j * A.T
    y = Z @ x
    return np.real(np.sum(y * np.conj(y)))


def spectral_2d_gradient_energy(u):
    U = np.fft.fft2(u)
    ky = 2 * np.pi * np.fft.fftfreq(u.shape[0])[:, None]
    kx = 2 * np.pi * np.fft.fftfreq(u.shape[1])[None, :]
    ux = np.real(np.fft.ifft2(1j * kx * U))
    uy = np.real(np.fft.ifft2(1j * ky * U))
    return np.sum(ux * ux + uy * uy)


def log_likelihood_gamma(x, shape, rate):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + shape * math.log(rate) - math.lgamma(shape) + (shape - 1) * math.log(x[i]) - rate * x[i]
    return s


def beta_function(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b) + math.gamma(a) / math.gamma(b)


CASES = [
    Case(spectral_heat, (0, 1, 2), [(_n(16), 0.05, 0.1), (_n(9), 0.2, 0.05)]),
    Case(spectral_advection, (0, 1), [(_n(8), 0.3), (_n(11), -1.7)]),
    Case(pseudo_spectral_burgers, (0, 1), [(_n(16), 0.3), (_n(8), 0.1)]),
    Case(poisson_periodic_2d, 0, [(_n(4, 6),), (_n(5, 5),)]),
    Case(power_spectrum_peak, 0, [(_n(10),), (_n(7),)]),
    Case(circular_convolution, (0, 1), [(_n(8), _n(8)), (_n(5), _n(5))]),
    Case(low_pass_filter, (0, 1), [(_n(12), 0.2), (_n(9), 0.35)]),
    Case(zero_padded_spectrum, 0, [(_n(6),), (_n(4),)]),
    Case(phasor_sum, (0, 1), [(_n(5), _n(5)), (_n(3), _n(3))]),
    Case(complex_scalar_recurrence, (0, 1), [(0.6, -0.4), (-0.9, 0.3)]),
    Case(complex_matrix_product, (0, 1), [(_n(3, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(spectral_2d_gradient_energy, 0, [(_n(4, 6),), (_n(3, 3),)]),
    Case(log_likelihood_gamma, (0, 1, 2), [(np.abs(_n(5)) + 0.5, 2.5, 1.3), (np.abs(_n(3)) + 0.1, 0.7, 0.4)]),
    Case(beta_function, (0, 1), [(1.5, 2.5), (0.3, 4.0), (7.0, 0.8)]),
]
