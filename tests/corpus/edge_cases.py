"""Corner cases of the calling convention and of ordinary code: unused and
reassigned parameters, keyword-only parameters, empty loops, float32 inputs,
negative wrt positions, lists, loop variables used after the loop."""
import math

import numpy as np

from . import A, Case, samplers


def unused_parameter(x, y, z):
    return x * x + math.sin(x)


def unused_array_parameter(x, w):
    return math.exp(x)


def reassigned_parameter(x, y):
    x = x * 2.0
    y = y + x
    x = math.sin(x) * y
    return x + y


def reassigned_array_parameter(x):
    x = x * x
    x = np.sin(x) + x
    return np.sum(x)


def keyword_only(x, *, scale=2.0, shift=0.5):
    return scale * x * x + shift * math.cos(x)


def empty_loop(x, n):
    s = x * x
    for k in range(n):
        s = s * math.cos(k * x)
    return s


def empty_while(x, n):
    i = 0
    y = x
    while i < n:
        y = y * y
        i = i + 1
    return y + x


def loop_variable_after_loop(x, n):
    s = 0.0
    for k in range(n):
        s = s + x * k
    return s * k


def list_accumulation(x, n):
    terms = []
    for k in range(n):
        terms.append(x ** k / (k + 1.0))
    return sum(terms)


def list_literal_sum(x, y):
    parts = [x * y, math.sin(x), y * y]
    return sum(parts) + parts[0] * parts[2]


def float32_input(x):
    return np.sum(np.sin(x) * x)


def scalar_broadcast_into_array(a, b):
    v = np.ones(4) * a
    v = v + np.arange(4.0) * b
    return np.sum(v ** 3)


def zero_dim_array(x, y):
    return np.sum(x * y) + np.sum(np.exp(x))


def constant_output(x):
    c = 2.0
    return c * 3.0 + 0.0 * x


def same_value_twice(x):
    y = x
    z = x
    return y * z + y


def deep_chain(x):
    y = x
    for _ in range(60):
        y = math.sin(y) + 0.5 * y
    return y


def index_with_loop_counter_expression(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n // 2):
        s = s + x[2 * i] * x[2 * i + 1] - x[n - 1 - i]
    return s


def early_return_before_loop(x, quick):
    if quick:
        return x * x
    s = 0.0
    for k in range(4):
        s = s + x ** k
    return s


def reused_name_other_length(x, s):
    """`w` names windows of two lengths: their shapes must not be assumed equal."""
    w = x[:1]
    base = w * s
    w = x[:3]
    return np.sum(w * base) + np.sum(base * base)


def window_grows_in_loop(s, x):
    out = 0.0
    ref = x[:1]
    for k in range(2):
        w = x[: 3 * k + 1] * s
        if k == 0:
            ref = w
        out = out + np.sum(w * ref)
    return out


_u, _n = samplers(__name__)


CASES = [
    Case(reused_name_other_length, (0, 1), [(_n(4), 0.7), (_n(5), -1.2)]),
    Case(window_grows_in_loop, (0, 1), [(0.7, _n(4)), (-1.1, _n(6))]),
    Case(unused_parameter, (0, 1, 2), [(_u(-1, 1), 0.5, 2.0), (_u(-1, 1), -1.0, 3.0)], sympy=True),
    Case(unused_array_parameter, (0, 1), [(_u(-1, 1), _n(3)), (_u(-1, 1), _n(2, 2))]),
    Case(reassigned_parameter, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(-1, 1), _u(-1, 1))], sympy=True),
    Case(reassigned_array_parameter, 0, [(_n(4),), (_n(2, 3),)]),
    Case(keyword_only, ("x", "scale", "shift"), [A(_u(-1, 1)), A(_u(-1, 1), scale=_u(0, 2), shift=_u(-1, 1))],
         sympy=True),
    Case(empty_loop, 0, [(_u(-1, 1), 0), (_u(-1, 1), 3)]),
    Case(empty_while, 0, [(_u(-1, 1), 0), (_u(-1, 1), 2)]),
    Case(loop_variable_after_loop, 0, [(_u(-1, 1), 3), (_u(-1, 1), 5)]),
    Case(list_accumulation, 0, [(_u(-1, 1), 4), (_u(-1, 1), 1)]),
    Case(list_literal_sum, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(-1, 1), _u(-1, 1))], sympy=True),
    Case(float32_input, 0, [(_n(4).astype(np.float32),), (_n(2, 2).astype(np.float32),)], rtol=1e-4),
    Case(scalar_broadcast_into_array, (0, 1), [(_u(-1, 1), _u(-1, 1)), (_u(-1, 1), _u(-1, 1))]),
    Case(zero_dim_array, (0, 1), [(np.array(0.3), np.array(-1.2)), (np.array(1.1), _n(3))]),
    Case(constant_output, 0, [(1.5,), (-0.5,)], sympy=True),
    Case(same_value_twice, 0, [(_u(-1, 1),), (_u(-1, 1),)], sympy=True),
    Case(deep_chain, 0, [(_u(-1, 1),), (_u(1, 3),)]),
    Case(index_with_loop_counter_expression, 0, [(_n(6),), (_n(5),)]),
    Case(early_return_before_loop, 0, [(_u(-1, 1), True), (_u(-1, 1), False)]),
    Case(reassigned_parameter, -1, [(0.3, -0.7), A(x=1.1, y=0.4)]),
]


