"""Branches: if/elif/else on data and on flags, nested ifs, early returns,
conditional expressions."""
import math

import numpy as np

from . import Case, samplers

THRESHOLD = 1.0


def piecewise(x):
    if x < -1.0:
        y = -x - 0.5
    elif x < 1.0:
        y = 0.5 * x * x
    else:
        y = x - 0.5
    return y * math.exp(0.1 * x)


def branch_on_flag(x, y, use_log):
    if use_log:
        z = math.log(x) * y
    else:
        z = x * y
    return z + x


def branch_on_int(x, mode):
    if mode == 0:
        r = math.sin(x)
    elif mode == 1:
        r = math.cos(x)
    else:
        r = x ** mode
    return r * x


def nested_ifs(x, y):
    if x > 0.0:
        if y > 0.0:
            r = x * y
        else:
            r = x - y * y
    else:
        if y > x:
            r = math.exp(x) * y
        else:
            r = x + y
    return r


def early_return(x):
    if x > 0.0:
        return x * x + 1.0
    return math.exp(x)


def early_return_two(x, y):
    s = x + y
    if s > 2.0:
        return s * s
    if s < -2.0:
        return -s
    t = math.sin(s) * x
    return t + y


def assigned_in_one_arm(x, y):
    z = x * 2.0
    if y > 0.5:
        z = z * y + x
    return z * z


def huber(r, delta=1.0):
    a = abs(r)
    if a <= delta:
        return 0.5 * r * r
    return delta * (a - 0.5 * delta)


def smooth_abs(x):
    return x if x > 0.0 else -x


def clamp_chain(x, lo, hi):
    y = x
    if y < lo:
        y = lo
    if y > hi:
        y = hi
    return y * y + x


def branch_on_array_sum(x):
    s = np.sum(x)
    if s > THRESHOLD:
        out = np.sum(x * x)
    else:
        out = np.sum(np.sin(x)) * s
    return out


def branch_with_compound_condition(x, y):
    if x > 0.0 and y > 0.0:
        r = math.sqrt(x * y)
    elif x > 0.0 or y > 0.0:
        r = x + y
    else:
        r = x * y
    return r


def nested_conditional_expression(x):
    y = x * x if x < 0.0 else (x if x < 1.0 else 2.0 * x - 1.0)
    return y + 0.1 * x


def sign_switch(x, y):
    s = 1.0 if x * y > 0 else -1.0
    return s * x * y + x


_u, _ = samplers(__name__)


CASES = [
    Case(piecewise, 0, [(-2.3,), (0.4,), (1.7,)]),
    Case(branch_on_flag, (0, 1), [(_u(0.5, 2), _u(-1, 1), True), (_u(0.5, 2), _u(-1, 1), False)], sympy=True),
    Case(branch_on_int, 0, [(_u(-1, 1), 0), (_u(-1, 1), 1), (_u(0.5, 1.5), 3)], sympy=True),
    Case(nested_ifs, (0, 1), [(0.7, 1.2), (0.7, -0.4), (-0.3, 0.8), (-0.2, -1.1)]),
    Case(early_return, 0, [(1.3,), (-0.8,)]),
    Case(early_return_two, (0, 1), [(1.5, 1.2), (-1.5, -1.9), (0.3, -0.2)]),
    Case(assigned_in_one_arm, (0, 1), [(_u(-1, 1), 0.9), (_u(-1, 1), 0.1)]),
    Case(huber, 0, [(0.4,), (-2.5,), (3.0, 2.0)]),
    Case(huber, "delta", [(-2.5,), (3.0, 2.0)]),
    Case(smooth_abs, 0, [(1.7,), (-0.6,)]),
    Case(clamp_chain, (0, 1, 2), [(0.3, -1.0, 1.0), (-2.0, -1.0, 1.0), (2.5, -1.0, 1.0)]),
    Case(branch_on_array_sum, 0, [(np.array([0.5, 0.6, 0.2]),), (np.array([-0.5, 0.3, 0.1, 0.2]),)]),
    Case(branch_with_compound_condition, (0, 1), [(0.7, 1.2), (0.7, -0.4), (-0.3, -0.8)]),
    Case(nested_conditional_expression, 0, [(-0.7,), (0.5,), (1.6,)]),
    Case(sign_switch, (0, 1), [(0.7, 1.2), (-0.7, 1.3)]),
]


# ---- an early return while a list is used only on the other path (issue 9)
def early_return_skips_list_updates(x, y):
    vals = [x * 1.0, y * 2.0]
    for i in range(3):
        if x > 1.0:
            return x * y
        vals[i % 2] = vals[i % 2] * x
    return vals[0] + vals[1]


def early_return_before_reading_appended_list(x, y):
    vals = []
    for i in range(3):
        vals.append(x * i + y)
    if y > 0.0:
        return y * x
    return vals[1] * y


def return_from_loop_building_a_list(x, y):
    vals = []
    s = x
    for i in range(3):
        if s > 2.0:
            return s * y
        vals.append(s)
        s = s * y
    return vals[0] * vals[2] + s


def list_of_floats_updated_after_early_return(x, y):
    vals = [x, y]
    if x > 0.0:
        return x * y
    vals[0] = x * x
    return vals[0] + vals[1]


CASES += [
    Case(early_return_skips_list_updates, (0, 1), [(0.7, 1.2), (1.3, 1.7), (-0.5, -0.3)], sympy=True),
    Case(early_return_before_reading_appended_list, (0, 1), [(0.7, 1.2), (0.7, -1.2)], sympy=True),
    Case(return_from_loop_building_a_list, (0, 1), [(0.7, 1.2), (1.3, 1.7), (2.5, 0.5)], sympy=True),
    Case(list_of_floats_updated_after_early_return, (0, 1), [(0.7, 1.2), (-0.7, 1.2)], sympy=True),
]


# ------------------------- several returns of different bare names (fuzzer finding)
def returns_one_of_two_names(a, b):
    if a < -0.5:
        return a
    s = b * b
    return s


def returns_one_of_three_names(a, b):
    s = a * b
    t = math.sin(a)
    if b > 1.0:
        return t
    elif b < -1.0:
        return b
    return s


CASES += [
    Case(returns_one_of_two_names, (0, 1), [(0.7, 0.3), (-0.9, 0.3)], sympy=True),
    Case(returns_one_of_three_names, (0, 1), [(0.7, 0.3), (0.4, 1.5), (0.4, -1.5)], sympy=True),
]
