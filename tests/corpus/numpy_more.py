"""More of NumPy as scientists use it: linear algebra, cumulative operations,
interpolation, padding and rolling, sorting, statistics, stacking helpers."""
import numpy as np

from . import Case, rng_for


def linear_solve(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x * x)


def inverse_and_det(A):
    return np.sum(np.linalg.inv(A)) + np.linalg.det(A)


def log_determinant(S):
    sign, logdet = np.linalg.slogdet(S)
    return logdet


def gaussian_negative_log_likelihood(L, x):
    S = L @ L.T + np.eye(L.shape[0])
    C = np.linalg.cholesky(S)
    z = np.linalg.solve(C, x)
    return 0.5 * np.sum(z * z) + np.sum(np.log(np.diag(C)))


def symmetric_eigenvalues(A):
    S = A + A.T
    w = np.linalg.eigvalsh(S)
    return np.sum(w * np.arange(1.0, w.shape[0] + 1.0))


def norms(x, M):
    return np.linalg.norm(x) + np.linalg.norm(M) ** 2


def cumulative(x):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.cumprod(x))


def finite_differences(x):
    d = np.diff(x)
    dd = np.diff(x, n=2)
    return np.sum(d * d) + np.sum(dd ** 2)


def interpolation(ys, xq):
    xs = np.linspace(0.0, 1.0, ys.shape[0])
    return np.sum(np.interp(xq, xs, ys) ** 2)


def periodic_laplacian(u):
    lap = np.roll(u, 1) + np.roll(u, -1) - 2.0 * u
    return np.sum(lap * lap)


def padded_smoothing(u):
    p = np.pad(u, 1)
    s = (p[:-2] + p[1:-1] + p[2:]) / 3.0
    return np.sum(s * u)


def tiled_and_repeated(x):
    t = np.tile(x, 2)
    r = np.repeat(x, 3)
    return np.sum(t * t) + np.sum(r ** 3)


def flipped(x):
    return np.sum(x * np.flip(x)) + np.sum(np.flipud(x) ** 3)


def sorted_weights(x):
    s = np.sort(x)
    w = np.arange(1.0, x.shape[0] + 1.0)
    return np.sum(s * w)


def statistics(X):
    return np.sum(np.var(X, axis=0)) + np.std(X) + np.mean(X, axis=-1)[0]


def log_add_exp(x, y):
    return np.sum(np.logaddexp(x, y))


def polar_arrays(x, y):
    return np.sum(np.hypot(x, y) * np.arctan2(y, x))


def tensor_contractions(A, B, x):
    return np.tensordot(A, B, axes=2) + np.inner(x, x) + np.vdot(x, A[0])


def trace_diag_tri(A):
    return np.trace(A) ** 2 + np.sum(np.diag(A) ** 3) + np.sum(np.tril(A) * np.triu(A.T))


def stacking_helpers(x, y):
    H = np.hstack([x, y])
    V = np.vstack([x, y])
    return np.sum(H * H) + np.sum(V[0] * V[1])


def take_and_expand(x):
    t = np.take(x, [0, 2, 2])
    e = np.expand_dims(x, 0)
    return np.sum(t * t) + np.sum(e @ e.T) + np.sum(np.squeeze(e) ** 3)


def axes_manipulation(X):
    Y = np.swapaxes(X, 0, 1)
    Z = np.moveaxis(X, 0, -1)
    return np.sum(Y * Z)


def full_and_linspace(x):
    f = np.full_like(x, 2.0)
    g = np.full(x.shape, 0.5)
    t = np.linspace(0.0, 1.0, x.shape[0])
    return np.sum(f * x * x + g * x + t * np.exp(x))


def product_with_zero(x):
    return np.prod(x) + np.prod(x * x)


def cube_of_negatives(x, s):
    return np.sum(x ** 3) + s ** 3 + np.sum(np.power(x, 2))


def nan_reductions(x):
    return np.nansum(x * x) + np.nanmean(x) + np.nanmax(x)


def matrix_method_calls(A, x):
    return np.sum(A.dot(x) ** 2) + A.T.sum() + A.trace() + np.sum(A.cumsum(axis=0))


def reduction_variants(X):
    a = np.sum(X, axis=-1)
    b = np.mean(X, axis=(0, 1))
    c = X.sum(1, keepdims=True)
    d = np.max(X, axis=-1, keepdims=True)
    return np.sum(a * a) + b + np.sum(c * X) + np.sum(d * X)


def where_with_scalars(x):
    y = np.where(x > 0.0, x, 0.0) + np.where(x < 0.5, 1.0, x * x)
    return np.sum(y * y)


