"""Everyday Python syntax (issue 13, "Python constructs"): for/while ... else, starred
unpacking, assert, *args/**kwargs at call sites, min/max/sum/abs/fsum/hypot/prod,
float/int/bool as values and dtypes, Ellipsis indexing, and list methods and forms
(pop, extend, insert, +, *, list(...), slices, computed indices, reverse).

Each function is plain user code; ``CASES`` check it against finite differences on
several inputs (and SymPy where scalar; tests/test_corpus.py), and in forward mode
(tests/test_forward.py). The inputs take both sides of every branch that matters
(a loop that breaks and one that does not, ties left out of min/max)."""
import collections
import math
from typing import NamedTuple

import numpy as np

from . import A, Case, samplers

_u, _n = samplers("everyday")


# ======================================================== for / while ... else
def for_else_search(x, limit):
    s = x
    for k in range(6):
        s = s * x + 0.5
        if s > limit:
            break
    else:
        s = s - 2.0 * x     # only when no break ran
    return s


def for_else_no_break(x):
    total = 0.0
    for k in range(3):
        total = total + x * k
    else:
        total = total + 1.0
    return total * x


def for_else_inner_break(x, y):
    """An inner loop's break is the inner loop's: the outer else still runs."""
    s = 0.0
    for i in range(3):
        for j in range(4):
            if j > i:
                break
            s = s + x * (j + 1)
    else:
        s = s * y
    return s


def for_else_over_rows(X, w, cap):
    acc = 0.0
    for row in X:
        acc = acc + np.sum(row * w)
        if acc > cap:
            acc = acc * 0.5
            break
    else:
        acc = acc + np.sum(w * w)
    return acc


def while_else_iterate(x, tol):
    k = 0
    v = x
    while k < 8:
        v = 0.5 * (v + 2.0 / v)
        k = k + 1
        if abs(v * v - 2.0) < tol:
            break
    else:
        v = v + 0.0 * x
        v = v * x
    return v * x


def for_else_with_return(x):
    for i in range(3):
        if x > 1.0:
            return x * 2.0
    else:
        x = x * 3.0
    return x * x


def nested_for_else(x):
    s = x
    for j in range(3):
        for i in range(3):
            s = s * 1.1
            if s > 5.0:
                break
        else:
            s = s + x
            if s > 3.0:
                break       # (the outer loop's: its else does not run)
    else:
        s = s * x
    return s


def while_else_not_entered(x, k):
    while k < 3:
        k += 1
        x = x * 0.5
    else:
        x = x * x
    return x


def uses_for_else(x):
    s = 0.0
    for k in range(3):
        s = s + x * k
    else:
        s = s + 1.0
    return s


def uses_while_else(x):
    k = 0
    while k < 3:
        x = x * 0.5
        k = k + 1
    else:
        x = x + 1.0
    return x


# ======================================================== starred unpacking
def star_first_rest(x, y):
    a, *rest = [x, y, x * y]
    return a * rest[0] + rest[1] * len(rest)


def star_middle(x, y):
    first, *mid, last = (x, y, x * y, y * y)
    return first * last + mid[0] * mid[1]


def star_of_array(v):
    head, *tail = v
    return head * tail[0] + tail[-1] * len(tail)


def star_of_list_value(x, y):
    vals = [x * 2.0, y, x + y, 3.0]
    *init, end = vals
    return init[0] * end + init[2] * init[1]


def star_of_tuple_param(p, x):
    a, *others = p
    t = (x, x * a, others[-1])
    b, *more = t
    return a * x + others[0] * others[-1] * x + b * more[0] * more[1]


def star_empty_rest(x, y):
    a, *rest, b = (x, y)
    return a * b + float(len(rest))


def uses_starred_assignment(x, y):
    first, *rest = (x, y, x * y)
    return first * 2.0 + rest[1]


# =================================================================== assert
def asserts_kept(x):
    assert x > 0.0, "x must be positive"
    y = math.sqrt(x)
    assert y * y > 0.0
    return y * x


