"""NumPy: elementwise functions, broadcasting, reductions, linear algebra,
shape manipulation, indexing and array constants."""
import numpy as np

from . import Case, rng_for

WEIGHTS = np.array([0.5, -1.0, 2.0, 0.25])


def elementwise_trig(x):
    return np.sum(np.sin(x) * np.cos(x) + np.tan(0.5 * x))


def elementwise_exp_log(x):
    return np.sum(np.exp(-x) * np.log(x) + np.sqrt(x))


def elementwise_tanh_abs(x):
    return np.sum(np.tanh(x) * np.abs(x))


def relu_and_clamp(x, y):
    r = np.maximum(x, 0.0) + np.minimum(x, y)
    return np.sum(r * r)


def piecewise_where(x):
    y = np.where(x > 0.0, x * x, -0.5 * x)
    return np.sum(y)


def clipped(x):
    return np.sum(np.clip(x, -0.5, 0.5) * x)


def powers(x, y):
    return np.sum(np.power(x, 3) + np.power(x, y) + np.square(y))


def scalar_times_vector(a, x):
    return np.sum(a * x + a * a)


def matrix_plus_vector(M, v):
    return np.sum((M + v) ** 2)


def outer_broadcast(col, row):
    grid = col * row
    return np.sum(np.sin(grid))


def broadcast_subtract_mean(X):
    centered = X - X.mean(axis=0)
    return np.sum(centered ** 2) / X.shape[0]


def reductions_axis(X):
    a = np.sum(X, axis=0)
    b = np.mean(X, axis=1)
    c = np.sum(X * X, axis=1, keepdims=True)
    return np.sum(a * a) + np.sum(b) + np.sum(c * X)


def product_reduction(x):
    return np.prod(x) + np.sum(np.prod(x.reshape(2, 3), axis=1))


def max_min_reductions(X):
    return np.max(X) - np.min(X) + np.sum(np.max(X, axis=0)) + np.sum(np.min(X, axis=1, keepdims=True))


def matvec(A, x):
    y = A @ x
    return np.sum(y * y)


def matmat(A, B):
    C = A @ B
    return np.sum(np.tanh(C))


def vecvec_dot(x, y):
    return x @ y + np.dot(x, x) * np.dot(y, y)


def least_squares(A, x, b):
    r = A @ x - b
    return 0.5 * (r @ r)


def outer_product(u, v):
    M = np.outer(u, v)
    return np.sum(M * M) + M[0, 1]


def einsum_forms(A, x, B):
    y = np.einsum("ij,j->i", A, x)
    s = np.einsum("ij,ij->", A, A)
    C = np.einsum("ij,jk->ik", A, B)
    return np.sum(y * y) + s + np.sum(C)


def transposes(A, B):
    return np.sum(A.T @ B) + np.sum(np.transpose(A) * B.T)


def reshaped(x):
    M = x.reshape(2, 3)
    N = np.reshape(x, (3, 2))
    return np.sum(M @ N) + np.sum(M.reshape(-1) * x)


def concatenated(x, y):
    z = np.concatenate([x, y * y])
    w = np.concatenate((x, x), axis=0)
    return np.sum(z * np.arange(z.shape[0])) + np.sum(w ** 3)


def stacked(x, y):
    S = np.stack([x, y])
    T = np.stack((x, y * 2.0), axis=1)
    return np.sum(S * S) + np.sum(T[:, 1] * x)


def integer_indexing(x):
    return x[0] * x[2] + x[-1] ** 2 - x[-2]


def slice_indexing(x):
    return np.sum(x[::2] * x[1::2]) + np.sum(x[1:-1] ** 2) + np.sum(x[::-1] * x)


def matrix_indexing(X):
    a = X[1:, :2]
    b = X[0, :]
    c = X[:, -1]
    return np.sum(a * a) + np.sum(b * b * b) + X[1, 2] * np.sum(c)


def newaxis_indexing(x, y):
    M = x[:, None] * y[None, :]
    N = x[np.newaxis, :] + x[:, np.newaxis]
    return np.sum(M * M) + np.sum(np.sin(N))


def differences(x):
    d = x[1:] - x[:-1]
    return np.sum(d * d)


def constants_mixed_in(x):
    z = np.zeros(3)
    o = np.ones(3)
    c = np.array([1.0, 2.0, 3.0])
    zz = np.zeros_like(x)
    return np.sum((x + z) * o * c) + np.sum(zz * x + x * x) + np.sum(WEIGHTS[:3] * x)


def method_forms(X):
    s = X.sum(axis=0)
    m = X.mean()
    R = X.reshape(3, 2)
    return np.sum(s * s) + m * m + R.sum() + X.max()


