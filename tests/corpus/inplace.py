"""In-place array updates: element and slice assignment, augmented updates,
stencils, arrays allocated then filled, functions that modify their arguments."""
import math

import numpy as np

from . import Case, rng_for


def fill_from_zeros(x):
    u = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        u[i] = math.sin(x[i]) * (i + 1)
    return np.sum(u * u)


def augmented_element_updates(x):
    u = np.zeros(3)
    for i in range(x.shape[0]):
        u[i % 3] += x[i] * x[i]
    u[0] -= x[0]
    u[1] *= 2.0
    return np.sum(u * x[:3])


def heat_equation(u0, kappa, steps=10):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_equation_2d(u0, kappa):
    u = u0.copy()
    for _ in range(4):
        lap = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]
        u[1:-1, 1:-1] = u[1:-1, 1:-1] + kappa * lap
    return np.sum(u ** 2)


def scale_columns(X, s):
    Y = X.copy()
    for j in range(Y.shape[1]):
        Y[:, j] *= s[j]
    return np.sum(Y * Y)


def cumulative_sum_empty_like(x):
    c = np.empty_like(x)
    c[0] = x[0]
    for i in range(1, x.shape[0]):
        c[i] = c[i - 1] + x[i]
    return np.sum(c * c)


def recurrence_zeros_like(x, a):
    y = np.zeros_like(x)
    y[0] = x[0]
    for i in range(1, len(x)):
        y[i] = a * y[i - 1] + (1.0 - a) * x[i]
    return np.sum(y ** 2)


def copy_then_modify(x):
    y = x.copy()
    y[0] = y[0] * 3.0
    y[-1] += y[1]
    y[1:3] = np.exp(y[1:3])
    return np.sum(y * x)


def mutates_argument(x):
    x[0] = x[0] * 2.0
    x[1:] = x[1:] + x[0]
    return np.sum(x * x)


def mutates_argument_augmented(x, w):
    for i in range(x.shape[0]):
        x[i] *= w[i]
    return np.sum(np.sin(x))


def overwrite_row(A, v):
    B = A.copy()
    B[0] = v * 2.0
    B[1, :] += v
    return np.sum(B @ v)


def strided_slice_update(x):
    y = x.copy()
    y[::2] = y[::2] * y[1::2]
    return np.sum(y ** 2)


def masked_update(x):
    y = x.copy()
    y[y < 0.0] = 0.1 * y[y < 0.0]
    return np.sum(y * y)


def matrix_fill_nested(x):
    n = x.shape[0]
    K = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            d = x[i] - x[j]
            K[i, j] = math.exp(-d * d)
    return np.sum(K)


def prefix_product(x):
    p = np.ones(x.shape[0] + 1)
    for i in range(x.shape[0]):
        p[i + 1] = p[i] * x[i]
    return np.sum(p)


def time_series_ode(y0, k, dt):
    n = 12
    ys = np.zeros(n)
    ys[0] = y0
    for i in range(n - 1):
        ys[i + 1] = ys[i] + dt * (-k * ys[i] * ys[i])
    return np.sum(ys) * dt


def normalize_rows(X):
    Y = X.copy()
    for i in range(Y.shape[0]):
        Y[i] = Y[i] / np.sum(Y[i])
    return np.sum(Y * Y * np.arange(1.0, Y.shape[1] + 1.0))


def swap_elements(x):
    u = x.copy()
    u[0], u[1] = u[1], u[0] * 2.0
    return np.sum(u * np.arange(1.0, u.shape[0] + 1.0) * x)


def slice_augmented(x):
    u = x * 1.0
    u[1:-1] += 0.5 * x[2:] * x[:-2]
    u[::2] -= x[::2] ** 2
    u[-1] /= 1.0 + x[0] * x[0]
    return np.sum(u * u)


