"""Straight-line scalar code: arithmetic, math functions, reassignment, defaults,
inactive arguments, constants and closures."""
import math

import numpy as np

from . import A, Case, rng_for, samplers

G = 9.81
OFFSET = 0.25
COEFFS = (1.5, -0.5, 0.25)


def polynomial(x, y):
    return x * x * y + 3.0 * x - y / 2.0 + 1.5


def reassigned(x, y):
    z = x * y
    z = math.sin(z) + x
    z = z * z
    return z


def reassigned_many(x, y):
    t = x + y
    t = t * x
    u = t - y
    t = u * u + t
    u = math.cos(t) * u
    t = u / (1.0 + t * t)
    return t + u


def augmented(x, y):
    s = x
    s += y
    s -= 0.5 * x
    s *= y
    s /= 1.0 + x * x
    s **= 2
    return s


def augmented_float_power(x, y):
    s = x * x + 1.0
    s **= 1.5
    s += y * s
    s -= x / y
    return s


def swap(a, b):
    a, b = b, a
    a = a * 2.0 + b
    a, b = b * a, a - b
    return a * b - b


def tuple_unpacking(x, y):
    u, v = x * y, x - y
    p, q = (u + v, u * v)
    return p * q + u / (1.0 + v * v)


def chained_targets(x):
    a = b = x * 2.0
    a = a + 1.0
    return a * b


def annotated(x: float, y: float) -> float:
    """A docstring, annotations and an annotated local."""
    z: float = x * x
    z = z + y
    return z * y


def unary_minus(x):
    y = -x
    z = -(y * y) + -math.sin(-x)
    return -z


def arithmetic(x, y):
    return x ** 3 - y ** 2 + x / y + 2.0 ** x + x ** y - 7 * y + 1