def softmax_cross_entropy(z, target):
    shifted = z - np.max(z)
    p = np.exp(shifted) / np.sum(np.exp(shifted))
    return -np.sum(target * np.log(p))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def two_layer_mlp(W1, b1, W2, x):
    h = np.tanh(W1 @ x + b1)
    out = W2 @ h
    return np.sum(out * out)


def euclidean_norm(x):
    return np.sqrt(np.sum(x ** 2))


def variance(x):
    mu = np.mean(x)
    return np.mean((x - mu) ** 2)


def quadratic_form(A, x):
    return x @ A @ x


def gaussian_log_likelihood(x, mu, log_sigma):
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    return -np.sum(0.5 * z * z + log_sigma + 0.5 * np.log(2.0 * np.pi))


def scalar_numpy_calls(x):
    return np.sin(x) ** 2 + np.cos(x) * np.exp(x)


def inactive_int_array(x, idx):
    return np.sum(x[idx] ** 2) + x[idx[0]]


def mixed_index(X):
    return np.sum(X[1:, 0] * X[::2, ::-1][1, :2]) + np.sum(X[-1, 1:] ** 2)


def stack_axes(x, y):
    S = np.stack([x, y], axis=-1)
    C = np.concatenate([S, S * 2.0], axis=1)
    return np.sum(C ** 2) + np.sum(S[:, 0] * S[:, 1])


def transpose_3d(X):
    Y = np.transpose(X, (1, 0, 2))
    Z = X.transpose(2, 1, 0)
    return np.sum(Y[0] * Y[1]) + np.sum(Z ** 2 * np.arange(Z.shape[2]))


def keepdims_variants(X):
    a = np.sum(X, keepdims=True)
    b = np.mean(X, axis=0, keepdims=True)
    c = X.max(axis=1, keepdims=True)
    return np.sum(a * X) + np.sum(b * X) + np.sum(c * X)


def clip_array_bounds(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) ** 2)


def where_broadcast(a, b):
    c = np.array([True, False, True, False])
    return np.sum(np.where(c, a, b) ** 2)


def maximum_broadcast(x, y):
    return np.sum(np.maximum(x, y) ** 2)


def power_broadcast(x, y):
    return np.sum(np.power(x, y))


def vector_matrix(x, A):
    return np.sum((x @ A) ** 2) + np.sum(np.dot(x, A)) + np.sum(np.dot(A.T, x))


def einsum_more(A, B, x):
    return (np.einsum("ij,kj->ik", A, B).sum() + np.einsum("i,i->", x, x)
            + np.einsum("ii->", A @ A.T) + np.sum(np.einsum("ij->ji", A) * B.T) + np.sum(np.einsum("i,j->ij", x, x)))


def sum_axis_tuple_method(X):
    return X.sum(axis=(0, 1)) + X.mean(0).sum() + X.prod(axis=1).sum()


_r = rng_for(__name__)


def _n(*shape):
    return _r.normal(size=shape)


def _pos(*shape):
    return _r.uniform(0.3, 2.0, size=shape)