def asserts_on_arrays(v, w):
    assert v.shape == w.shape, "shapes differ"
    assert np.all(np.abs(v) < 100.0)
    return np.sum(v * w * v)


# ====================================================== *args / **kwargs at calls
def _weighted(a, b, c=1.0, scale=1.0):
    return (a * b + c) * scale


def star_call_display(x, y):
    return _weighted(*[x, y], c=x) + _weighted(*(y, x), **{"scale": 2.0})


def star_call_local(x, y):
    ab = (x, y * y)
    opts = 3.0
    return _weighted(*ab, scale=opts) + np.maximum(*ab)


def star_call_mixed(x, y):
    rest = [y]
    return _weighted(x, *rest, **{"c": x * y, "scale": y})


# ======================================== helpers taking *args / **kwargs (inlined)
SCALE = 2.0


def _first_times(*args, **kw):
    return args[0] * kw["d"]


def _accumulate(x, *terms, w=1.0, **opts):
    s = x
    for t in terms:
        s = s + w * t * t
    if "bias" in opts:
        s = s + opts["bias"]
    return s * opts.get("gain", SCALE) + len(terms)


def _forward_all(*a, **k):
    return _accumulate(*a, **k)


def variadic_helpers(x, y):
    return _first_times(x, y, d=x * y) + _accumulate(x, y, x * y, w=0.5, bias=y) + _accumulate(y, gain=3.0)


def variadic_forwarding(x, y):
    return _forward_all(x, y, w=2.0, gain=x) * _forward_all(y)


def variadic_on_arrays(v):
    return _accumulate(v[0], v[1], v[2]) * np.sum(v) + _first_times(v, d=2.0)[1]


# ====================================================== builtins min/max/sum...
def min_max_several(x):
    return min(x, 2.0, x * x) + max(x, 0.5, x * x * x)


def min_max_of_lists(x, y):
    L = [x, y, x * y]
    return min(L) + max(L) + sum(L, 1.0) + abs(x - y)


def min_max_of_display(x, y):
    return max([x * x, y, 1.0]) - min((x, y + 1.0))


def max_of_array(v):
    return max(v) * min(v) + sum(v)


def fsum_hypot_prod(x, y):
    return math.fsum([x, y, x * y]) + math.hypot(x, y, 1.0) + math.prod([x, y, 2.0])


def prod_with_start(x, y):
    return math.prod([x, y], start=3.0) + math.prod((x, x, y))


# ============================================================ types and dtypes
def dtype_as_value(x, k):
    y0 = [x, 2.0, x * x]
    y = np.array(y0, dtype=float)
    z = np.zeros(3, dtype=float)
    w = y.astype(float)
    q = np.asarray(y, dtype=np.float64)
    return np.sum(y * z + w * q) + float(y[0]) * int(k)


def int_cast_has_no_derivative(v):
    n = np.asarray(v, dtype=int)      # a cast: no derivative goes through n
    m = v.astype(int)
    b = bool(v[0] > 0.0)
    return np.sum(n * v) + np.sum(m * v * v) + float(b) * v[1]


def float_keeps_derivative(x):
    y = float(x * x)
    i = int(x)
    return y * x + i


# ============================================================= Ellipsis indexing
def ellipsis_reads(m):
    a = m[..., None]
    b = m[..., 1:]
    return np.sum(a * a) + np.sum(b * m[..., :-1])


def ellipsis_writes(m):
    u = m.copy()
    u[..., 0] = m[..., 1] * 2.0
    u[..., 1:] = u[..., 1:] * u[..., :-1]
    return np.sum(u * u)


# ================================================================== list methods
def list_methods(x, y):
    L = [x, y]
    L.extend([x * y])
    L.insert(1, y * y)
    v = L.pop()
    w = L.pop(0)
    M = L + [x]
    return v * w + M[len(M) - 1] + M[-1] + sum(M[::-1][:2])


def pop_in_expressions(x, y):
    L = [x, y, x * y, y * y, 1.0]
    s = L.pop(-2) * L.pop(1)
    t = L.pop(0) + L[-1]
    return s * t + len(L)


