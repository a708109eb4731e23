"""Complex intermediates, np.fft and the special functions (lgamma, gamma, digamma).

* RULE_CASES: the inner-product test of every new rule, with real and complex inputs
  (tests/test_rules.py adds them to its table, so test_tangent_rules.py checks their
  tangents against finite differences and against the VJP too).
* End to end: gradients of real functions of real inputs with complex intermediates
  (spectral solvers, power spectra, FFT convolutions, complex arithmetic) against
  central finite differences; forward mode (jvp, jacfwd) and second order (hessian,
  grad of grad) likewise; refusals located.
* digamma/trigamma against scipy.special and mpmath; math.lgamma/gamma against SymPy.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special

import adjointc
from adjointc import grad, hessian, jacfwd, jvp, value_and_grad
from adjointc.errors import AdjointcError, TypeMismatch
from adjointc.rules.helpers import spectral as S
from adjointc.rules.helpers.special import digamma, trigamma
from adjointc.rules.testing import check_jvp, check_transpose, check_vjp

RNG = np.random.default_rng(11)


def R(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def Z(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def case(fn, *args, id: str, wrt=None, **kwargs):
    return pytest.param(fn, args, kwargs, wrt, id=id)


FFT = np.fft
RULE_CASES = [
    case(np.imag, Z(3, 4), id="imag"), case(np.imag, R(3), id="imag-of-real"),
    case("attr:imag", Z(4), id="attr-imag"), case("method:conjugate", Z(2, 3), id="method-conjugate"),
    case("method:conj", Z(3), id="method-conj"), case(np.real, Z(3), id="real-of-complex"),
    case(np.conjugate, Z(3), id="conj-of-complex"), case(np.angle, Z(5), id="angle"),
    case(np.angle, Z(3), deg=True, id="angle-deg"), case(np.angle, R(3), id="angle-of-real"),
    case(complex, 0.3, -0.7, id="complex-builtin"), case(np.absolute, Z(2, 3), id="abs-of-complex"),
    case(abs, complex(0.6, -0.8), id="abs-builtin-complex"), case("attr:real", Z(3), id="attr-real-complex"),
    case(np.exp, Z(3), id="exp-complex"), case("mul", Z(3), R(3), id="mul-complex-real"),
    case(np.einsum, "ij,jk->ik", Z(2, 3), Z(3, 2), id="einsum-complex"), case(np.dot, Z(3), Z(3), id="dot-complex"),
    case(np.outer, Z(2), Z(3), id="outer-complex"), case(np.cumsum, Z(4), id="cumsum-complex"),
    case(np.tan, 0.3 * Z(3), id="tan-complex"), case("pow", Z(3), 2.5, id="pow-complex-base"),
    case("pow", Z(3), Z(3), id="pow-complex"), case(np.mean, Z(2, 3), axis=0, id="mean-complex"),
    case("matmul", Z(2, 3), Z(3), id="matmul-complex"), case(np.log, Z(3), id="log-complex"),
    case(np.where, np.array([True, False, True]), Z(3), Z(3), id="where-complex"),
    case(np.concatenate, [Z(2), Z(3)], id="concatenate-complex"), case(np.trace, Z(3, 3), id="trace-complex"),
    case("truediv", R(3), Z(3), id="div-real-complex"), case(np.sqrt, Z(4), id="sqrt-complex"),
    case(FFT.fft, R(8), id="fft-real"), case(FFT.fft, Z(8), id="fft"), case(FFT.fft, Z(6), n=9, id="fft-n-pad"),
    case(FFT.fft, Z(3, 8), n=5, axis=1, id="fft-n-cut"), case(FFT.fft, Z(5, 3), axis=0, norm="ortho", id="fft-axis0-ortho"),
    case(FFT.fft, R(7), norm="forward", id="fft-forward"),
    case(FFT.ifft, Z(8), id="ifft"), case(FFT.ifft, Z(4, 6), n=8, axis=0, norm="ortho", id="ifft-n-axis"),
    case(FFT.rfft, R(8), id="rfft-even"), case(FFT.rfft, R(7), id="rfft-odd"),
    case(FFT.rfft, R(3, 6), n=9, axis=1, id="rfft-n-pad"), case(FFT.rfft, R(10, 2), n=6, axis=0, norm="ortho", id="rfft-n-cut"),
    case(FFT.irfft, Z(5), id="irfft"), case(FFT.irfft, Z(5), n=9, id="irfft-odd-n"),
    case(FFT.irfft, Z(4), n=10, norm="forward", id="irfft-pad"), case(FFT.irfft, Z(3, 6), n=6, axis=0, id="irfft-cut-axis0"),
    case(FFT.fft2, Z(4, 6), id="fft2"), case(FFT.ifft2, Z(4, 5), s=(6, 3), id="ifft2-s"),
    case(FFT.fftn, R(3, 4, 5), id="fftn-real"), case(FFT.ifftn, Z(3, 4), axes=(0,), norm="ortho", id="ifftn-axes"),
    case(FFT.rfft2, R(4, 6), id="rfft2"), case(FFT.irfft2, Z(4, 4), id="irfft2"),
    case(FFT.rfftn, R(3, 4, 5), s=(4, 6), axes=(1, 2), id="rfftn-s"),
    case(FFT.irfftn, Z(3, 4), s=(5, 7), axes=(0, 1), id="irfftn-s"),
    case(FFT.fftshift, R(7), id="fftshift"), case(FFT.fftshift, Z(4, 5), axes=1, id="fftshift-axes"),
    case(FFT.ifftshift, R(4, 5), id="ifftshift"), case(FFT.ifftshift, Z(6), id="ifftshift-complex"),
    case(FFT.fftfreq, 8, 0.3, id="fftfreq"), case(FFT.fftfreq, 2, -0.5, id="fftfreq-2"),
    case(FFT.fftfreq, 7, 1.7, id="fftfreq-odd"), case(FFT.rfftfreq, 9, 0.25, id="rfftfreq"),
    case(FFT.rfftfreq, 2, 0.5, id="rfftfreq-2"),
]


@pytest.mark.parametrize("fn, args, kwargs, wrt", RULE_CASES)
def test_rule(fn, args, kwargs, wrt):
    check_vjp(fn, args, kwargs, wrt=wrt)
    check_jvp(fn, args, kwargs, wrt=wrt)
    check_transpose(fn, args, kwargs, wrt=wrt)


# The helpers generated adjoints call (rules/generated_spectral.py, rules/special.py):
# (fn, args), as tests/test_generated_rules.py runs them (it imports this table).
HELPER_CASES = [
    (S.fft_vjp, (Z(8), R(8), None, -1, None)), (S.fft_vjp, (Z(3, 9), Z(3, 6), 9, 1, "ortho")),
    (S.ifft_vjp, (Z(5, 3), R(7, 3), 5, 0, None)), (S.fftn_vjp, (Z(4, 6), R(4, 5), (4, 6), None, None)),
    (S.ifftn_vjp, (Z(3, 4), Z(3, 4), None, (0,), "forward")),
    (S.rfft_vjp, (Z(5), R(8), None, -1, None)), (S.rfft_vjp, (Z(2, 5), R(2, 6), 9, 1, "ortho")),
    (S.rfftn_vjp, (Z(4, 4), R(4, 6), None, None, None)),
    (S.irfft_vjp, (R(8), Z(5), None, -1, None)), (S.irfft_vjp, (R(9), Z(4), 9, -1, "ortho")),
    (S.irfftn_vjp, (R(4, 6), Z(4, 3), (4, 6), (0, 1), None)),
    (S.fft_fit, (Z(6), Z(8), -1, None)), (S.ifft_fit, (Z(3, 5), Z(3, 4), 1, "ortho")),
    (S.fftn_fit, (Z(4, 5), Z(4, 6), None, None, None)), (S.ifftn_fit, (Z(3, 4), Z(5, 4), None, (0,), None)),
    (S.fftshift_of, (R(7), R(7), None)), (S.ifftshift_of, (Z(4, 5), Z(4, 5), 1)),
    (S.csign, (Z(5),)), (S.csign, (R(4),)), (S.dangle, (Z(4),)), (S.dangle, (Z(3), True)), (digamma, (np.array([0.3, 2.5, -1.5, 14.0]),)),
]


@pytest.mark.parametrize("fn, args", HELPER_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_helper_rule(fn, args):
    check_vjp(fn, args)
    check_jvp(fn, args)
    check_transpose(fn, args)


# ---------------------------------------------------------------- end to end
def fd_grad(f, args, i, h=1e-6):
    """Central differences (4 points) of f with respect to its argument i."""
    x = args[i]
    def at(v):
        a = list(args)
        a[i] = v
        return f(*a)
    if np.ndim(x) == 0:
        return (8 * (at(x + h) - at(x - h)) - (at(x + 2 * h) - at(x - 2 * h))) / (12 * h)
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (8 * (at(x + e) - at(x - e)) - (at(x + 2 * e) - at(x - 2 * e))) / (12 * h)
    return g


def assert_grad(f, args, wrt, rtol=1e-7, atol=1e-8):
    g = grad(f, wrt=wrt)(*args)
    g = g if isinstance(g, tuple) else (g,)
    for gi, i in zip(g, wrt):
        want = fd_grad(f, args, i)
        assert np.asarray(gi).dtype.kind == "f" and np.shape(gi) == np.shape(args[i])
        np.testing.assert_allclose(gi, want, rtol=rtol, atol=atol * max(1.0, np.max(np.abs(want))))


def heat_spectral(u, decay, steps):
    n = u.shape[0]
    for _ in range(steps):
        u = np.fft.irfft(np.fft.rfft(u) * decay, n)
    return np.sum(u * u)


def power_spectrum(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def fft_convolution(x, k):
    y = np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(k)))
    return np.sum(y * y * np.arange(y.shape[0]))


def complex_arithmetic(x, y):
    z = x + 1j * y
    w = np.exp(z) * np.conj(z) / (2.0 + z * z)
    return np.real(np.sum(w * np.conj(w))) + np.sum(np.angle(z)) + np.sum(np.imag(w)) + np.sum(np.abs(np.sin(z)))


def complex_scalars(a, b):
    z = complex(a, b)
    w = z * z + 1j * a
    u = w.conjugate() * (1 - 2j)
    return abs(w) + w.real * w.imag + z.conjugate().imag + u.imag + math.sqrt(abs(u))


def spectral_derivative(u, L):
    n = u.shape[0]
    k = 2 * np.pi * np.fft.fftfreq(n, d=L / n)
    du = np.real(np.fft.ifft(1j * k * np.fft.fft(u)))
    return np.sum(du ** 2)


def heat_2d(u, nu):
    ky = np.fft.fftfreq(u.shape[0])
    kx = np.fft.rfftfreq(u.shape[1])
    decay = np.exp(-nu * (ky[:, None] ** 2 + kx[None, :] ** 2))
    for _ in range(2):
        u = np.fft.irfft2(np.fft.rfft2(u) * decay, s=u.shape)
    return np.sum(u ** 3)


def shifted_spectrum(x):
    X = np.fft.fftshift(np.fft.fftn(x, norm="ortho"))
    Y = np.fft.ifftshift(X * np.conj(X))
    return np.real(np.sum(Y * np.arange(Y.size).reshape(Y.shape)))


def complex_array_writes(x):
    n = x.shape[0]
    z = np.zeros(n, dtype="complex128")
    for i in range(n):
        z[i] = x[i] * np.exp(1j * x[i] * i)
    s = 0.0
    for i in range(n):
        s = s + abs(z[i]) ** 2 + z[i].real
    return s + np.sum(np.real(np.fft.fft(z, n=2 * n)) ** 2)


def with_helper(x):
    return np.sum(_band(np.fft.rfft(x), x.shape[0]) ** 2)


def _band(X, n):
    X = X * (np.arange(X.shape[0]) < 3)
    return np.fft.irfft(X, n)


E2E = [
    (heat_spectral, (R(16), np.exp(-0.1 * np.arange(9.0)), 3), (0, 1)),
    (power_spectrum, (R(9),), (0,)),
    (fft_convolution, (R(8), R(8)), (0, 1)),
    (complex_arithmetic, (R(6), R(6)), (0, 1)),
    (complex_scalars, (0.3, -0.7), (0, 1)),
    (spectral_derivative, (R(10), 3.0), (0, 1)),
    (heat_2d, (R(6, 8), 0.7), (0, 1)),
    (shifted_spectrum, (R(3, 4),), (0,)),
    (complex_array_writes, (R(5),), (0,)),
    (with_helper, (R(10),), (0,)),
]


@pytest.mark.parametrize("f, args, wrt", E2E, ids=[c[0].__name__ for c in E2E])
def test_gradient_matches_finite_differences(f, args, wrt):
    assert_grad(f, args, wrt)


@pytest.mark.parametrize("f, args, wrt", E2E, ids=[c[0].__name__ for c in E2E])
def test_forward_mode_matches_finite_differences(f, args, wrt):
    dirs = tuple(R(*np.shape(a)) if i in wrt and np.ndim(a) else (0.7 if i in wrt else None)
                 for i, a in enumerate(args))
    _, t = jvp(f, args, dirs)
    h = 1e-6
    def at(s):
        return f(*[a + s * d if d is not None else a for a, d in zip(args, dirs)])
    want = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
    assert np.isclose(t, want, rtol=1e-6, atol=1e-7)


def test_jacfwd_of_a_power_spectrum_is_its_gradient():
    x = R(7)
    np.testing.assert_allclose(jacfwd(power_spectrum)(x), grad(power_spectrum)(x), rtol=1e-12, atol=1e-12)


def _fd_hessian(f, x, h=1e-5):
    g = grad(f)
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def spectrum_mix(x):
    X = np.fft.rfft(x)
    Y = np.fft.irfft(X * 1j, 10)
    return np.sum(np.real(X * np.conj(X))) + np.sum(np.abs(Y) ** 2) + np.sum(np.abs(np.fft.fftshift(np.fft.ifft(x, 6))))


@pytest.mark.parametrize("f", [power_spectrum, spectrum_mix, fft_convolution])
def test_second_order(f):
    x = R(8)
    fx = _conv_fixed if f is fft_convolution else f
    H = hessian(fx)(x)
    np.testing.assert_allclose(H, _fd_hessian(fx, x), rtol=1e-6, atol=1e-6 * np.max(np.abs(H)))
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-10 * np.max(np.abs(H)))


def _conv_fixed(x):   # (the kernel fixed: a function of one array)
    return fft_convolution(x, np.linspace(0.1, 0.8, 8))


def test_grad_of_grad_of_a_power_spectrum():
    gf = grad(power_spectrum)

    def dir_deriv(x):
        return np.sum(gf(x) * np.linspace(-1.0, 1.0, 6))
    x = R(6)
    got = grad(dir_deriv)(x)
    np.testing.assert_allclose(got, fd_grad(dir_deriv, (x,), 0, h=1e-5), rtol=1e-6, atol=1e-6)


def test_real_input_gradient_is_real_and_source_takes_real_parts():
    f = grad(fft_convolution, wrt=(0, 1))
    gx, gk = f(R(8), R(8))
    assert gx.dtype == np.float64 and gk.dtype == np.float64
    assert "np.real(" in f.source


def test_value_and_grad_of_a_complex_intermediate():
    x = R(5)
    v, g = value_and_grad(power_spectrum)(x)
    assert v == pytest.approx(power_spectrum(x)) and isinstance(v, float)
    np.testing.assert_allclose(g, 2 * x.size * x, rtol=1e-12)   # Parseval: sum |X|^2 = n sum x^2


# ------------------------------------------------------------------- refusals
def complex_maximum(x):
    z = x * 1j + x
    return np.sum(np.abs(np.maximum(z, 1.0)))


def complex_decomposition(x):
    a = np.outer(x, x) * (1 + 1j)
    return np.sum(np.abs(np.linalg.svd(a, compute_uv=False)))


def angle_twice(x):
    return np.sum(np.angle(x + 1j * x * x))


@pytest.mark.parametrize("f", [complex_maximum, complex_decomposition])
def test_refused_with_a_location(f):
    with pytest.raises(TypeMismatch) as e:
        grad(f)(R(3))
    assert "test_complex_fft.py" in str(e.value) and "complex" in str(e.value)


@pytest.mark.parametrize("f", [complex_maximum, complex_decomposition])
def test_refused_with_a_location_in_forward_mode(f):
    with pytest.raises(TypeMismatch) as e:
        jvp(f, (R(3),), (R(3),))
    assert "test_complex_fft.py" in str(e.value)


def abs_of_unknown_dtype(x):
    z = np.zeros(x.shape[0], dtype=_DTYPE)   # (a dtype the types cannot read: may be complex)
    z[0] = x[0] * (1.0 + 2.0j)
    z[1:] = x[1:] * 1j
    return np.sum(np.abs(z) ** 3)


_DTYPE = "complex128"   # (a module constant: read when the function runs)


def test_abs_of_an_array_that_may_be_complex_takes_the_complex_rule():
    assert_grad(abs_of_unknown_dtype, (R(4),), (0,))


def test_second_derivative_through_angle():
    x = R(4)
    assert_grad(angle_twice, (x,), (0,))
    H = hessian(angle_twice)(x)
    np.testing.assert_allclose(H, _fd_hessian(angle_twice, x), rtol=1e-6, atol=1e-6)


def test_complex_input_is_refused():
    with pytest.raises(AdjointcError):
        grad(power_spectrum)(Z(4))


# ---------------------------------------------------------- special functions
def test_digamma_trigamma_against_scipy():
    x = np.concatenate([np.geomspace(1e-8, 1e8, 3000), -np.linspace(0.013, 30.5, 3000)])
    x = x[x != np.round(x)]
    for mine, ref in ((digamma, scipy.special.digamma), (trigamma, lambda v: scipy.special.polygamma(1, v))):
        a, b = mine(x), ref(x)
        far = np.abs(x - np.round(x)) > 1e-3     # (scipy loses digits next to the poles)
        err = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
        assert err[far].max() < 1e-13 and np.median(err) < 1e-15, mine.__name__
    mpmath.mp.dps = 30   # where scipy is off by 1e-13 (x < 0), mpmath says we are not
    for v in x[::60]:
        assert digamma(v) == pytest.approx(float(mpmath.digamma(v)), rel=1e-14, abs=1e-14)
        assert trigamma(v) == pytest.approx(float(mpmath.psi(1, v)), rel=1e-14)


def test_digamma_trigamma_near_poles_and_root_against_mpmath():
    mpmath.mp.dps = 30
    for x in (-1.9999999, -3.0000001, -0.5, -7.25, 1.4616321449683622, 1e-9, 0.5, 37.5):
        assert digamma(x) == pytest.approx(float(mpmath.digamma(x)), rel=1e-14, abs=1e-14)
        assert trigamma(x) == pytest.approx(float(mpmath.psi(1, x)), rel=1e-14)
    assert math.isnan(digamma(0.0)) and math.isnan(trigamma(-3.0))
    assert isinstance(digamma(2.5), float) and digamma(np.array([1.0, 2.0])).shape == (2,)


def lgamma_mix(a, b):
    return math.lgamma(a * b) + math.gamma(a) * math.lgamma(b + 0.5) + math.lgamma(-a - 0.3)


def test_lgamma_gamma_against_sympy():
    import sympy as S
    a, b = S.symbols("a b")
    expr = S.loggamma(a * b) + S.gamma(a) * S.loggamma(b + S.Rational(1, 2)) + S.loggamma(-a - S.Rational(3, 10))
    pt = {a: 1.3, b: 2.1}
    ga, gb = grad(lgamma_mix, wrt=(0, 1))(1.3, 2.1)
    assert ga == pytest.approx(float(S.diff(expr, a).subs(pt).evalf(30)), rel=1e-12)
    assert gb == pytest.approx(float(S.diff(expr, b).subs(pt).evalf(30)), rel=1e-12)


def lgamma_sum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + math.lgamma(x[i]) * (i + 1)
    return s


def test_lgamma_second_derivative_is_trigamma():
    x = np.array([0.7, 2.5, 11.0])
    H = hessian(lgamma_sum)(x)
    np.testing.assert_allclose(np.diag(H), [(i + 1) * float(mpmath.psi(1, v)) for i, v in enumerate(x)], rtol=1e-12)
    np.testing.assert_allclose(H - np.diag(np.diag(H)), 0.0, atol=0)


def test_check_accepts_complex_intermediates():
    adjointc.check(heat_spectral, R(8), np.exp(-0.2 * np.arange(5.0)), 2)


def multigammaln(a, p):
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out = out + math.lgamma(a + 0.5 * (1 - j))
    return out


def test_multigammaln_by_lgamma_first_and_second_derivatives():
    a, p = 2.7, 4
    assert multigammaln(a, p) == pytest.approx(scipy.special.multigammaln(a, p), rel=1e-14)
    want1 = sum(float(mpmath.digamma(a + 0.5 * (1 - j))) for j in range(1, p + 1))
    want2 = sum(float(mpmath.psi(1, a + 0.5 * (1 - j))) for j in range(1, p + 1))
    assert grad(multigammaln)(a, p) == pytest.approx(want1, rel=1e-13)
    assert grad(grad(multigammaln))(a, p) == pytest.approx(want2, rel=1e-13)


def _through_an_untyped_sum(a, x):
    """Found by the fuzzer: `s` (a sum over a dict's values) has no type the transform can
    read; its adjoint gets a complex contribution from `1j * s`, which must be real when s
    is (it crashed casting complex into x_bar)."""
    d = {}
    d["a"] = np.sin(np.concatenate([x[:1], x[1:]]))
    d2 = {k: v - 0.1 * math.cos(((a - 0.5j) ** 3).real) * v for k, v in d.items()}
    s = sum(np.sum(v) for v in d2.values())
    x[-3] *= ((a + 1j * s) * (0.5 - 2j)).imag
    return np.sum(np.sin(x))


def test_a_complex_contribution_to_a_value_of_unknown_type_is_real_where_the_value_is():
    from adjointc import grad as _grad
    for a, x in ((0.007, np.array([1.3, 0.67, 1.0, -1.1, 0.99])), (-0.4, np.array([0.2, -0.5, 0.8]))):
        ga, gx = _grad(_through_an_untyped_sum, wrt=(0, 1))(a, x.copy())
        e = 1e-6
        fa = (_through_an_untyped_sum(a + e, x.copy()) - _through_an_untyped_sum(a - e, x.copy())) / (2 * e)
        fx = [(_through_an_untyped_sum(a, x + e * u) - _through_an_untyped_sum(a, x - e * u)) / (2 * e)
              for u in np.eye(len(x))]
        assert isinstance(ga, float) and gx.dtype == np.float64
        assert ga == pytest.approx(fa, rel=1e-6, abs=1e-8)
        assert np.allclose(gx, fx, rtol=1e-6, atol=1e-8)