# ---- self-assignment (issue 9): `s = s` binds nothing new; its adjoint must not be lost
def self_assignment_of_a_copy(k, x):
    s = k
    s = s
    return s * x


def self_assignment_of_a_parameter(x):
    x = x
    return x * x + math.sin(x)


def self_assignment_of_an_array(u):
    u = u
    v = u * 2.0
    v = v
    return np.sum(v * u)


def self_assignment_in_a_loop(k, x):
    s = k
    for i in range(3):
        s = s
        s = s * x
        x = x
    return s


def self_assignment_in_branches(k, x):
    s = k * 2.0
    if x > 0.0:
        s = s
    else:
        s = s
        s = s + x
    return s * x


def self_assignment_in_a_tuple(k, x):
    s, t = k * x, x
    s, t = s, t
    return s * t


def self_assignment_in_a_helper(x, y):
    def scaled(a, b):
        a = a
        b = b
        return a * b
    return scaled(x, y) + scaled(y, x * x)


# ---- lists of constants whose entries are then assigned active values (issue 9)
def list_of_int_constants_assigned_by_index(x):
    L = [0, 0, 0]
    L[1] = x * 2.0
    L[2] = math.sin(x)
    L[0] = x + L[1]
    return L[0] + L[1] * L[2]


def list_of_constants_summed(x, y):
    L = [0, 1, 0]
    L[0] = x * y
    L[2] = y * y
    return sum(L) * x


def list_of_constants_to_array(x):
    L = [0, 0, 0]
    for i in range(3):
        L[i] = x[i] * x[i + 1]
    a = np.array(L)
    return np.sum(a * a)


def repeated_list_filled_in_a_loop(x):
    n = x.shape[0]
    L = [0] * n
    for i in range(n):
        L[i] = x[i] * x[i]
    return sum(L) + L[0] * L[n - 1]


def repeated_float_list_by_index(x):
    L = [0.0] * 3
    L[0] = x
    L[2] = x * x
    return L[0] * L[2] + L[1]


def list_recurrence_by_index(x):
    L = [1.0, 1.0, 1.0, 1.0]
    for i in range(1, 4):
        L[i] = L[i - 1] * x + 1.0
    return L[3]


CASES += [
    Case(self_assignment_of_a_copy, (0, 1), [(1.3, 0.7), (-0.4, 2.1)], sympy=True),
    Case(self_assignment_of_a_parameter, 0, [(1.3,), (-0.6,)], sympy=True),
    Case(self_assignment_of_an_array, 0, [(_n(3),), (_n(2, 2),)]),
    Case(self_assignment_in_a_loop, (0, 1), [(1.3, 0.7), (-0.4, 1.6)], sympy=True),
    Case(self_assignment_in_branches, (0, 1), [(1.3, 0.7), (1.3, -0.7)], sympy=True),
    Case(self_assignment_in_a_tuple, (0, 1), [(1.3, 0.7), (-0.4, 2.1)], sympy=True),
    Case(self_assignment_in_a_helper, (0, 1), [(1.3, 0.7), (-0.4, 2.1)], sympy=True),
    Case(list_of_int_constants_assigned_by_index, 0, [(0.7,), (-1.3,)], sympy=True),
    Case(list_of_constants_summed, (0, 1), [(0.7, 1.2), (-0.5, 0.3)], sympy=True),
    Case(list_of_constants_to_array, 0, [(_n(4),), (_n(6),)]),
    Case(repeated_list_filled_in_a_loop, 0, [(_n(4),), (_n(2),)]),
    Case(repeated_float_list_by_index, 0, [(0.7,), (-1.4,)], sympy=True),
    Case(list_recurrence_by_index, 0, [(0.7,), (-1.4,)], sympy=True),
]
