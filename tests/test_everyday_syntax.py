"""Everyday Python syntax beyond the corpus (tests/corpus/everyday.py, which checks every
form against finite differences, SymPy and forward mode): second derivatives of the
new forms, what the generated code shows (assert kept, the break flag of for-else),
Python's semantics kept (starred unpacking makes lists, an assert still fails), and the
located refusal of every form left out."""
from __future__ import annotations

import collections
import inspect
import math
import os
from typing import NamedTuple

import numpy as np
import pytest

import adjointc
from adjointc import AliasingError, NoAdjointRule, UnsupportedSyntax, grad, hessian
from corpus import everyday as E
from corpus.everyday import _first_times as helper_mod_star  # (a helper of another module)


# -------------------------------------------------------------- second order
def _fd_of_grad(fn, args, h=1e-5):
    g = grad(fn, wrt=0)
    return (g(args[0] + h, *args[1:]) - g(args[0] - h, *args[1:])) / (2 * h)


SECOND = [(E.for_else_search, (1.2, 5.0)), (E.for_else_search, (1.05, 50.0)), (E.for_else_no_break, (0.7,)),
          (E.while_else_iterate, (1.3, 1e-3)), (E.while_else_iterate, (1.7, -1.0)),
          (E.asserts_kept, (1.5,)), (E.min_max_several, (1.5,)), (E.min_max_several, (0.7,)),
          (E.min_max_of_display, (1.5, 2.0)), (E.min_max_of_lists, (1.5, 2.0)),
          (E.dtype_as_value, (1.5, 2)), (E.float_keeps_derivative, (1.5,)),
          (E.extend_in_a_loop, (1.2, 3)), (E.concat_and_repeat, (1.5, 2.0)),
          (E.star_of_list_value, (0.6, 1.7)), (E.pop_in_expressions, (1.5, 2.0)),
          (E.insert_front_and_back, (1.5, 2.0)), (E.list_slices, (1.5, 2.0)),
          (E.variadic_helpers, (1.5, 2.0)), (E.variadic_forwarding, (-0.4, 0.9)),
          (E.namedtuple_config, (0.7, E.Setup(0.1, 2.0)))]


def _square_poly(x, y):
    """Second derivatives that are not zero through the list forms."""
    L = [x * x, y]
    L.extend([x * y * x])
    L.insert(0, x * x * x)
    a, *rest = L
    return a * L[1] + rest[0] * rest[-1] + L[-1] * L[0] + max(x * x, y, x) + math.fsum([x * x, y])


SECOND.append((_square_poly, (1.3, 0.4)))


@pytest.mark.parametrize("fn, args", SECOND, ids=[f.__name__ + str(a) for f, a in SECOND])
def test_second_derivative_matches_finite_differences_of_the_gradient(fn, args):
    ref = _fd_of_grad(fn, args)
    h = hessian(fn, argnums=0)(*args)
    g2 = grad(grad(fn, wrt=0), wrt=0)(*args)
    for got in (float(h), float(g2)):
        assert abs(got - ref) <= 1e-5 * max(1.0, abs(ref)), (got, ref)


def test_square_poly_gradient_matches_finite_differences():
    x, y, h = 1.3, 0.4, 1e-6
    gx, gy = grad(_square_poly, wrt=(0, 1))(x, y)
    assert abs(gx - (_square_poly(x + h, y) - _square_poly(x - h, y)) / (2 * h)) < 1e-6
    assert abs(gy - (_square_poly(x, y + h) - _square_poly(x, y - h)) / (2 * h)) < 1e-6


def test_second_derivative_of_math_prod_is_a_located_refusal():
    with pytest.raises(NoAdjointRule) as info:
        grad(grad(E.prod_with_start, wrt=0), wrt=0)(1.5, 2.0)
    assert "unprod" in str(info.value) and "hint:" in str(info.value)


# --------------------------------------------------------- generated code
def test_assert_is_kept_in_the_forward_sweep_and_still_fails():
    src = grad(E.asserts_kept).source_for(1.5)
    assert "assert x > 0.0, 'x must be positive'" in src
    assert src.index("assert x > 0.0") < src.index("backward sweep")
    assert src.count("assert ") == 2
    with pytest.raises(AssertionError, match="x must be positive"):
        grad(E.asserts_kept)(-1.0)


def test_for_else_is_a_break_flag():
    src = grad(E.for_else_search).source_for(1.2, 5.0)
    assert "_broke1 = False" in src and "_broke1 = True" in src and "not _broke1" in src
    # a loop without a break of its own runs its else always: no flag
    assert "_broke" not in grad(E.for_else_no_break).source_for(0.7)


