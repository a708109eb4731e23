"""Comprehensions, generator expressions and dicts (adjointc/comprehensions.py): list
comprehensions (nested, with conditions, over ranges, arrays, lists, zip, enumerate,
dict views), generators consumed by sum/max/min/list/any/math.fsum, dict displays,
item writes (new keys and overwrites), d.get, `in`, len, iteration, dict
comprehensions and optimizer steps, d.update, dicts passed to and returned from helpers,
lists of dicts."""
import math

import numpy as np

from . import Case, samplers

_u, _n = samplers("containers")


# ---------------------------------------------------------------- comprehensions
def nested_matrix(A):
    n = A.shape[0]
    a = [[A[i, j] * A[j, i] for j in range(n)] for i in range(n)]
    return np.sum(np.array(a) ** 2)


def exp_series(a, p):
    return sum(math.exp(a + j) / (j + 1.0) for j in range(p))


def lgamma_series(a, p):
    return sum(math.lgamma(a + j) for j in range(p))


def generator_in_running_sum(x):
    s = x * x
    s = s + sum(x ** k for k in range(3))
    return s


def filtered_squares(x):
    return sum([v * v for v in x if v > 0.0])


def zip_dot(x, y):
    return sum(u * v for u, v in zip(x, y))


def enumerate_weighted(x):
    return sum(k * v * v for k, v in enumerate(x))


def comprehension_scope(x):
    i = 2
    L = [x[i] ** 2 for i in range(3)]
    return L[0] + i * x[i] + L[2]


def pairs_with_conditions(x):
    n = x.shape[0]
    return sum(x[i] * x[j] for i in range(n) for j in range(i) if (i + j) % 2 == 1 if j >= 0)


def max_minus_min(x):
    return max(v * v for v in x) - min(math.sin(v) for v in x)


def list_of_generator(x):
    L = list(2.0 * v for v in x)
    return L[0] * L[-1]


def any_branch(x):
    big = any(v > 1.0 for v in x)
    small = all(v > -5.0 for v in x)
    if big and small:
        return np.sum(x * x)
    return np.sum(x)


def fsum_squares(x):
    return math.fsum(v * v for v in x)


def rows_of_arrays(X):
    rows = [X[i] for i in range(X.shape[0])]
    return sum(np.sum(r * r) for r in rows) + np.sum(np.array([np.sin(r) for r in rows]))


def comprehension_over_array(x):
    return np.sum(np.array([v ** 3 for v in x]) * x)


def comprehension_with_outer_state(x, a):
    scale = a * a
    ys = [scale * v for v in x]
    zs = [y + scale for y in ys if y > 0.0]
    return sum(zs) * a


def inner_uses_outer_variable(x):
    n = x.shape[0]
    rows = [[x[i] * x[j] for j in range(i + 1)] for i in range(n)]
    return sum(sum(r) for r in rows)


# --------------------------------------------------------------------------- dicts
def dict_layer(W, b, x):
    p = {"W": W, "b": b}
    return np.sum(np.tanh(p["W"] @ x + p["b"]))


def dict_overwrite_and_insert(x):
    d = {}
    d["a"] = x * 2.0
    d["b"] = x * x
    d["a"] = d["a"] + d["b"]
    s = 0.0
    for k in d:
        s = s + d[k] * d[k]
    return s


def dict_int_keys(x):
    d = {}
    for i in range(3):
        d[i] = x * i
        d[i] = d[i] * x + 1.0
    return d[0] + d[1] * d[2] + len(d)


def dict_comprehension_get(x):
    d = {k: x * (k + 1.0) for k in range(3)}
    return sum(v * v for v in d.values()) + d.get(1, 0.0) + d.get(7, x * x)


def optimizer_step(w, b, lr):
    params = {"w": w, "b": b}
    grads = {k: 2.0 * v for k, v in params.items()}
    new = {k: v - lr * grads[k] for k, v in params.items()}
    return sum(np.sum(v * v) for v in new.values())


def _scaled(d, c):
    return {k: c * v for k, v in d.items()}


def dict_through_helper(x, y):
    d = _scaled({"a": x, "b": y}, 3.0)
    return d["a"] * d["b"] + math.sin(d["a"])


def dict_membership(x, y):
    d = {"x": x}
    if "y" not in d:
        d["y"] = y * y
    s = 0.0
    for k, v in d.items():
        if k in ("x", "y"):
            s = s + v * x
    return s + len(d)


def dict_keys_loop(x):
    d = {"p": x[0], "q": x[1] * x[2]}
    parts = [d[k] * 2.0 for k in d.keys()]
    return sum(parts) * x[0]


def dict_of_arrays_updated(u, c, steps):
    state = {"u": u, "v": u * 0.0}
    for _ in range(steps):
        state["v"] = state["v"] + c * state["u"]
        state["u"] = state["u"] - 0.1 * state["v"]
    return np.sum(state["u"] ** 2) + np.sum(state["v"])


def dict_computed_keys(x):
    names = ["a", "b", "c"]
    d = {}
    for i in range(3):
        d[names[i]] = x[i] * x[i]
    total = 0.0
    for name in names:
        total = total + d.get(name, 0.0) * x[0]
    return total