def pop_computed_index(v, k):
    L = list(v)
    a = L.pop(k)
    b = L.pop(len(L) - 1)
    return a * b + sum(L)


def extend_in_a_loop(x, n):
    L = [x]
    for i in range(n):
        L.extend([L[i] * x, 1.0])
    L.reverse()
    return L[0] + L[1] * L[-1]


def insert_front_and_back(x, y):
    L = [x]
    L.insert(0, y)
    L.insert(len(L), x * y)
    L.insert(-1, 2.0)
    return L[0] * L[1] + L[2] * L[3]


def concat_and_repeat(x, y):
    L = [x, 0.0] + [y]
    M = [x, y] * 3
    N = 2 * [y * x]
    return L[0] * L[2] + M[1] * M[4] + N[0] * N[1]


def repeats_a_list_of_active_values(x):
    L = [x] * 3
    L[1] = x * x
    return L[0] * L[1] + L[2]


def concatenates_lists_of_active_values(x, y):
    L = [x, 0.0] + [y]
    return L[0] * L[2]


def list_of_range_and_array(v, n):
    idx = list(range(n))
    L = list(v)
    t = list((v[0], v[1]))
    s = 0.0
    for i in idx:
        s = s + L[i] * (i + 1)
    return s * t[1] + t[0]


def list_slices(x, y):
    L = [x, y, x * y, y - x]
    R = L[::-1]
    head = L[:2]
    tail = L[2:]
    return R[0] * R[3] + head[1] * tail[0] + L[1:3][1] + L[-1]


def sorted_and_reversed_inactive(v):
    order = sorted([2, 0, 1])
    vals = sorted([v[0] * 2.0, v[1], v[2] - 1.0], reverse=True)
    s = 0.0
    k = 0.0
    for i in reversed(order):
        s = s + v[i] * k
        k = k + 1.0
    return s + vals[0] * vals[2] + sorted(v)[1]


def reversed_and_tuple_values(x, v):
    L = [x, x * x, 3.0]
    R = list(reversed(L))
    t = tuple(v)
    u = tuple(L)
    return R[0] * R[2] + sum(reversed(v)) * t[-1] + u[1] * len(t)


def rows_of_a_matrix(X, w):
    rows = list(X)
    s = 0.0
    for r in rows:
        s = s + np.sum(r * w) ** 2
    return s


# ======================================================= NamedTuple attributes
class Setup(NamedTuple):
    dt: float
    k: float


Grid = collections.namedtuple("Grid", ["h", "weights"])


def namedtuple_config(x, cfg):
    for _ in range(3):
        x = x + cfg.dt * (-cfg.k * x ** 3)
    return x * cfg[1]


def namedtuple_with_arrays(u, grid):
    lap = (u[2:] - 2.0 * u[1:-1] + u[:-2]) / (grid.h * grid.h)
    return np.sum(grid.weights[1:-1] * lap * lap)