def broadcast_maximum(x, M):
    return np.sum(np.maximum(x, M) + np.minimum(M, 0.0) * x)


def builtin_abs_array(x):
    return np.sum(abs(x) * x)


def batched_matmul(A, B):
    C = A @ B
    return np.sum(C ** 2)


def unpack_vector(p):
    a, b = p[0], p[1]
    c, d = p[2:]
    return a * b + c * d + a * d


def softmax_attention(Q, K, V):
    S = Q @ K.T / np.sqrt(Q.shape[1])
    S = S - np.max(S, axis=1, keepdims=True)
    P = np.exp(S)
    P = P / np.sum(P, axis=1, keepdims=True)
    return np.sum((P @ V) ** 2)


# --- issue 9: einsum forms (sublists, ellipses anywhere, traces, many operands) ---
def einsum_sublist_transpose(x):
    return np.sum(np.einsum(x, [0, 1], [1, 0]) * np.arange(6.0).reshape(3, 2))


def einsum_sublist_two_operands(a, b):
    c = np.einsum(a, [0, 1], b, [1, 2], [0, 2])
    d = np.einsum(a, [0, 1], b, [1, 2])
    return np.sum(c * c) + np.sum(np.sin(d))


def einsum_middle_ellipsis(a, b):
    return np.sum(np.einsum("j...k,lj...->lk...", a, b) ** 2)


def einsum_traces_and_diagonals(a, t):
    return (np.einsum("ii", a) + np.sum(np.einsum("ii->i", a) ** 2) + np.einsum("ii->", a @ a)
            + np.sum(np.einsum("iij->j", t) ** 3))


def einsum_four_operands_implicit(a, b, c, d):
    return np.sum(np.einsum("ij,jk,kl,lm", a, b, c, d) ** 2)


def einsum_subscripts_variable(a, b):
    spec = "ij,kj->ik"
    return np.sum(np.einsum(spec, a, b) ** 2)


def einsum_in_loop(x, k):
    c = x
    for i in range(3):
        c = np.einsum("ij,jk->ik", c, k)
    return np.sum(c[0])


# --- issue 9: a value rebound in a loop and not read after it: the last one's adjoint is
# the symbolic zero, which every rule (cumsum, concatenate, matmul...) must accept ---
def concatenate_rotation_unused(x):
    s = 0.0
    c = np.cumsum(x)
    for i in range(3):
        s = s + c
        c = np.concatenate([c[1:], c[:1]])
    return np.sum(s ** 2)


def cumsum_concatenate_rebound(x, y):
    c = np.cumsum(x)
    for i in range(3):
        c = np.concatenate([c[1:], c[:1]]) * 0.5 + c
    return np.sum(c ** 2) * y


def growing_concatenate_unused(x, y):
    s = 0.0
    c = np.cumsum(x)
    for i in range(3):
        s = s + np.sum(c * y)
        c = np.concatenate([c, c[-1:] * y])
    return s


def stack_in_loop_unused(x):
    s = 0.0
    c = x
    for i in range(3):
        s = s + np.sum(np.sin(c))
        c = np.stack([c, c * 2.0])[1]
        d = np.reshape(np.outer(c, c), (-1,))
        e = np.transpose(np.atleast_2d(d))
    return s


def matrix_recursion_unused(P, A, Q):
    s = 0.0
    for i in range(3):
        s = s + np.trace(P)
        P = A @ P @ A.T + Q
        L = np.linalg.inv(P + 3.0 * np.eye(2))
    return s


# --- issue 9: statistics and norms where they are 0 (derivative 0: a subgradient) ---
def std_length_one_axis(x):
    return np.sum(np.std(x, axis=1)) + np.sum(np.var(x, axis=1)) + np.sum(np.std(x, axis=1, keepdims=True) * x)


def norms_at_zero(x):
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, axis=1)) + np.sum(np.hypot(x, 0.0))


# --- issue 9: the builtin sum over an array: its elements (1-D), its rows (2-D) ---
def builtin_sum_with_other_terms(x, y):
    return sum(x) + np.sum(x ** 2) + sum(x * 2.0) * y


def builtin_sum_of_rows(x):
    r = sum(x)
    return np.sum(r * r) + sum(sum(x * x)) + sum(x[0] ** 2) * x[1, 0] + sum([x[0, 0], x[1, 1]], 0.5) ** 2


