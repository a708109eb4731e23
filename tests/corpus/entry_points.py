"""Entry points (issue 9): one-line defs, a functools.wraps wrapper, methods bound to
an object or a class, and an lru_cache-wrapped function, each differentiated as the
caller calls it (self/cls bound; wrt counted in the bound signature)."""
import functools
import math

import numpy as np

from . import Case, samplers

_u, _n = samplers(__name__)


def one_line_return(x, y): return x * x * y + math.sin(y)  # noqa: E704


def one_line_suite(x, y): z = x * y; z = z * z; return z + x  # noqa: E702,E704


def one_line_blocks(x, n):
    s = 0.0
    for i in range(n): s = s + x * i  # noqa: E701
    if s > 0: s = s * x  # noqa: E701
    else: s = s - x * x  # noqa: E701
    return s


def _shifted(f):
    @functools.wraps(f)
    def shifted(x, y):
        return 3.0 * f(x, y) + x * y
    return shifted


@_shifted
def wraps_decorated(x, y):
    return np.sin(x) * y


class Spring:
    k = 2.0

    def __init__(self, c, w):
        self.c, self.w = c, w

    def energy(self, x, y):
        return self.c * x * x * y + np.sum(self.w * x)

    def chained(self, x):
        e = self.energy(x, 1.5)
        return e * x

    @classmethod
    def from_class(cls, x, y):
        return cls.k * np.exp(x * y)


SPRING = Spring(0.7, np.array([1.0, -2.0]))
bound_method = SPRING.energy
bound_method_calling_method = SPRING.chained
classmethod_of_class = Spring.from_class


@functools.lru_cache(maxsize=None)
def lru_cached(x, y):
    return x ** 3 * math.cos(y)


CASES = [
    Case(one_line_return, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(1, 2), _u(-2, -1))], sympy=True),
    Case(one_line_suite, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(1, 2), _u(-2, -1))], sympy=True),
    Case(one_line_blocks, 0, [(_u(0.5, 1), 3), (_u(-1, -0.5), 4)]),
    Case(wraps_decorated, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(1, 2), _u(-2, -1))]),
    Case(bound_method, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(1, 2), _u(-2, -1))]),
    Case(bound_method, "y", [(_u(-1, 1), _u(-1, 1))]),
    Case(bound_method_calling_method, 0, [(_u(-1, 1),), (_u(1, 2),)]),
    Case(classmethod_of_class, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(0, 1), _u(-1, 0))]),
    Case(lru_cached, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(1, 2), _u(-2, -1))]),
]