CASES = [
    Case(for_else_search, 0, [(1.2, 5.0), (1.05, 50.0), (0.3, 2.0)], sympy=True),
    Case(for_else_no_break, 0, [(0.7,), (-1.3,)], sympy=True),
    Case(for_else_inner_break, (0, 1), [(0.7, 1.5), (-0.4, 2.0)], sympy=True),
    Case(for_else_over_rows, (0, 1), [(_n(3, 2), _n(2), 100.0), (np.abs(_n(4, 3)), np.abs(_n(3)), 0.5)]),
    Case(while_else_iterate, 0, [(1.3, 1e-3), (1.7, -1.0)], sympy=True),
    Case(uses_for_else, 0, [(1.5,), (-0.5,)], sympy=True),
    Case(for_else_with_return, 0, [(0.5,), (1.5,)], sympy=True),
    Case(nested_for_else, 0, [(0.5,), (1.2,), (2.0,), (0.1,)], sympy=True),
    Case(while_else_not_entered, 0, [(1.5, 5), (-0.7, 1)], sympy=True),
    Case(uses_while_else, 0, [(1.5,), (-2.5,)], sympy=True),
    Case(star_first_rest, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(star_middle, (0, 1), [(1.5, 2.0), (0.4, -1.1)], sympy=True),
    Case(star_of_array, 0, [(_n(4),), (_n(2),)]),
    Case(star_of_list_value, (0, 1), [(0.6, 1.7), (-1.2, 0.3)], sympy=True),
    Case(star_of_tuple_param, 1, [((1.5, 2.0, -0.5), 0.7), ((0.2, -1.0, 3.0, 4.0), 1.3)]),
    Case(star_empty_rest, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(uses_starred_assignment, (0, 1), [(1.5, 0.5), (-0.7, 2.0)], sympy=True),
    Case(asserts_kept, 0, [(1.5,), (0.2,)], sympy=True),
    Case(asserts_on_arrays, (0, 1), [(_n(3), _n(3)), (_n(2, 2), _n(2, 2))]),
    Case(star_call_display, (0, 1), [(1.5, 2.0), (-0.4, 0.9)], sympy=True),
    Case(star_call_local, (0, 1), [(1.5, 2.0), (0.4, -0.9)]),
    Case(star_call_mixed, (0, 1), [(1.5, 2.0), (-0.4, 0.9)], sympy=True),
    Case(variadic_helpers, (0, 1), [(1.5, 2.0), (-0.4, 0.9)], sympy=True),
    Case(variadic_forwarding, (0, 1), [(1.5, 2.0), (-0.4, 0.9)], sympy=True),
    Case(variadic_on_arrays, 0, [(_n(3),), (_n(4),)]),
    Case(min_max_several, 0, [(1.5,), (0.7,), (-0.6,)]),
    Case(min_max_of_lists, (0, 1), [(1.5, 2.0), (-0.3, 0.8), (2.5, -1.5)]),
    Case(min_max_of_display, (0, 1), [(1.5, 2.0), (0.3, -0.8)]),
    Case(max_of_array, 0, [(_n(4),), (_n(3),)]),
    Case(fsum_hypot_prod, (0, 1), [(1.5, 2.0), (-0.3, 0.8)]),
    Case(prod_with_start, (0, 1), [(1.5, 2.0), (-0.3, 0.8)]),
    Case(dtype_as_value, 0, [(1.5, 2), (-0.7, 3)]),
    Case(int_cast_has_no_derivative, 0, [(np.array([1.3, 2.6, -0.2]),), (np.array([-0.7, 0.4]),)]),
    Case(float_keeps_derivative, 0, [(1.5,), (-0.7,)]),
    Case(ellipsis_reads, 0, [(_n(2, 3),), (_n(3, 2, 4),)]),
    Case(ellipsis_writes, 0, [(_n(2, 3),), (_n(2, 2, 3),)]),
    Case(list_methods, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(pop_in_expressions, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(pop_computed_index, 0, [(_n(5), 1), (_n(4), -2), (_n(3), 0)]),
    Case(extend_in_a_loop, 0, [(1.2, 3), (-0.7, 2)], sympy=True),
    Case(insert_front_and_back, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(concat_and_repeat, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(repeats_a_list_of_active_values, 0, [(0.7,), (-1.2,)], sympy=True),
    Case(concatenates_lists_of_active_values, (0, 1), [(0.7, 1.3), (-0.2, 2.0)], sympy=True),
    Case(list_of_range_and_array, 0, [(_n(4), 3), (_n(3), 2)]),
    Case(list_slices, (0, 1), [(1.5, 2.0), (-0.3, 0.8)], sympy=True),
    Case(sorted_and_reversed_inactive, 0, [(_n(3),), (_n(4),)]),
    Case(reversed_and_tuple_values, (0, 1), [(1.5, _n(3)), (-0.7, _n(4))]),
    Case(rows_of_a_matrix, (0, 1), [(_n(3, 2), _n(2)), (_n(2, 4), _n(4))]),
    Case(namedtuple_config, 0, [(0.7, Setup(0.1, 2.0)), (-1.1, Setup(0.05, 0.5))], sympy=True),
    Case(namedtuple_with_arrays, 0, [(_n(5), Grid(0.5, np.abs(_n(5)))), (_n(4), Grid(0.1, np.ones(4)))]),
]