# --- issue 9 (edge values): the determinant of a singular matrix (inv would fail) ---
def determinant_singular(a):
    return np.linalg.det(a) + np.linalg.det(a[:2, :2] * 0.0) + np.linalg.det(a @ a.T) ** 2


# --- issue 9: an adjoint scaled on a loop trip where it is still the symbolic zero, then
# updated in place (c_bar * 2.0 is a scalar there, not an array) ---
def scaled_then_indexed_in_loop(x, y):
    s = 0.0
    c = x * 1.0
    for i in range(2):
        s = s + c[0] * y
        c = c * 2.0
    return s


def negated_then_indexed_in_loop(x, y):
    s = 0.0
    c = x * 1.0
    for i in range(3):
        s = s + c[1] * y + np.sum(c[::2])
        c = -c
    return s


# --- found while fuzzing issue 9's rules (transform, not rules): a rule's result
# (`ans`, which np.exp's adjoint reads) is written in place on the next trip ---
def result_written_in_place_next_trip(x):
    s = 0.0
    m = x * 1.0
    for i in range(2):
        m[1] = m[1] + 1.0
        s = s + np.sum(m)
        m = np.exp(m)
    return s


_r = rng_for(__name__)


def grids_from_lengths(u0, a):
    """Arrays sized by another array's length: linspace, zeros, arange, ones of a shape."""
    x = np.linspace(0.0, 1.0, u0.shape[0])
    g = np.zeros(len(u0)) + a
    k = np.arange(u0.shape[0]) * 0.5
    o = np.ones(u0.shape) * a
    return np.sum(u0 * x * g) + np.sum(np.sin(u0 * k) * o) + np.sum(x[1:] * u0[:-1] * a)


def grid_of_matrix_rows(M, w):
    n, m = M.shape
    r = np.linspace(0.0, 1.0, n)
    c = np.zeros(m) + w
    return np.sum(M * r[:, None] * c) + np.sum(M[:, 0] * r) * len(M)


def _n(*shape):
    return _r.normal(size=shape)


def _spd(n):
    M = _r.normal(size=(n, n))
    return M @ M.T + n * np.eye(n)