def floordiv_inactive(x, n):
    k = n // 2
    return x ** k + x * (n // 3)


def floordiv_zero_gradient(x):
    whole = x // 1.0
    frac = x - whole
    return frac * frac + 3.0 * whole


def trig(x):
    return math.sin(x) * math.cos(2.0 * x) + math.tan(x / 2.0)


def inverse_trig(x):
    return math.asin(x) + math.acos(x / 2.0) * math.atan(x)


def atan2_polar(y, x):
    r = math.hypot(x, y)
    theta = math.atan2(y, x)
    return r * theta + theta * theta


def hyperbolic(x):
    return math.sinh(x) - math.cosh(x / 2.0) * math.tanh(x)


def exponentials_and_logs(x):
    a = math.exp(x) + math.expm1(x / 3.0)
    b = math.log(x) + math.log1p(x) + math.log2(x) + math.log10(x)
    return a * b


def powers_and_roots(x, y):
    return math.sqrt(x) + math.pow(x, 2.5) + math.hypot(x, y) + math.pow(y, 3)


def absolute_value(x):
    return math.fabs(x) * x + math.fabs(x - 3.0)


def error_function(x):
    return math.erf(x) * x + math.erf(x * x)


def damped(x, k=2.0, c=0.5):
    return math.exp(-c * x) * math.cos(k * x)


def mixed_inactive(x, n, y, flag):
    base = x ** n * y
    return base + y if flag else base - x


def weighted(x, w):
    return x * w[0] + x * x * w[1] - w[2]


def projectile(v, theta):
    """Range of a projectile plus a module-level offset."""
    return v * v * math.sin(2.0 * theta) / G + OFFSET


def tuple_constants(x):
    return COEFFS[0] + COEFFS[1] * x + COEFFS[2] * x * x


def math_constants(x):
    return math.pi * x * x + math.e ** x


def make_scaled(c):
    def scaled(x):
        return c * math.sin(x) + c * c * x
    return scaled


def make_quadratic(a, b):
    def quadratic(x, y):
        return a * x * x + b * x * y + math.exp(a * y)
    return quadratic


scaled = make_scaled(3.0)
scaled_five = make_scaled(5.0)  # same source and name, another closure value
quadratic = make_quadratic(0.5, -1.25)


def conditional_expression(x, y):
    z = x * y if x > y else x + y
    return z * z


def conditional_flag(x, inverted):
    s = -x if inverted else x
    return math.exp(s) + s


def rational(x, y):
    return (x * x - y) / (1.0 + x * x + y * y)


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


def gaussian_pdf(x, mu, sigma):
    z = (x - mu) / sigma
    return math.exp(-0.5 * z * z) / (sigma * math.sqrt(2.0 * math.pi))


def kepler_unrolled(M, e):
    E = M
    E = M + e * math.sin(E)
    E = M + e * math.sin(E)
    E = M + e * math.sin(E)
    E = M + e * math.sin(E)
    return E


def np_on_scalars(x, y):
    return np.sin(x) * np.exp(y) + np.sqrt(x * x + 1.0) - np.tanh(y)


def integer_coefficients(x):
    return 2 * x + 1 - 3 * x * x


def midpoint_named_x_bar(x, y):
    """A user variable called x_bar (the usual name for a mean)."""
    x_bar = 0.5 * (x + y)
    return (x - x_bar) ** 2 + x_bar * y


# --- issue 9: powers at the edges (x == 0, y == 0, negative bases) ---
def power_edges(x, y):
    return x ** 0.0 + np.power(x, 0.0) * y + 0.0 ** y * x + np.power(0.0, y) + math.pow(x, 2.0) + x ** y


def integer_powers_at_zero(x):
    return x ** 2 + x ** 3 - 2.0 * x ** 4 + np.power(x, 2)


_r = rng_for(__name__)
_u, _ = samplers(__name__)


def _pairs(n, lo1, hi1, lo2, hi2):
    return [(_u(lo1, hi1), _u(lo2, hi2)) for _ in range(n)]


def _singles(n, lo, hi):
    return [(_u(lo, hi),) for _ in range(n)]


CASES = [
    Case(polynomial, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(reassigned, (0, 1), _pairs(3, -1.5, 1.5, -1.5, 1.5), sympy=True),
    Case(reassigned_many, ("x", "y"), _pairs(3, -1, 1, -1, 1), sympy=True),
    Case(augmented, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(augmented_float_power, (0, 1), _pairs(3, -2, 2, 0.5, 2), sympy=True),
    Case(swap, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(tuple_unpacking, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(chained_targets, 0, _singles(2, -2, 2), sympy=True),
    Case(annotated, (0, 1), _pairs(2, -2, 2, -2, 2), sympy=True),
    Case(unary_minus, 0, _singles(3, -2, 2), sympy=True),
    Case(arithmetic, (0, 1), _pairs(3, 0.5, 2, 0.5, 2), sympy=True),
    Case(floordiv_inactive, 0, [(_u(0.5, 2), 5), (_u(0.5, 2), 8)], sympy=True),
    Case(floordiv_zero_gradient, 0, [(2.3,), (-1.6,), (0.45,)]),
    Case(trig, 0, _singles(3, -1.2, 1.2), sympy=True),
    Case(inverse_trig, 0, _singles(3, -0.9, 0.9), sympy=True),
    Case(atan2_polar, (0, 1), _pairs(2, 0.2, 2, 0.2, 2) + _pairs(2, -2, -0.2, -2, -0.2), sympy=True),
    Case(hyperbolic, 0, _singles(3, -2, 2), sympy=True),
    Case(exponentials_and_logs, 0, _singles(3, 0.2, 3), sympy=True),
    Case(powers_and_roots, (0, 1), _pairs(3, 0.2, 3, -2, 2), sympy=True),
    Case(absolute_value, 0, [(-1.3,), (0.7,), (4.2,)], sympy=True),
    Case(error_function, 0, _singles(3, -1.5, 1.5), sympy=True),
    Case(damped, "x", [(_u(0, 3),), (_u(0, 3), 1.5)], sympy=True),
    Case(damped, ("k", "c"), [(_u(0, 3),), A(_u(0, 3), k=_u(1, 3), c=_u(0, 1)), A(1.2, 0.7, c=0.3)],
         sympy=True),
    Case(mixed_inactive, (0, 2), [(_u(0.5, 2), 3, _u(-1, 1), True), (_u(0.5, 2), 2, _u(-1, 1), False)],
         sympy=True),
    Case(mixed_inactive, ("y",), [(1.3, 4, -0.5, True)], sympy=True),
    Case(weighted, 0, [(_u(-1, 1), _r.normal(size=3)), (_u(-1, 1), _r.normal(size=3))], sympy=True),
    Case(projectile, (0, 1), _pairs(3, 1, 20, 0.1, 1.4), sympy=True),
    Case(tuple_constants, 0, _singles(2, -2, 2), sympy=True),
    Case(math_constants, 0, _singles(2, -1, 2), sympy=True),
    Case(scaled, 0, _singles(3, -2, 2), sympy=True),
    Case(scaled_five, 0, _singles(2, -2, 2), sympy=True),
    Case(quadratic, (0, 1), _pairs(3, -1, 1, -1, 1), sympy=True),
    Case(conditional_expression, (0, 1), [(1.5, 0.3), (-0.4, 0.9), (0.2, -1.1)]),
    Case(conditional_flag, 0, [(_u(-1, 1), True), (_u(-1, 1), False)], sympy=True),
    Case(rational, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(logistic, 0, _singles(3, -4, 4), sympy=True),
    Case(softplus, 0, _singles(3, -4, 4), sympy=True),
    Case(gaussian_pdf, (0, 1, 2), [(_u(-2, 2), _u(-1, 1), _u(0.5, 2)) for _ in range(3)], sympy=True),
    Case(kepler_unrolled, (0, 1), _pairs(3, 0, 3, 0, 0.6), sympy=True),
    Case(np_on_scalars, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(integer_coefficients, 0, _singles(2, -2, 2), sympy=True),
    Case(midpoint_named_x_bar, (0, 1), _pairs(2, -2, 2, -2, 2), sympy=True),
    Case(power_edges, (0, 1), [(0.0, 2.0), (0.0, 3.0), (1.3, 0.7), (2.0, 2.0)]),
    Case(integer_powers_at_zero, 0, [(0.0,), (-1.5,), (-0.3,), (2.0,)], sympy=True),
]