def broadcast_into_slices(a, b, v):
    U = np.zeros((3, 4))
    U[0, :] = a
    U[:, 0] = v
    U[1:, 1:] = a * b
    U[:, 3:4] = v[:, None] * b
    return np.sum(U * U) + np.sum(U[:, 1])


def write_then_read(x):
    u = np.zeros_like(x)
    s = 0.0
    u[0] = x[0]
    for i in range(1, x.shape[0]):
        u[i] = u[i - 1] * 0.5 + x[i]
        s = s + u[i] * u[i]
    return s


def square_argument_in_place(x):
    for i in range(x.shape[0]):
        x[i] = x[i] ** 2
    return np.sum(x * np.arange(x.shape[0]))


def jacobi_two_buffers(u0, f):
    u = u0.copy()
    v = u0.copy()
    for _ in range(5):
        v[1:-1] = 0.5 * (u[2:] + u[:-2] - f[1:-1])
        u = v.copy()
    return np.sum(u * u)


def conditional_update_in_loop(x):
    y = x.copy()
    for i in range(y.shape[0]):
        if y[i] > 0.0:
            y[i] = y[i] * y[i]
        else:
            y[i] *= -0.5
    return np.sum(y * x)


def zero_the_largest(x):
    y = x * 2.0
    i = np.argmax(y)
    y[i] = 0.0
    return np.sum(y * y)


def fill_matrix_rows(x):
    n = x.shape[0]
    M = np.empty((n, 3))
    for i in range(n):
        M[i] = x[i] * np.array([1.0, 2.0, 3.0]) + x
    return np.sum(M ** 2)


def augmented_through_alias(x):
    u = x
    u += 1.0
    return np.sum(x * x)


def augmented_through_view(x):
    u = x.copy()
    v = u[1:]
    v *= 2.0
    return np.sum(u * u)


def chained_zeros_alias(x):
    a = b = np.zeros(3)
    a[0] = x
    a[2] = x * x
    return np.sum(b) * x


def reassigned_parameter_then_setitem(x):
    x = x * 2.0
    x[0] = 1.0
    return np.sum(x * x)


def reverse_2d_target(X):
    Y = np.zeros_like(X)
    Y[::-1, :] = X * 2.0
    Y[:, ::2] += X[:, ::2]
    return np.sum(Y * X)


def zeros_shape_from_arg(x):
    out = np.zeros((x.shape[0], 2))
    out[:, 0] = x
    out[:, 1] = x ** 2
    return np.sum(out @ np.array([1.0, -0.5]))


_r = rng_for(__name__)


def _n(*shape):
    return _r.normal(size=shape)


def _bump(n):
    s = np.linspace(0.0, 1.0, n)
    return np.exp(-30.0 * (s - 0.5) ** 2) + 0.1 * _r.normal(size=n)


def repeated_index_write(x):
    """NumPy keeps the last of repeated writes: the earlier element gets no gradient."""
    y = np.zeros(3)
    y[np.array([0, 0])] = x
    return np.sum(y * y)


def repeated_index_increment(x, w):
    y = np.zeros(3)
    idx = np.array([0, 2, 0])
    y[idx] += w * x
    return np.sum(y * y)


def repeated_row_write(M, v):
    A = M * 1.0
    A[np.array([1, 1]), :] = v
    return np.sum(A ** 2)