def dict_update(x, y):
    d = {"a": x}
    d.update({"b": y * x, "a": x * x})
    e = {"c": y}
    d.update(e)
    d.update({k + "2": v * 2.0 for k, v in e.items()})
    return d["a"] * d["b"] + d["c"] * d["c2"] + len(d)


def nested_dicts_and_lists(x):
    layers = [{"w": x[i], "b": x[i] * 0.5} for i in range(x.shape[0])]
    h = 1.0
    for layer in layers:
        h = math.tanh(layer["w"] * h + layer["b"])
    return h + sum(l["w"] * l["b"] for l in layers)


def set_comprehension_sum(x):
    total = 0.0
    terms = {x ** k for k in range(4)}
    for t in terms:
        total = total + t
    return total


def set_literal_and_set_call(x, y):
    seen = {1, 2, 2}
    pair = {x, y * y}
    ks = set([k for k in range(5) if k % 2 == 0])
    return sum(v * k for v in pair for k in ks) * len(seen) + max(pair) * (2 in ks)


def set_of_rounded_values(v):
    buckets = {round(float(a), 0) for a in v}
    return np.sum(v ** 2) * len(buckets)


CASES = [
    Case(nested_matrix, 0, [(_n(3, 3),), (_n(2, 2),)]),
    Case(exp_series, 0, [(_u(-1, 1), 4), (_u(-1, 1), 1)], sympy=True),
    Case(lgamma_series, 0, [(_u(1, 3), 4), (_u(0.5, 2), 2)]),
    Case(generator_in_running_sum, 0, [(1.5,), (-0.3,)], sympy=True),
    Case(filtered_squares, 0, [(np.array([0.5, -1.2, 2.0, 0.3]),), (_n(6),)]),
    Case(zip_dot, (0, 1), [(_n(4), _n(4)), (_n(3), _n(5))]),
    Case(enumerate_weighted, 0, [(_n(5),), (_n(2),)]),
    Case(comprehension_scope, 0, [(_n(4),), (_n(3),)]),
    Case(pairs_with_conditions, 0, [(_n(5),), (_n(4),)]),
    Case(max_minus_min, 0, [(np.array([0.3, -1.7, 1.1]),), (np.array([2.0, 0.1, -0.4, 0.9]),)]),
    Case(list_of_generator, 0, [(_n(3),), (_n(5),)]),
    Case(any_branch, 0, [(np.array([0.3, 1.7, -1.1]),), (np.array([0.3, 0.2]),), (np.array([2.0, -6.0]),)]),
    Case(fsum_squares, 0, [(_n(4),), (_n(7),)]),
    Case(rows_of_arrays, 0, [(_n(3, 2),), (_n(1, 4),)]),
    Case(comprehension_over_array, 0, [(_n(4),), (_n(2),)]),
    Case(comprehension_with_outer_state, (0, 1), [(np.array([0.5, 0.2, -1.5]), _u(0.5, 1.5)), (np.array([-0.3, 0.8, 1.1, -2.0]), _u(-1, -0.5))]),
    Case(inner_uses_outer_variable, 0, [(_n(4),), (_n(2),)]),
    Case(dict_layer, (0, 1, 2), [(_n(2, 3), _n(2), _n(3)), (_n(1, 2), _n(1), _n(2))]),
    Case(dict_overwrite_and_insert, 0, [(_u(-2, 2),), (1.5,)], sympy=True),
    Case(dict_int_keys, 0, [(_u(-2, 2),), (0.7,)], sympy=True),
    Case(dict_comprehension_get, 0, [(_u(-2, 2),), (0.7,)], sympy=True),
    Case(optimizer_step, (0, 1, 2), [(_n(2, 2), _n(2), 0.1), (_n(3, 1), _n(1), 0.3)]),
    Case(dict_through_helper, (0, 1), [(_u(-1, 1), _u(-1, 1)), (0.4, -2.0)], sympy=True),
    Case(dict_membership, (0, 1), [(_u(-1, 1), _u(-1, 1)), (1.5, 0.5)], sympy=True),
    Case(dict_keys_loop, 0, [(_n(3),), (_n(4),)]),
    Case(dict_of_arrays_updated, (0, 1), [(_n(4), 0.3, 3), (_n(2), -0.2, 1)]),
    Case(dict_computed_keys, 0, [(_n(3),), (_n(4),)]),
    Case(dict_update, (0, 1), [(_u(-1, 1), _u(-1, 1)), (0.5, 1.5)], sympy=True),
    Case(nested_dicts_and_lists, 0, [(_n(3),), (_n(2),)]),
    Case(set_comprehension_sum, 0, [(_u(0.5, 1.5),), (-0.7,)], sympy=True),
    Case(set_literal_and_set_call, (0, 1), [(_u(-1, 1), _u(-1, 1)), (0.3, 1.4)]),
    Case(set_of_rounded_values, 0, [(np.array([0.2, 1.4, 0.1]),), (np.array([2.2, -1.3, 3.1, 0.4]),)]),
]