CASES = [
    Case(elementwise_trig, 0, [(_n(5),), (_r.uniform(-1, 1, size=(2, 3)),)]),
    Case(elementwise_exp_log, 0, [(_pos(4),), (_pos(2, 3),)]),
    Case(elementwise_tanh_abs, 0, [(_n(5),), (_n(3, 2),)]),
    Case(relu_and_clamp, (0, 1), [(_n(6), _n(6)), (_n(2, 3), _n(3))]),
    Case(piecewise_where, 0, [(_n(6),), (_n(3, 3),)]),
    Case(clipped, 0, [(_n(6),), (_n(2, 4),)]),
    Case(powers, (0, 1), [(_pos(4), _pos(4)), (_pos(2, 3), _pos(3))]),
    Case(scalar_times_vector, (0, 1), [(0.7, _n(4)), (-1.3, _n(2, 3))]),
    Case(matrix_plus_vector, ("M", "v"), [(_n(3, 4), _n(4)), (_n(2, 2), _n(2))]),
    Case(outer_broadcast, (0, 1), [(_n(3, 1), _n(1, 4)), (_n(2, 1), _n(1, 2))]),
    Case(broadcast_subtract_mean, 0, [(_n(4, 3),), (_n(2, 5),)]),
    Case(reductions_axis, 0, [(_n(3, 4),), (_n(2, 2),)]),
    Case(product_reduction, 0, [(_r.uniform(0.5, 1.5, size=6),), (_n(6),)]),
    Case(max_min_reductions, 0, [(_n(3, 4),), (_n(4, 2),)]),
    Case(matvec, (0, 1), [(_n(3, 4), _n(4)), (_n(2, 2), _n(2))]),
    Case(matmat, (0, 1), [(_n(2, 3), _n(3, 4)), (_n(3, 3), _n(3, 1))]),
    Case(vecvec_dot, (0, 1), [(_n(4), _n(4)), (_n(2), _n(2))]),
    Case(least_squares, (0, 1, 2), [(_n(4, 3), _n(3), _n(4)), (_n(2, 2), _n(2), _n(2))]),
    Case(outer_product, (0, 1), [(_n(3), _n(4)), (_n(2), _n(2))]),
    Case(einsum_forms, (0, 1, 2), [(_n(2, 3), _n(3), _n(3, 4)), (_n(3, 3), _n(3), _n(3, 2))]),
    Case(transposes, (0, 1), [(_n(3, 2), _n(3, 2)), (_n(2, 2), _n(2, 2))]),
    Case(reshaped, 0, [(_n(6),), (_n(6),)]),
    Case(concatenated, (0, 1), [(_n(3), _n(2)), (_n(2), _n(4))]),
    Case(stacked, (0, 1), [(_n(3), _n(3)), (_n(5), _n(5))]),
    Case(integer_indexing, 0, [(_n(4),), (_n(7),)]),
    Case(slice_indexing, 0, [(_n(6),), (_n(8),)]),
    Case(matrix_indexing, 0, [(_n(3, 4),), (_n(2, 3),)]),
    Case(newaxis_indexing, (0, 1), [(_n(3), _n(2)), (_n(2), _n(4))]),
    Case(differences, 0, [(_n(5),), (_n(2),)]),
    Case(constants_mixed_in, 0, [(_n(3),), (_n(3),)]),
    Case(method_forms, 0, [(_n(2, 3),), (_n(6, 1),)]),
    Case(softmax_cross_entropy, 0, [(_n(4), np.array([0.0, 1.0, 0.0, 0.0])), (_n(3), np.array([0.2, 0.3, 0.5]))]),
    Case(logsumexp, 0, [(_n(5),), (3.0 * _n(2, 3),)]),
    Case(two_layer_mlp, (0, 1, 2, 3), [(_n(4, 3), _n(4), _n(2, 4), _n(3)), (_n(2, 2), _n(2), _n(1, 2), _n(2))]),
    Case(euclidean_norm, 0, [(_n(4),), (_n(2, 2),)]),
    Case(variance, 0, [(_n(5),), (_n(3, 2),)]),
    Case(quadratic_form, (0, 1), [(_n(3, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(gaussian_log_likelihood, (0, 1, 2), [(_n(5), 0.3, -0.2), (_n(3), -1.0, 0.4)]),
    Case(scalar_numpy_calls, 0, [(0.3,), (-1.1,), (2.0,)], sympy=True),
    Case(mixed_index, 0, [(_n(3, 3),), (_n(3, 4),)]),
    Case(stack_axes, (0, 1), [(_n(3), _n(3)), (_n(2), _n(2))]),
    Case(transpose_3d, 0, [(_n(2, 3, 4),), (_n(3, 2, 2),)]),
    Case(keepdims_variants, 0, [(_n(2, 3),), (_n(4, 1),)]),
    Case(clip_array_bounds, (0, 1, 2), [(_n(4), -np.abs(_n(4)), np.abs(_n(4))), (_n(2, 3), -np.abs(_n(3)), np.abs(_n(2, 1)))]),
    Case(where_broadcast, (0, 1), [(_n(3, 1), _n(4)), (_n(4), _n(2, 4))]),
    Case(maximum_broadcast, (0, 1), [(_n(3, 1), _n(4)), (_n(2), _n(3, 2))]),
    Case(power_broadcast, (0, 1), [(_r.uniform(0.5, 2, size=3), _n(2, 1)), (_r.uniform(0.5, 2, size=(2, 2)), _n(2))]),
    Case(vector_matrix, (0, 1), [(_n(3), _n(3, 2)), (_n(2), _n(2, 4))]),
    Case(einsum_more, (0, 1, 2), [(_n(3, 3), _n(3, 3), _n(3)), (_n(2, 2), _n(2, 2), _n(2))]),
    Case(sum_axis_tuple_method, 0, [(_n(2, 3),), (_n(4, 2),)]),
    Case(inactive_int_array, 0, [(_n(5), np.array([0, 2, 4])), (_n(4), np.array([3, 1, 3]))]),
]