CASES = [
    Case(grids_from_lengths, (0, 1), [(_n(5), 0.7), (_n(3), -1.1), (_n(1), 0.4)]),
    Case(grid_of_matrix_rows, (0, 1), [(_n(3, 4), 0.7), (_n(2, 2), -1.1)]),
    Case(linear_solve, (0, 1), [(_spd(3), _n(3)), (_spd(2) + 0.3, _n(2))]),
    Case(inverse_and_det, 0, [(_spd(3),), (_spd(2) + 0.5 * _n(2, 2),)]),
    Case(log_determinant, 0, [(_spd(3),), (_spd(4),)]),
    Case(gaussian_negative_log_likelihood, (0, 1), [(_n(3, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(symmetric_eigenvalues, 0, [(_n(3, 3),), (_n(4, 4),)]),
    Case(norms, (0, 1), [(_n(4), _n(2, 3)), (_n(2), _n(3, 3))]),
    Case(cumulative, 0, [(_n(5),), (_r.uniform(0.5, 1.5, size=4),)]),
    Case(finite_differences, 0, [(_n(6),), (_n(4),)]),
    Case(interpolation, 0, [(_n(5), np.array([0.1, 0.33, 0.71, 0.95])), (_n(9), np.array([0.05, 0.5]))]),
    Case(periodic_laplacian, 0, [(_n(6),), (_n(9),)]),
    Case(padded_smoothing, 0, [(_n(5),), (_n(3),)]),
    Case(tiled_and_repeated, 0, [(_n(3),), (_n(5),)]),
    Case(flipped, 0, [(_n(4),), (_n(5),)]),
    Case(sorted_weights, 0, [(_n(5),), (_n(3),)]),
    Case(statistics, 0, [(_n(4, 3),), (_n(3, 5),)]),
    Case(log_add_exp, (0, 1), [(_n(4), _n(4)), (_n(2, 3), _n(3))]),
    Case(polar_arrays, (0, 1), [(_n(4), _n(4)), (_n(3, 2), _n(2))]),
    Case(tensor_contractions, (0, 1, 2), [(_n(3, 3), _n(3, 3), _n(3)), (_n(2, 2), _n(2, 2), _n(2))]),
    Case(trace_diag_tri, 0, [(_n(3, 3),), (_n(4, 4),)]),
    Case(stacking_helpers, (0, 1), [(_n(3), _n(3)), (_n(5), _n(5))]),
    Case(take_and_expand, 0, [(_n(3),), (_n(5),)]),
    Case(axes_manipulation, 0, [(_n(3, 3),), (_n(2, 2),)]),
    Case(full_and_linspace, 0, [(_n(4),), (_n(6),)]),
    Case(product_with_zero, 0, [(np.array([1.5, 0.0, -2.0, 0.7]),), (np.array([0.0, 3.0]),), (_n(4),)]),
    Case(cube_of_negatives, (0, 1), [(-np.abs(_n(4)), -1.3), (_n(3, 2), -0.4)]),
    Case(nan_reductions, 0, [(_n(4),), (_n(2, 3),)]),
    Case(matrix_method_calls, (0, 1), [(_n(3, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(reduction_variants, 0, [(_n(3, 4),), (_n(2, 2),)]),
    Case(where_with_scalars, 0, [(np.array([-0.7, 0.2, 0.9, 1.6]),), (np.array([[0.1, -0.3], [0.8, 2.0]]),)]),
    Case(broadcast_maximum, (0, 1), [(_n(3), _n(2, 3)), (_n(4), _n(1, 4))]),
    Case(builtin_abs_array, 0, [(_n(4),), (_n(2, 3),)]),
    Case(batched_matmul, (0, 1), [(_n(2, 3, 4), _n(2, 4, 2)), (_n(3, 2, 2), _n(2, 1))]),
    Case(unpack_vector, 0, [(_n(4),), (_n(4),)]),
    Case(softmax_attention, (0, 1, 2), [(_n(3, 2), _n(4, 2), _n(4, 2)), (_n(2, 3), _n(2, 3), _n(2, 1))]),
    Case(einsum_sublist_transpose, 0, [(_n(2, 3),), (_n(2, 3),)]),
    Case(einsum_sublist_two_operands, (0, 1), [(_n(2, 3), _n(3, 4)), (_n(1, 2), _n(2, 2))]),
    Case(einsum_middle_ellipsis, (0, 1), [(_n(2, 3), _n(4, 2)), (_n(2, 5, 3), _n(4, 2)),
                                          (_n(2, 3), _n(4, 2, 5))]),
    Case(einsum_traces_and_diagonals, (0, 1), [(_n(3, 3), _n(2, 2, 3)), (_n(2, 2), _n(3, 3, 1))]),
    Case(einsum_four_operands_implicit, (0, 1, 2, 3), [(_n(2, 3), _n(3, 4), _n(4, 2), _n(2, 3)),
                                                     (_n(1, 2), _n(2, 2), _n(2, 3), _n(3, 1))]),
    Case(einsum_subscripts_variable, (0, 1), [(_n(2, 3), _n(4, 3)), (_n(3, 1), _n(2, 1))]),
    Case(einsum_in_loop, (0, 1), [(_n(2, 2), 0.5 * _n(2, 2)), (_n(1, 3), 0.5 * _n(3, 3))]),
    Case(concatenate_rotation_unused, 0, [(_n(3),), (_n(5),)]),
    Case(cumsum_concatenate_rebound, (0, 1), [(_n(3), 0.7), (_n(4), -1.2)]),
    Case(growing_concatenate_unused, (0, 1), [(_n(3), 0.7), (_n(2), 1.1)]),
    Case(stack_in_loop_unused, 0, [(_n(3),), (_n(2),)]),
    Case(matrix_recursion_unused, (0, 1, 2), [(_n(2, 2), 0.5 * _n(2, 2), _n(2, 2)),
                                              (np.eye(2), 0.3 * _n(2, 2), 0.1 * _n(2, 2))]),
    Case(std_length_one_axis, 0, [(_n(3, 1),), (_n(1, 1),)]),
    Case(norms_at_zero, 0, [(np.zeros((2, 3)),), (np.array([[0.0, 0.0], [3.0, -4.0]]),)]),
    Case(builtin_sum_with_other_terms, (0, 1), [(_n(3), 1.5), (_n(5), -0.5)]),
    Case(builtin_sum_of_rows, 0, [(_n(3, 2),), (_n(2, 4),)]),
    Case(result_written_in_place_next_trip, 0, [(np.array([0.3, -0.5, 0.2]),), (_n(4),)]),
    Case(determinant_singular, 0, [(np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -0.2, 1.5]]),),
                                   (np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [1.5, 0.2, -0.7]]),)]),
    Case(scaled_then_indexed_in_loop, (0, 1), [(_n(3), 0.7), (_n(2), -1.3)]),
    Case(negated_then_indexed_in_loop, (0, 1), [(_n(3), 0.7), (_n(4), 0.2)]),
]