CASES = [
    Case(repeated_index_write, 0, [(np.array([1.0, 2.0]),), (np.array([-0.3, 0.8]),)]),
    Case(repeated_index_increment, (0, 1), [(np.array([1.0, 2.0, 3.0]), 0.7), (np.array([0.5, -1.0, 0.2]), -1.3)]),
    Case(repeated_row_write, (0, 1), [(np.ones((3, 2)), np.array([[1.0, 2.0], [3.0, 4.0]])),
                                      (np.arange(6.0).reshape(3, 2), np.array([[0.5, -2.0], [1.5, 0.1]]))]),
    Case(fill_from_zeros, 0, [(_n(4),), (_n(7),)]),
    Case(augmented_element_updates, 0, [(_n(5),), (_n(3),)]),
    Case(heat_equation, (0, 1), [(_bump(12), 0.2), (_bump(8), 0.1, 25)]),
    Case(heat_equation_2d, (0, 1), [(_n(5, 5), 0.1), (_n(4, 6), 0.2)]),
    Case(scale_columns, (0, 1), [(_n(3, 2), _n(2)), (_n(2, 4), _n(4))]),
    Case(cumulative_sum_empty_like, 0, [(_n(5),), (_n(2),)]),
    Case(recurrence_zeros_like, (0, 1), [(_n(6), 0.3), (_n(3), 0.8)]),
    Case(copy_then_modify, 0, [(_n(4),), (_n(6),)]),
    Case(mutates_argument, 0, [(_n(4),), (_n(3),)]),
    Case(mutates_argument_augmented, (0, 1), [(_n(4), _n(4)), (_n(2), _n(2))]),
    Case(overwrite_row, (0, 1), [(_n(3, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(strided_slice_update, 0, [(_n(6),), (_n(4),)]),
    Case(masked_update, 0, [(_n(6),), (_n(3, 2),)]),
    Case(matrix_fill_nested, 0, [(_n(3),), (_n(4),)]),
    Case(prefix_product, 0, [(_n(4),), (_n(2),)]),
    Case(normalize_rows, 0, [(_r.uniform(0.5, 2.0, size=(3, 4)),), (_r.uniform(0.5, 2.0, size=(2, 2)),)]),
    Case(swap_elements, 0, [(_n(3),), (_n(5),)]),
    Case(slice_augmented, 0, [(_n(5),), (_n(6),)]),
    Case(broadcast_into_slices, (0, 1, 2), [(0.7, -1.2, _n(3)), (-0.4, 0.3, _n(3))]),
    Case(write_then_read, 0, [(_n(4),), (_n(6),)]),
    Case(square_argument_in_place, 0, [(_n(4),), (_n(6),)]),
    Case(jacobi_two_buffers, (0, 1), [(_n(6), _n(6)), (_n(4), _n(4))]),
    Case(conditional_update_in_loop, 0, [(_n(5),), (_n(4),)]),
    Case(zero_the_largest, 0, [(_n(5),), (_n(3),)]),
    Case(fill_matrix_rows, 0, [(_n(3),), (_n(3),)]),
    Case(reassigned_parameter_then_setitem, 0, [(_n(3),), (_n(2, 2),)]),
    Case(reverse_2d_target, 0, [(_n(3, 4),), (_n(2, 2),)]),
    Case(zeros_shape_from_arg, 0, [(_n(3),), (_n(5),)]),
    Case(time_series_ode, (0, 1, 2), [(1.0, 0.5, 0.1), (0.4, 1.3, 0.05)]),
]

# In-place updates through an alias: refused with an AliasingError (never a wrong gradient).
ALIASING = [
    (augmented_through_alias, (_n(3),)),
    (augmented_through_view, (_n(3),)),
    (chained_zeros_alias, (0.7,)),
]


# ---- a result rebound, then written in place (issue 9): the VJP of tanh/sqrt/division
# reads that result, so the write must be undone before the backward sweep reaches it
def tanh_rebound_then_incremented(x):
    v = x * 2.0
    v = np.tanh(v)
    v[0] += 1.0
    return np.sum(v * v)


def sqrt_rebound_then_scaled(x):
    v = x * 2.0
    v = np.sqrt(v)
    v[1] = v[1] * 3.0
    return np.sum(v * x)


def division_rebound_then_incremented(x):
    v = x + 1.0
    v = v / x
    v[0] += 2.0
    return np.sum(v * v)


def tanh_rebound_then_stencil(x):
    v = x * 1.5
    v = np.tanh(v)
    v[1:-1] = v[1:-1] + 0.1 * (v[2:] - 2.0 * v[1:-1] + v[:-2])
    return np.sum(v ** 2)


def tanh_reversed_then_stencil(x):
    v = x * 1.5
    v = np.tanh(v)[::-1]
    v[1:-1] = v[1:-1] + 0.1 * (v[2:] - 2.0 * v[1:-1] + v[:-2])
    return np.sum(v ** 2 * x)


def tanh_rebound_reversed_then_updated(x):
    v = np.tanh(x * 1.5)
    v = v[::-1]
    v[0] += 1.0
    v[1:-1] = v[1:-1] + 0.1 * (v[2:] - 2.0 * v[1:-1] + v[:-2])
    return np.sum(v ** 2 * x)


def sqrt_then_stencil_steps(x):
    v = np.sqrt(x)
    for k in range(3):
        v[1:-1] = v[1:-1] + 0.2 * (v[2:] - 2.0 * v[1:-1] + v[:-2])
    return np.sum(v ** 3)


def division_rebound_then_loop_updates(x, y):
    v = x / y
    v = v / (1.0 + x * x)
    for i in range(3):
        v[i] *= v[i + 1]
    return np.sum(v * y)


def tanh_rebound_in_a_loop_then_updated(x):
    v = x * 1.0
    for k in range(2):
        v = np.tanh(v)
        v[0] += 1.0
        v[1:] = v[1:] * v[:-1]
    return np.sum(v * v)


_pos = np.array([0.3, 0.7, 1.1, 0.4, 0.9])
_pos2 = np.array([1.3, 0.2, 0.5, 2.1, 0.6, 0.8])
CASES += [
    Case(tanh_rebound_then_incremented, 0, [(_n(4),), (_n(6),)]),
    Case(sqrt_rebound_then_scaled, 0, [(_pos,), (_pos2,)]),
    Case(division_rebound_then_incremented, 0, [(_pos,), (_pos2,)]),
    Case(tanh_rebound_then_stencil, 0, [(_n(5),), (_n(8),)]),
    Case(tanh_reversed_then_stencil, 0, [(_n(5),), (_n(8),)]),
    Case(tanh_rebound_reversed_then_updated, 0, [(_n(5),), (_n(8),)]),
    Case(sqrt_then_stencil_steps, 0, [(_pos,), (_pos2,)]),
    Case(division_rebound_then_loop_updates, (0, 1), [(_n(5), _pos), (_n(6), _pos2)]),
    Case(tanh_rebound_in_a_loop_then_updated, 0, [(_n(4),), (_n(6),)]),
]


# ---- aliases that no one reads after the write (issue 9: no false refusal)
def view_used_up_before_the_write(x, c):
    u = x * 1.0
    w = u[1:]
    s = np.sum(w * w)
    u[0] = 5.0 * c
    return s + np.sum(u * u)


def alias_read_before_the_write(x, c):
    u = np.tanh(x)
    v = u
    s = np.sum(v * x)
    u[0] = c
    u[1:] = u[1:] * u[:-1]
    return s + np.sum(u)


def nested_helper_modifies_its_argument(x, c):
    def bump(a):
        a[0] = a[0] * 2.0 + c
        a[2:4] = a[2:4] * a[0]
    u = x * 1.0
    bump(u)
    bump(u)
    return np.sum(u * x)


def nested_helper_result_then_modified(x, c):
    def smooth(a):
        b = a * 1.0
        b[1:-1] = 0.5 * (a[2:] + a[:-2])
        return b
    u = x * 2.0
    v = smooth(u)
    v[0] = v[0] * c
    u[1] = c * c
    return np.sum(v * u)


def stencil_in_a_loop_with_temporaries(x, c):
    u = x * 1.0
    for k in range(3):
        u[1:-1] = u[1:-1] + 0.1 * c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        if np.sum(u) > 10.0:
            return np.sum(u)
    return np.sum(u * u)


CASES += [
    Case(view_used_up_before_the_write, (0, 1), [(_n(5), 0.7), (_n(4), -1.2)]),
    Case(alias_read_before_the_write, (0, 1), [(_n(5), 0.7), (_n(3), -1.2)]),
    Case(nested_helper_modifies_its_argument, (0, 1), [(_n(5), 0.7), (_n(6), -0.4)]),
    Case(nested_helper_result_then_modified, (0, 1), [(_n(5), 0.7), (_n(6), -0.4)]),
    Case(stencil_in_a_loop_with_temporaries, (0, 1), [(_n(6), 0.7), (_n(5) + 3.0, 0.9)]),
]


def view_read_after_the_write(x, c):
    u = x * 1.0
    w = u[1:]
    u[2] = c
    return np.sum(w * x)


def view_read_on_the_next_trip(x, c):
    u = x * 1.0
    w = u[1:]
    for i in range(3):
        s = np.sum(w)
        u[i] = s * c
    return np.sum(u * u)


ALIASING += [
    (view_read_after_the_write, (_n(5), 0.7)),
    (view_read_on_the_next_trip, (_n(5), 0.7)),
]


# ---- found while fuzzing the time-aware alias check (issue 9)
def chained_assignment_read_then_written(x, c):
    a = b = x * 1.0
    s = np.sum(b * b)
    a[0] = c
    return s + np.sum(a * x)


def literal_list_then_appended(x, c):
    w = np.tanh(x)
    M = [x * 1.0]
    M.append(w * c)
    return np.sum(M[0] * M[-1])


CASES += [
    Case(chained_assignment_read_then_written, (0, 1), [(_n(3), 0.7), (_n(5), -0.3)]),
    Case(literal_list_then_appended, (0, 1), [(_n(3), 0.7), (_n(4), -0.3)]),
]


def view_made_later_in_an_outer_loop(x, c):
    u = x * 1.0
    v = x * 2.0
    for i in range(3):
        for j in range(3):
            v[v > 0.5] = 0.5 * c
        if np.sum(u) > 0.0:
            v = u[1:]
    return np.sum(u * u) + np.sum(v) * c


ALIASING += [(view_made_later_in_an_outer_loop, (np.array([-0.28, 0.61, 1.0, 1.03, 1.49, 0.65]), -0.28))]


def view_through_a_reshape_read_after_the_write(x, c):
    v = x * 2.0
    u = np.reshape(v, (2, 3))[0]
    v[1] = c
    return np.sum(u * u) + np.sum(v) * c


def view_through_a_transpose_read_after_the_write(x, c):
    v = x * 2.0
    u = v.T[1:]
    v[1] = c
    return np.sum(u * u) + np.sum(v) * c


ALIASING += [
    (view_through_a_reshape_read_after_the_write, (_n(6), 0.7)),
    (view_through_a_transpose_read_after_the_write, (_n(6), 0.7)),
]


# ---- an alias read only by the backward sweep after a write through another name:
# the write is recorded and undone before the alias's VJP reads it (issue 9)
def view_read_backwards_after_base_written(x, c):
    u = x * 1.0
    w = u[1:]
    s = np.sum(np.sin(w) * w)
    u[2] = c
    return s + np.sum(u * x)


def appended_array_read_backwards_after_written(x, c):
    u = x * 1.0
    L = []
    L.append(u)
    s = np.sum(L[0] ** 2)
    u[0] = c * u[1]
    return s + np.sum(u * u)


def reshaped_view_in_matmul_then_base_scaled(x, c):
    u = np.exp(x)
    w = u.reshape(2, 2)
    M = w @ w.T
    s = np.sum(M * M)
    u[1:3] = u[1:3] * c
    return s + np.sum(u ** 3)


def reversed_view_read_backwards_then_base_updated(x, c):
    u = x * 1.0
    w = u[::-1]
    s = np.sum(np.sqrt(w * w + 1.0))
    u *= c
    u[0] += s
    return np.sum(u * u)


CASES += [
    Case(view_read_backwards_after_base_written, (0, 1), [(_n(4), 0.7), (_n(6), -0.3)]),
    Case(appended_array_read_backwards_after_written, (0, 1), [(_n(4), 0.7), (_n(3), -0.3)]),
    Case(reshaped_view_in_matmul_then_base_scaled, (0, 1), [(_n(4) * 0.5, 0.7), (_n(4) * 0.5, -0.3)]),
    Case(reversed_view_read_backwards_then_base_updated, (0, 1), [(_n(4), 0.7), (_n(5), -0.3)]),
]


# ------------------------------------------------ writing an array into itself (fuzzer finding)
def whole_array_written_into_itself(x):
    u = x * 2.0
    u[:] = u
    return np.sum(u * u)


def argument_written_into_itself(x, c):
    x[:] = x
    x[1:] = x[1:] * c
    return np.sum(x * x)


def _self_write(p):
    p[:] = p
    return np.concatenate([p[:2], p[2:]]) * 1.5


def helper_writes_its_argument_into_itself(x):
    u = _self_write(x)
    return np.sum(np.tanh(u[1:]) * x[1:])


def self_write_in_a_loop(x, c):
    u = x.copy()
    for _ in range(3):
        u[:] = u
        u[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


CASES += [
    Case(whole_array_written_into_itself, 0, [(_n(3),), (_n(5),)]),
    Case(argument_written_into_itself, (0, 1), [(_n(4), 0.7), (_n(3), -1.3)]),
    Case(helper_writes_its_argument_into_itself, 0, [(_n(4),), (_n(6),)]),
    Case(self_write_in_a_loop, (0, 1), [(_n(5), 0.2), (_n(7), 0.3)]),
]


# --------------------------- tuples carry aliases (fuzzer findings: wrong gradients before)
def tuple_element_read_after_the_write(x):
    t = (np.sum(x), x)
    s, u = t
    x[0] = np.sum(x * x)
    return 0.25 * np.sum(u) + s


def tuple_element_written_then_base_read(x, c):
    t = (math.cos(c), x)
    s, u = t
    u[0] -= 0.75 / (c * c + 1.0)
    return np.sum(x * x) + s


def tuple_read_after_the_write(x):
    t = (x, 2.0)
    x[1:] = x[1:] + 0.25 * x[:-1]
    return np.sum(t[0] * t[0])


def _maybe_returns_argument(c, p):
    if c < 1.0:
        return p * 2.0
    return p


def helper_may_return_its_argument_then_written(x, c):
    for i in range(3):
        u = _maybe_returns_argument(c, x)
        x[i] -= math.cos(np.sum(u))
        u[1:] = u[1:] + 0.1 * u[:-1]
    return 0.5 * np.sum(x * x)


ALIASING += [
    (tuple_element_read_after_the_write, (_n(5),)),
    (tuple_element_written_then_base_read, (_n(4), 0.7)),
    (tuple_read_after_the_write, (_n(4),)),
    (helper_may_return_its_argument_then_written, (_n(4), 1.5)),
]


def tuple_of_a_copy_then_base_written(x, c):
    t = (np.sum(x) * c, x.copy())
    s, u = t
    x[0] = np.sum(x * x)
    return 0.25 * np.sum(u * u) + s * x[0]


def tuple_read_before_the_write(x, c):
    t = (c, x)
    s, u = t
    y = np.sum(u * u) * s
    x[1:] = x[1:] + s * x[:-1]
    return y + np.sum(x)


CASES += [
    Case(tuple_of_a_copy_then_base_written, (0, 1), [(_n(4), 0.7), (_n(5), -0.3)]),
    Case(tuple_read_before_the_write, (0, 1), [(_n(4), 0.7), (_n(5), -0.3)]),
]
