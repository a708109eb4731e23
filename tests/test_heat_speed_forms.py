"""The heat stencils' adjoints at the hand-written limit (issue 14): the forms the
generated code takes now, each checked against central finite differences on several
inputs, and the shapes where a rewrite must not apply (checked the same way).

* peephole.dot_products: `np.sum(a * b)` -> `a @ b` for two real 1-D arrays of one
  length that are certainly arrays (never 2-D, a length-1 operand that broadcasts, ints,
  complex values, or an adjoint that may be the symbolic zero);
* the zeros pass: a copy of an owned adjoint of one shape is owned (the rebinding form
  `u = u + kappa * lap` needs no `as_adjoint` per step), and an adjoint owned after one
  branch of an If only is materialized in the other branch, not after the If.
"""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import grad, value_and_grad


def fd(f, args, i, h=1e-6):
    """Central differences of f with respect to args[i] (a float or a float array)."""
    x = args[i]
    if np.ndim(x) == 0:
        lo, hi = list(args), list(args)
        lo[i], hi[i] = x - h, x + h
        return (f(*hi) - f(*lo)) / (2 * h)
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        lo, hi = x.copy(), x.copy()
        lo[k] -= h
        hi[k] += h
        a, b = list(args), list(args)
        a[i], b[i] = hi, lo
        out[k] = (f(*a) - f(*b)) / (2 * h)
    return out


def check(g, f, args, wrt):
    got = g(*args)
    got = got if isinstance(got, tuple) else (got,)
    for gi, i in zip(got, wrt):
        np.testing.assert_allclose(gi, fd(f, args, i), rtol=1e-6, atol=1e-8)


def body_lines(g) -> str:
    """The generated adjoint without its header comments and docstring."""
    return "\n".join(ln for ln in g.source.splitlines() if "Generated" not in ln)


# ------------------------------------------------------------- the three heat forms
def heat_inplace(u0, kappa, steps=12):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_rebind(u0, kappa, steps=12):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def smooth(u, passes):
    for _ in range(passes):
        u[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]


def euler_step(u, kappa, f, dt):
    u[1:-1] += kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2]) + dt * f[1:-1]


def heat_helpers(u0, kappa, left, steps=12):
    f = np.exp(-50.0 * (np.linspace(0.0, 1.0, u0.shape[0]) - 0.3) ** 2)
    u = u0.copy()
    for n in range(steps):
        u[0] = left
        euler_step(u, kappa, f, 0.01)
        if n % 5 == 4:
            smooth(u, 2)
    return np.sum(u * u) / u.shape[0]


@pytest.mark.parametrize("n", [5, 16, 33])
def test_the_in_place_stencil_reads_like_the_hand_written_adjoint(n):
    rng = np.random.default_rng(n)
    g = grad(heat_inplace, wrt=("u0", "kappa"))
    args = (rng.standard_normal(n), 0.2)
    check(g, heat_inplace, args, (0, 1))
    src = body_lines(g)
    assert "kappa_bar += _t8_bar @ _t7" in src  # (the hand-written `kb += g @ lap`)
    assert "as_adjoint" not in src and "np.sum(_t8_bar" not in src


@pytest.mark.parametrize("n", [4, 16, 31])
def test_the_rebinding_stencil_keeps_no_copy_and_no_as_adjoint_per_step(n):
    rng = np.random.default_rng(n)
    g = grad(heat_rebind, wrt=("u0", "kappa"))
    args = (rng.standard_normal(n), 0.15)
    check(g, heat_rebind, args, (0, 1))
    src = body_lines(g)
    loop = src[src.index("for _ in reversed"):]
    assert "as_adjoint" not in src and "np.copy" not in loop
    assert "kappa_bar += u_bar @ lap" in loop  # (the hand-written `kb += ub @ lap`)


@pytest.mark.parametrize("n,left", [(6, 0.5), (20, -1.0), (41, 2.0)])
def test_the_helpers_form_materializes_the_adjoint_only_in_the_rare_branch(n, left):
    rng = np.random.default_rng(n)
    g = grad(heat_helpers, wrt=("u0", "kappa", "left"))
    args = (rng.standard_normal(n), 0.2, left)
    check(g, heat_helpers, args, (0, 1, 2))
    src = body_lines(g)
    loop = src[src.index("for n in reversed"):]
    branch, rest = loop.split("_cond1 = _tape_cond1.pop()")
    assert branch.count("as_adjoint(u_bar, u)") == 1 and "as_adjoint" not in rest
    assert "kappa_bar += _t" in rest and "@ _t" in rest


# --------------------------------------------- where `np.sum(a * b)` must stay a sum
def scale_matrix(a, k):
    return np.sum(np.sin(k * a))      # k's adjoint: np.sum(g * a), a 2-D


def scale_broadcast(x, y, k):
    return np.sum(np.sin(k * x[:1] * y))   # x[:1] has length 1: it broadcasts against y


def scale_ints(n, k):
    return np.sum(np.sin(k * n))      # n an int array: the product is float, n is not