def test_starred_unpacking_keeps_pythons_types():
    def rest_of(v):
        a, *rest = v
        return rest
    for v in ((1.0, 2.0, 3.0), [1.0, 2.0], np.array([1.0, 2.0, 3.0])):
        assert isinstance(rest_of(v), list)   # (what the corpus's value checks rely on)
    value, g = adjointc.value_and_grad(E.star_of_array)(np.array([1.0, 2.0, 3.0]))
    assert value == E.star_of_array(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(g, [2.0, 1.0, 2.0])


def test_int_and_bool_dtypes_stop_the_derivative():
    v = np.array([1.3, 2.6, -0.2])
    g = grad(E.int_cast_has_no_derivative)(v)
    n = v.astype(int)
    assert np.allclose(g, n + 2.0 * n * v + np.array([0.0, 1.0, 0.0]))


# ----------------------------------------------------------------- refusals
def _two(a, b):
    return a * b


def star_of_a_parameter(x, p):
    return _two(*p) * x  # <- unsupported


def kwargs_of_a_name(x):
    opts = (("d", x),)
    return _two(x, **dict(opts))  # <- unsupported


def _kw_passed_on(*args, **kw):
    return _two(*args) * len(list(kw.values()))


def uses_kwargs_another_way(x):
    return _kw_passed_on(x, x, d=x)  # <- unsupported


def calls_a_star_helper_of_another_module(x):
    return np.einsum("i->", x) + helper_mod_star(x)  # <- unsupported


def extends_an_aliased_list(x, y):
    L = [x, y]
    M = L
    L.extend([x * y])  # <- unsupported
    return M[-1]


def extends_a_parameter(L, x):
    L.extend([x])  # <- unsupported
    return L[-1]


def min_with_a_key(x, y):
    return min([x, y], key=abs)  # <- unsupported


def extends_in_a_nested_def(x, y):
    L = [x, y]

    def grow():
        L.extend([x])  # <- unsupported
        return 1.0
    grow()
    return L[-1]


REFUSED = [(star_of_a_parameter, (1.5, (1.0, 2.0)), "length is not known"),
           (kwargs_of_a_name, (1.5,), "keys are not known"),
           (uses_kwargs_another_way, (1.5,), "other than by constant keys"),
           (calls_a_star_helper_of_another_module, (np.ones(2),), "another module"),
           (extends_an_aliased_list, (1.5, 2.0), "another name or a container"),
           (extends_a_parameter, ([1.0, 2.0], 1.5), "extend"),
           (min_with_a_key, (1.5, 2.0), "key="),
           (extends_in_a_nested_def, (1.5, 2.0), "inlined helper")]


@pytest.mark.parametrize("fn, args, what", REFUSED, ids=[f.__name__ for f, _, _ in REFUSED])
def test_left_out_forms_are_located_refusals(fn, args, what):
    wrt = 1 if fn is extends_a_parameter else 0
    with pytest.raises((UnsupportedSyntax, AliasingError)) as info:
        grad(fn, wrt=wrt)(*args)
    lines, first = inspect.getsourcelines(fn)
    line = first + next(i for i, t in enumerate(lines) if "# <- unsupported" in t)
    msg = str(info.value)
    assert f"{os.path.basename(__file__)}:{line}:" in msg, msg
    assert what in msg and "hint:" in msg, msg


# ------------------------------------------------------- NamedTuple fields
class Params(NamedTuple):
    n: float
    v: np.ndarray


Pair = collections.namedtuple("Pair", ["a", "b"])


def field_reads(p, x):
    return p.n * np.sum(p.v * x) + p[0] * p.n


def fields_in_a_loop(q, x):
    s = q.a * x
    for i in range(3):
        s = s + q.b * math.sin(s)
    return s


def _fd_fields(fn, p, rest, h=1e-6):
    """Central differences w.r.t. each field of the namedtuple p (array fields element-wise)."""
    out = []
    for k, val in enumerate(p):
        if isinstance(val, np.ndarray):
            d = np.zeros_like(val)
            for i in np.ndindex(val.shape):
                up, dn = val.copy(), val.copy()
                up[i] += h
                dn[i] -= h
                d[i] = (fn(p._replace(**{p._fields[k]: up}), *rest) - fn(p._replace(**{p._fields[k]: dn}), *rest)) / (2 * h)
            out.append(d)
        else:
            out.append((fn(p._replace(**{p._fields[k]: val + h}), *rest) - fn(p._replace(**{p._fields[k]: val - h}), *rest)) / (2 * h))
    return out


@pytest.mark.parametrize("fn, p, rest", [
    (field_reads, Params(2.0, np.array([1.0, -2.0, 0.5])), (np.array([0.5, -1.0, 2.0]),)),
    (field_reads, Params(-0.7, np.array([0.3, 1.1])), (np.array([1.5, 0.2]),)),
    (fields_in_a_loop, Pair(1.5, 0.5), (2.0,)),
    (fields_in_a_loop, Pair(-0.4, 1.2), (0.7,))], ids=["typing-1", "typing-2", "collections-1", "collections-2"])
def test_namedtuple_fields_are_read_by_name(fn, p, rest):
    gp = grad(fn, wrt=0)(p, *rest)
    assert type(gp) is type(p)
    for got, ref in zip(gp, _fd_fields(fn, p, rest)):
        assert np.allclose(got, ref, rtol=1e-6, atol=1e-8), (got, ref)
    # forward mode along the first field, and the other argument's gradient
    dots = p._replace(**{f: (np.zeros_like(v) if isinstance(v, np.ndarray) else 0.0) for f, v in zip(p._fields, p)})
    dots = dots._replace(**{p._fields[0]: 1.0})
    zero = tuple(np.zeros_like(r) if isinstance(r, np.ndarray) else 0.0 for r in rest)
    _, t = adjointc.jvp(fn, (p, *rest), (dots, *zero))
    assert abs(float(t) - float(np.sum(gp[0]))) < 1e-9 * max(1.0, abs(float(t)))
    gx = grad(fn, wrt=1)(p, *rest)
    h = 1e-6
    x = rest[0]
    if isinstance(x, np.ndarray):
        ref = np.array([(fn(p, x + h * e) - fn(p, x - h * e)) / (2 * h) for e in np.eye(len(x))])
    else:
        ref = (fn(p, x + h) - fn(p, x - h)) / (2 * h)
    assert np.allclose(gx, ref, rtol=1e-6, atol=1e-8)


def test_namedtuple_second_derivative():
    q, x = Pair(1.5, 0.5), 0.7
    h = 1e-5
    g = grad(fields_in_a_loop, wrt=1)
    ref = (g(q, x + h) - g(q, x - h)) / (2 * h)
    assert abs(float(hessian(fields_in_a_loop, argnums=1)(q, x)) - ref) < 1e-5 * max(1.0, abs(ref))
