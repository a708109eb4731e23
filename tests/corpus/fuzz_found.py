"""Bugs found by the differential fuzzer (tests/fuzz), one named case per class,
each the fuzzer's shrunk program (renamed, otherwise as found).

Each was a wrong gradient or a crash when found; all are fixed and checked against
finite differences (SymPy where scalar) like the rest of the corpus. A new class is
added here as a strict xfail (``bugs=bug(...)``) until its fix lands, with its family
switched off in tests/fuzz/profiles.py."""
import math

import numpy as np

from . import Case, samplers

_u, _n = samplers("fuzz_found")


# ------------------------------------------------ self-assignment (issue 9 class 2)
def self_assign_scalar_input(a, b):
    a = a
    return a * b


def self_assign_array_input(a, x):
    x = x
    return np.sum(np.sin(x)) + a


def self_assign_local_view(x):
    u = x[1:]
    u = u
    return 0.5 * np.sum(u * u)


def self_assign_full_slice(y):
    y[:] = y
    return -0.75 * np.dot(y, y)


def _pass_through(p):
    p = p
    return p


def self_assign_in_helper(a, b):
    return _pass_through(a) * b


def _scale_first(p1, p2):
    p2 = p2
    p2[0] = p2[0] * p1
    return None


def self_assign_in_helper_then_written(a, x):
    _scale_first(a, x)
    return np.sum(x * x)


# ------------------------------- early return in a loop inside an if (class 3)
def return_in_loop_in_if(a, b):
    if b < 1.0:
        for i in range(2):
            return 0.25 * a
    return a * a


# ------------------------------------------- a scalar input rebound inside a loop
def input_rebound_in_loop(a, b):
    s = a * a
    for i in range(3):
        a = b
    return s + a


def input_rebound_in_loop_from_a_list(a, b):
    L = []
    L.append(a / (a * a + 1.0))
    s = np.sum(np.array(L))
    for i in range(3):
        a = math.sin(s)
    return 0.5 * s


# ---------------- `return <name>` on the path after an untaken early return
def return_name_after_early_return(a, b):
    if a < -0.5:
        return a
    s = b * b
    return s


def _early_out(p):
    s = p
    if p > 5.0:
        return p
    return s


def helper_returns_name_after_early_return(a, b):
    return _early_out(a * b)


def copy_then_early_return(a, b):
    s = a * b
    if s > 5.0:
        return s
    t = s
    return t


# -------------------------------------------------------- lists of constants
def repeat_list_assigned_by_index(a, b):
    L = [0.0] * 3
    L[1] = a * b
    return sum(L)


def repeat_list_assigned_in_loop(a, b):
    L = [0.0] * 3
    for i in range(3):
        L[i] = math.sin(a + b)
    return sum(L)


def const_list_assigned_in_loop_read_twice(a, b):
    L = [-0.75, 2.0, -0.75, 0.5]
    for i in range(4):
        L[i] = math.sin(b) * a
    return np.sum(np.array(L)) + sum(L)


# ------------------------------ a result rebound, then written in place (class 4)
def rebound_then_augmented_write(a, x):
    u = x * 2.0
    u = np.tanh(u)
    u[0] += a
    return np.sum(u * u)


def rebound_argument_copied_then_written(a, x):
    x = x / (x * x + 1.0)
    u = x.copy()
    x[2] = math.cos(a)
    return 0.25 * np.sum(u * u)


# ------------------ a value read only inside an untaken branch (adjoint stays 0.0)
def concatenate_read_only_in_untaken_branch(x):
    u = np.concatenate([x[:2], x[2:]])
    if x[0] > 1.0:
        x = np.sin(u)
    return np.sum(x * x)


def cumsum_read_only_in_untaken_branch(x):
    u = np.cumsum(x)
    if x[0] > 1.0:
        x = np.sin(u)
    u = np.cumsum(x)
    return np.sum(u * u)


def concatenate_in_unread_tuple_element(a, x, y):
    u = np.concatenate([x[:2], y[2:]])
    t = (a, u)
    return t[0] * a


# -------------------------------------------- a tuple read inside an untaken branch
def tuple_read_in_untaken_branch(a, b):
    t = (a * b, a * a)
    if b > 0.0:
        a = t[0]
    return 0.25 * a


# -------------------------------------------------- a list built inside a loop
def list_built_in_loop(a, b):
    for i in range(2):
        L = []
        L.append(a * b)
        s = sum(L)
    return s


def list_built_in_while_loop(a, x):
    k = 0
    while a < 1.0 and k < 3:
        k = k + 1
        L = []
        L.append(np.sum(x * x) / (np.sum(x * x) ** 2 + 1.0))
        s = L[-1]
        a, s = s, a
    return a