def scale_vectors(x, k):
    return np.sum(np.sin(k * x) * x)  # k's adjoint: a product of two float vectors


def test_a_full_sum_of_two_vectors_becomes_a_dot_product():
    rng = np.random.default_rng(1)
    for n in (3, 10):
        args = (rng.standard_normal(n), 0.7)
        g = grad(scale_vectors, wrt=(0, 1))
        check(g, scale_vectors, args, (0, 1))
        assert "k_bar = _t1_bar @ x" in g.source and "np.sum(_t1_bar" not in g.source


def test_two_dimensional_operands_keep_the_sum():
    rng = np.random.default_rng(2)
    args = (rng.standard_normal((3, 4)), 0.3)
    g = grad(scale_matrix, wrt=(0, 1))
    check(g, scale_matrix, args, (0, 1))
    assert " @ " not in g.source and "k_bar = np.sum(" in g.source


def test_an_operand_that_broadcasts_keeps_the_sum():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal(4), rng.standard_normal(4), 0.3)
    g = grad(scale_broadcast, wrt=(0, 1, 2))
    check(g, scale_broadcast, args, (0, 1, 2))
    assert " @ " not in g.source


def test_an_int_operand_keeps_the_sum():
    args = (np.arange(5), 0.3)
    g = grad(scale_ints, wrt=(1,))
    np.testing.assert_allclose(g(*args), fd(scale_ints, args, 1), rtol=1e-7)
    assert " @ " not in g.source


def maybe_zero(x, k, n):
    acc = 0.0
    for i in range(n):
        w = k * x
        if i % 3 == 0:
            acc = acc + np.sum(w * w)  # (w_bar is the symbolic zero 0.0 on the other trips)
        x = np.sin(x)
    return acc


def test_an_adjoint_that_may_be_the_symbolic_zero_keeps_the_sum():
    rng = np.random.default_rng(4)
    for n in (1, 2, 5):
        args = (rng.standard_normal(6), 0.4, n)
        g = grad(maybe_zero, wrt=(0, 1))
        check(g, maybe_zero, args, (0, 1))
        assert "np.sum(w_bar * " in g.source and "w_bar @" not in g.source


# ------------------------------------------- the zeros pass: copies owned, branches
def rebind_shared(u0, kappa, steps=6):
    u = u0.copy()
    w = u0 * 1.0
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        w = w + u                 # (u's adjoint flows into w's and back each trip)
        u = u + kappa * lap
    return np.sum(u * w)


def branch_rebinds(u0, kappa, steps=9):
    u = u0.copy()
    for n in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        if n % 4 == 1:
            u = np.sin(u)         # (u rebound in one branch only)
        else:
            u[0] = 0.5 * u[1]
    return np.sum(u * u)


@pytest.mark.parametrize("n", [4, 9])
def test_rebinding_with_a_second_reader_is_right(n):
    rng = np.random.default_rng(n)
    g = grad(rebind_shared, wrt=("u0", "kappa"))
    args = (rng.standard_normal(n), 0.2)
    check(g, rebind_shared, args, (0, 1))


@pytest.mark.parametrize("n", [5, 12])
def test_an_adjoint_rebound_in_one_branch_is_right(n):
    rng = np.random.default_rng(n)
    g = grad(branch_rebinds, wrt=("u0", "kappa"))
    args = (rng.standard_normal(n), 0.2)
    check(g, branch_rebinds, args, (0, 1))


# ------------------------------------------ increments: `u[s] = u[s] + E` -> `u[s] += E`
def prefix_sums(u0, k, steps=3):
    u = u0.copy()
    for _ in range(steps):
        u[1:] = u[1:] + u[:-1]      # (E is a view overlapping the slice written)
        u[:-1] = u[:-1] + k * u[1:]
    return np.sum(u * u)


def complex_increment(u0, k):
    u = u0.copy()
    u[1:] = u[1:] + np.real(np.exp(1j * k * u[:-1]))   # (a real E, computed through complex values)
    return np.sum(u * u)


@pytest.mark.parametrize("n", [3, 8])
def test_increments_write_the_same_bits_and_differentiate(n):
    rng = np.random.default_rng(n)
    args = (rng.standard_normal(n), 0.3)
    for f, line in ((prefix_sums, "u[1:] += u[:-1]"), (heat_inplace, "u[1:-1] += kappa * _t7")):
        g = value_and_grad(f, wrt=(0, 1))
        value, grads = g(*args)
        assert value == f(*args)  # (the primal's value, to the bit)
        assert line in g.source
        for gi, i in zip(grads, (0, 1)):
            np.testing.assert_allclose(gi, fd(f, args, i), rtol=1e-6, atol=1e-8)


def test_an_increment_of_a_complex_computation_is_right():
    rng = np.random.default_rng(7)
    args = (rng.standard_normal(5), 0.4)
    g = value_and_grad(complex_increment, wrt=(0, 1))
    value, grads = g(*args)
    assert value == complex_increment(*args)
    for gi, i in zip(grads, (0, 1)):
        np.testing.assert_allclose(gi, fd(complex_increment, args, i), rtol=1e-6, atol=1e-8)