def _grow_first_if_positive(p1):
    if np.sum(p1) > 0.0:
        p1[0] += np.mean(p1) / (np.mean(p1) * np.mean(p1) + 1.0)
        return 0.5
    return math.sin(2.0)


def written_in_place_after_helper_modified_it(x):
    """The helper's modified copy comes back in a tuple (`_t = h_returning_p1(u)`,
    `u = _t[1]`); the in-place write after it changes that tuple's element too, so
    the restore of the slice it overwrote must be kept (fuzz seed 7)."""
    u = x * 2.0
    s = math.sin(_grow_first_if_positive(u))
    u[:] = np.sin(u)
    return np.sum(u * u) + s


def copy_bound_only_in_a_loop(p1, p3):
    """u is bound only on the trips that get past the first `continue`; the zeros pass
    hoisted `u_bar = np.zeros_like(u)` out of the backward loop, where no trip may have
    bound u (p1 > 0.4: UnboundLocalError). A hoisted initialisation reads only names
    certainly bound there (fuzz seed 1306)."""
    k = 0
    while k < 3:
        k = k + 1
        if p1 > 0.4:
            continue
        u = p3.copy()
        if u[2] < np.sin(p1):
            continue
        p1 = math.tanh(math.cos(max(c * 2.0 for c in u)))
    return p1 * np.sum(p3)


CASES = [
    Case(self_assign_scalar_input, (0, 1), [(0.7, 0.3), (-1.2, 0.5)], sympy=True),
    Case(self_assign_array_input, (0, 1), [(0.3, _n(5)), (-0.4, _n(4))]),
    Case(self_assign_local_view, 0, [(_n(5),), (_n(6),)]),
    Case(self_assign_full_slice, 0, [(_n(5),), (_n(3),)]),
    Case(self_assign_in_helper, (0, 1), [(0.7, 0.3), (-1.2, 0.5)]),
    Case(self_assign_in_helper_then_written, (0, 1), [(0.7, _n(3)), (-0.4, _n(5))]),
    Case(return_in_loop_in_if, (0, 1), [(0.7, 0.3), (0.4, 0.2), (0.5, 1.5)]),
    Case(input_rebound_in_loop, (0, 1), [(0.7, 0.3), (-0.4, 1.2)]),
    Case(input_rebound_in_loop_from_a_list, (0, 1), [(0.7, 0.3), (-0.4, 1.2)]),
    Case(return_name_after_early_return, (0, 1), [(0.7, 0.3), (0.2, 0.4), (-0.9, 0.3)], sympy=True),
    Case(helper_returns_name_after_early_return, (0, 1), [(0.7, 0.3), (0.2, 0.4), (3.0, 2.0)]),
    Case(copy_then_early_return, (0, 1), [(0.7, 0.3), (0.2, 0.4), (3.0, 2.0)], sympy=True),
    Case(repeat_list_assigned_by_index, (0, 1), [(0.7, 0.3), (-0.4, 1.1)]),
    Case(repeat_list_assigned_in_loop, (0, 1), [(0.7, 0.3), (-0.4, 1.1)]),
    Case(const_list_assigned_in_loop_read_twice, (0, 1), [(0.7, 0.3), (-0.4, 1.1)]),
    Case(rebound_argument_copied_then_written, (0, 1), [(0.7, _n(4)), (-0.3, _n(6))]),
    Case(rebound_then_augmented_write, (0, 1), [(0.7, _n(4)), (-0.3, _n(5))]),
    Case(concatenate_read_only_in_untaken_branch, 0, [(np.array([0.3, -0.5, 0.8, 1.1, 0.2]),), (_n(4) * 0.3,)]),
    Case(cumsum_read_only_in_untaken_branch, 0, [(np.array([0.3, -0.5, 0.8, 1.1, 0.2]),), (_n(4) * 0.3,)]),
    Case(concatenate_in_unread_tuple_element, (0, 1, 2), [(0.7, _n(5), _n(5)), (-0.3, _n(4), _n(4))]),
    Case(tuple_read_in_untaken_branch, (0, 1), [(0.2, -0.4), (0.7, -0.3)]),
    Case(list_built_in_loop, (0, 1), [(0.7, 0.3), (-0.4, 1.1)]),
    Case(list_built_in_while_loop, (0, 1), [(0.2, _n(4)), (-0.5, _n(5))]),
    Case(written_in_place_after_helper_modified_it, 0,
         [(np.array([-0.09, -1.66, 0.64, -0.01]),), (np.array([0.3, 0.5, -0.2, 0.1]),)]),
    Case(copy_bound_only_in_a_loop, (0, 1), [(0.5, np.array([-0.76, -0.125, 0.096, 0.76])),
                                             (0.1, np.array([-0.76, -0.125, 0.096, 0.76])),
                                             (-0.3, np.array([0.2, 0.9, -0.4, 0.3]))]),
]
