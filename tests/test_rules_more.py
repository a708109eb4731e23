"""The NumPy rules autograd's own test suite uses that adjointc lacked (issue 13): the
decompositions (np.linalg.svd, eig, pinv, qr: rules/np_decomp.py), splitting (split,
array_split, hsplit, vsplit, dsplit), kron, cross, gradient, rot90, rollaxis,
partition, select, column_stack, row_stack, nan_to_num, np.r_ / np.c_, and the index
builders (tril_indices, triu_indices, diag_indices, ix_...), which have no derivative.

* MORE_CASES / MORE_NONDIFF join tests/test_rules.py's case tables, so every rule here
  also gets the inner-product test against finite differences, the result-type and
  symbolic-zero checks there, and (tests/test_tangent_rules.py) the tangent against
  finite differences and the tangent/VJP transpose check.
* One end-to-end gradient per op against central finite differences (decompositions
  through losses invariant to the signs of singular / eigenvectors).
* What is refused, and where: svd's completing columns, complex eigenvalues, qr's
  'raw' mode at run time; np.r_ with a slice at transform time, located.
* GradBench's GMM objective (NumPy, with np.tril_indices) goes through as written.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjointc
from adjointc import NoAdjointRule, UnsupportedSyntax, grad

RNG = np.random.default_rng(20261201)


def A(*shape: int) -> np.ndarray:
    return RNG.uniform(-1.0, 1.0, shape)


def spaced(n: int) -> np.ndarray:
    """Increasing, unevenly spaced coordinates."""
    return np.cumsum(RNG.uniform(0.5, 1.0, n))


def case(fn, *args, id: str | None = None, wrt=None, **kwargs):
    name = id or getattr(fn, "__name__", str(fn))
    return pytest.param(fn, args, kwargs, wrt, id=name,
                        marks=pytest.mark.filterwarnings("ignore::DeprecationWarning"))   # (np.row_stack)


def near_diagonal(*values: float) -> np.ndarray:
    """A non-symmetric matrix with real, well-separated eigenvalues near `values`."""
    return np.diag(values) + 0.2 * A(len(values), len(values))


MORE_CASES = [
    # decompositions
    case(np.linalg.svd, A(4, 4), id="svd-square"), case(np.linalg.svd, A(5, 3), full_matrices=False, id="svd-tall"),
    case(np.linalg.svd, A(3, 5), full_matrices=False, id="svd-wide"),
    case(np.linalg.svd, A(2, 4, 3), full_matrices=False, id="svd-batched"),
    case(np.linalg.svd, A(4, 3), compute_uv=False, id="svd-values"),
    case(np.linalg.svd, A(3, 5), False, False, id="svd-values-wide"),
    case(np.linalg.eig, near_diagonal(1.0, 2.0, 3.5), id="eig"),
    case(np.linalg.eig, np.stack([near_diagonal(-1.0, 1.0), near_diagonal(0.5, 2.5)]), id="eig-batched"),
    case(np.linalg.pinv, A(4, 3), id="pinv-tall"), case(np.linalg.pinv, A(3, 4), id="pinv-wide"),
    case(np.linalg.pinv, A(3, 3) + 2 * np.eye(3), id="pinv-square"),
    case(np.linalg.pinv, A(2, 4, 2), id="pinv-batched"),
    case(np.linalg.qr, A(4, 3), id="qr-tall"), case(np.linalg.qr, A(3, 3), id="qr-square"),
    case(np.linalg.qr, A(3, 5), id="qr-wide"), case(np.linalg.qr, A(4, 3), mode="r", id="qr-r"),
    case(np.linalg.qr, A(3, 3), "complete", id="qr-complete-square"),
    case(np.linalg.qr, A(2, 4, 3), id="qr-batched"),
    # splitting
    case(np.split, A(6), 3), case(np.split, A(4, 6), [1, 4], axis=1, id="split-indices-axis1"),
    case(np.split, A(6, 2), [2], id="split-one-cut"),
    case(np.array_split, A(7), 3), case(np.array_split, A(2, 5), 2, 1, id="array_split-axis1"),
    case(np.hsplit, A(3, 4), 2), case(np.hsplit, A(6), 3, id="hsplit-1d"), case(np.vsplit, A(4, 3), 2),
    case(np.dsplit, A(2, 2, 4), [1]),
    # products
    case(np.kron, A(2, 3), A(3, 2)), case(np.kron, A(3), A(2, 2), id="kron-promote"),
    case(np.kron, A(3), A(4), id="kron-1d"), case(np.kron, A(2, 1, 2), A(2, 2), id="kron-3d"),
    case(np.cross, A(3), A(3)), case(np.cross, A(4, 3), A(3), id="cross-broadcast"),
    case(np.cross, A(2, 1, 3), A(4, 3), id="cross-batches"),
    # np.gradient: spacing, coordinates, axes, edge orders
    case(np.gradient, A(6)), case(np.gradient, A(6), 0.5, id="gradient-dx"),
    case(np.gradient, A(4, 5), id="gradient-2d"), case(np.gradient, A(4, 5), 2.0, axis=1, edge_order=2,
                                                      id="gradient-axis-edge2"),
    case(np.gradient, A(7), spaced(7), edge_order=2, id="gradient-coordinates"),
    case(np.gradient, A(3, 5), 1.0, spaced(5), id="gradient-per-axis"),
    case(np.gradient, A(3, 4, 5), axis=(2, 0), id="gradient-axes-tuple"),
    case(np.gradient, A(3), edge_order=2, id="gradient-short"),
    # rearranging
    case(np.rot90, A(3, 4)), case(np.rot90, A(2, 3, 4), 3, (2, 0), id="rot90-k-axes"),
    case(np.rot90, A(3, 4), -2, id="rot90-negative"),
    case(np.rollaxis, A(2, 3, 4), 2), case(np.rollaxis, A(2, 3, 4), 0, 3, id="rollaxis-start"),
    case(np.rollaxis, A(2, 3, 4), -1, 1, id="rollaxis-negative"),
    case(np.partition, A(7), 3), case(np.partition, A(5, 3), [1, 3], axis=0, id="partition-kths-axis0"),
    case(np.partition, A(3, 4), 2, axis=None, id="partition-flat"),
    # selection and assembly
    case(np.select, (A(5) > 0, A(5) > 0.5), [A(5), A(5)], A(5)),
    case(np.select, (A(3, 4) > 0,), [A(4)], 0.5, id="select-broadcast"),
    case(np.select, (A(4) > 0, A(4) > -0.5), [A(4), 2.0], id="select-default-zero"),
    case(np.column_stack, [A(3), A(3, 2)]), case(np.column_stack, [A(4), A(4)], id="column_stack-1d"),
    case(np.nan_to_num, np.array([1.0, np.nan, np.inf, -np.inf, 2.0]), nan=0.5, posinf=3.0, neginf=-2.0),
    case(np.nan_to_num, A(3, 4), id="nan_to_num-finite"),
    case("np.r_", A(3), 0.5, A(2)), case("np.r_", A(2, 3), A(1, 3), id="np.r_-2d"),
    case("np.c_", A(3), A(3, 2)), case("np.c_", A(2), A(2), id="np.c_-1d"),
]
if hasattr(np, "row_stack"):
    MORE_CASES.append(case(np.row_stack, [A(3), A(2, 3)]))
if hasattr(np.linalg, "svdvals"):
    MORE_CASES += [case(np.linalg.svdvals, A(4, 3)), case(np.linalg.svdvals, A(2, 2, 3), id="svdvals-batched")]

MORE_NONDIFF = [
    (np.tril_indices, (4,)), (np.triu_indices, (4, 1)), (np.tril_indices_from, (A(3, 3),)),
    (np.triu_indices_from, (A(3, 4), -1)), (np.diag_indices, (3,)), (np.diag_indices_from, (A(3, 3),)),
    (np.ix_, (np.array([0, 2]), np.array([1, 3]))),
]


# ---------------------------------------------------------------------------
# End to end: grad against central finite differences.
# ---------------------------------------------------------------------------
def numeric_grad(f, x: np.ndarray, *rest, h: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e, *rest) - f(x - e, *rest)) / (2 * h)
    return out


W = RNG.uniform(0.5, 1.5, (5, 5))


def svd_loss(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s ** 2 * W[0, :3]) + np.sum(u[:, 0] ** 2 * W[1, :a.shape[0]]) \
        + np.sum(((u * s) @ vh) * W[:a.shape[0], :a.shape[1]])


def svd_full_square_loss(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum((u[:, 1] * vh[1, :]) ** 2) + np.sum(np.sqrt(s))


def svd_full_unread_loss(a):
    u, s, vh = np.linalg.svd(a)        # a is tall: u's last columns are not read
    return np.sum(s) + np.sum(u[:, :3] ** 2 * W[:4, :3])


def svd_full_read_loss(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u[:, 3] ** 2 * W[0, :4])


def svdvals_loss(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 3)


def eig_loss(a):
    w, v = np.linalg.eig(a)
    return np.sum(w * W[0, :3]) + np.sum(v[:, 1] ** 2 * W[1, :3])


def eig_complex_loss(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.abs(w))


def pinv_loss(a):
    return np.sum(np.linalg.pinv(a) * W[:a.shape[1], :a.shape[0]])


def qr_loss(a):
    q, r = np.linalg.qr(a)
    return np.sum(r ** 2 * W[:r.shape[0], :r.shape[1]]) + np.sum((q @ r) * a) + np.sum(q[:, 0] ** 2 * W[0, :a.shape[0]])


def qr_r_loss(a):
    return np.sum(np.abs(np.linalg.qr(a, mode="r")) * W[:3, :3])


def qr_raw_loss(a):
    h, tau = np.linalg.qr(a, mode="raw")
    return np.sum(h)


def split_loss(x):
    a, b, c = np.split(x, 3)
    p, q = np.array_split(x, 2)
    return np.sum(a * c) + np.sum(b ** 3) + np.sum(p) * np.sum(q * q)


def hvd_split_loss(m):
    left, right = np.hsplit(m, 2)
    top, bottom = np.vsplit(m, [1])
    front, back = np.dsplit(m[:, :, None] * m[:, None, :], 2)
    return np.sum(left * right) + np.sum(top) * np.sum(bottom ** 2) + np.sum(front * back)


def kron_loss(a, b):
    return np.sum(np.kron(a, b) ** 2 * np.arange(24.0).reshape(4, 6))


def cross_loss(a, b):
    return np.sum(np.cross(a, b) ** 2) + np.sum(np.cross(a[0], b) * a)


def gradient_loss(f):
    gx, gy = np.gradient(f, 0.5, np.array([0.0, 0.3, 1.0, 1.2, 2.0]))
    return np.sum(gx ** 2) + np.sum(gy * f) + np.sum(np.gradient(f[0], edge_order=2) ** 2)


def rot_roll_loss(x):
    r = np.rot90(x, 1, (0, 2))
    m = np.rollaxis(x, 2)
    return np.sum(r * np.arange(r.size).reshape(r.shape)) + np.sum(m[0] ** 2)


def partition_loss(x):
    p = np.partition(x, 2)
    return p[2] * 3.0 + np.sum(p[:2] ** 2) + np.sum(np.partition(x, [0, 4])[1:4] * 0.5)


def select_loss(x):
    y = np.select([x < -0.3, x > 0.4], [x ** 2, np.sin(x)], x * 0.5)
    return np.sum(y * y)


def stacks_loss(x, y):
    c = np.column_stack([x, y, x * y])
    r = np.row_stack([x, y])       # (deprecated in NumPy 2: np.vstack's old name)
    return np.sum(c * c) + np.sum(r @ x)


def nan_to_num_loss(x):
    y = np.log(x)                       # nan for negative entries
    return np.sum(np.nan_to_num(y, nan=0.0) ** 2)


def r_c_loss(x, t):
    v = np.r_[x, t, x * 2.0]
    m = np.c_[x, x ** 2]
    return np.sum(v ** 2) + np.sum(m @ np.array([1.0, -0.5])) + t * np.sum(np.r_[x[1:], 3.0])


def index_builders_loss(m):
    i, j = np.tril_indices(3)
    k, l = np.triu_indices(3, 1)
    d = np.diag_indices(3)
    rows, cols = np.ix_(np.array([0, 2]), np.array([1, 2]))
    return np.sum(m[i, j] ** 2) + np.sum(m[k, l]) + np.sum(m[d] ** 3) + np.sum(m[rows, cols] * 2.0)


X43 = A(4, 3)
E33 = near_diagonal(1.0, 2.0, 3.5)
END_TO_END = [
    (svd_loss, (X43,)), (svd_loss, (A(3, 5),)), (svd_full_square_loss, (A(3, 3),)),
    (svd_full_unread_loss, (X43,)), (svdvals_loss, (A(3, 4),)), (eig_loss, (E33,)),
    (pinv_loss, (X43,)), (pinv_loss, (A(2, 4),)), (qr_loss, (X43,)), (qr_loss, (A(3, 5),)), (qr_r_loss, (X43,)),
    (split_loss, (A(6),)), (hvd_split_loss, (A(4, 4),)), (kron_loss, (A(2, 3), A(2, 2))),
    (cross_loss, (A(2, 3), A(3)) ), (gradient_loss, (A(4, 5),)), (rot_roll_loss, (A(2, 3, 4),)),
    (partition_loss, (A(6),)), (select_loss, (A(8),)), (stacks_loss, (A(3), A(3))),
    (nan_to_num_loss, (A(6),)), (r_c_loss, (A(3), 0.7)), (index_builders_loss, (A(3, 3),)),
]
END_TO_END = [c for c in END_TO_END if hasattr(np, "row_stack") or c[0] is not stacks_loss]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:invalid value encountered in log")
@pytest.mark.parametrize("f, args", END_TO_END, ids=lambda v: getattr(v, "__name__", ""))
def test_grad_against_finite_differences(f, args):
    got = grad(f, wrt=tuple(range(len(args))))(*args) if len(args) > 1 else (grad(f)(*args),)
    for i, (g, x) in enumerate(zip(got, args)):
        if isinstance(x, float):
            h = 1e-6
            want = (f(*args[:i], x + h, *args[i + 1:]) - f(*args[:i], x - h, *args[i + 1:])) / (2 * h)
        else:
            want = numeric_grad(lambda v, *_: f(*args[:i], v, *args[i + 1:]), x)
        assert np.shape(g) == np.shape(x)
        assert np.allclose(g, want, rtol=1e-5, atol=1e-6), (f.__name__, i, g, want)


def test_np_r_prints_as_written():
    g = grad(r_c_loss, wrt=(0, 1))
    g(A(3), 0.5)
    source = g.source
    assert "np.r_[" in source and "np.c_[" in source and "np.r_(" not in source


# Forward mode end to end: jacfwd (tangents) and jacrev against finite differences.
def svd_parts(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return s * s + u[:, 0] ** 2 + vh[0] ** 2


def qr_parts(a):
    q, r = np.linalg.qr(a)
    return np.ravel(r ** 2) + np.sum(q * a)


def eig_parts(a):
    w, v = np.linalg.eig(a)
    return w + v[:, 0] ** 2


def pinv_parts(a):
    return np.ravel(np.linalg.pinv(a))


def pieces(x):
    a, b = np.split(x, 2)
    return np.r_[a * b, np.gradient(x, 0.3)[1:3]] + np.kron(x[:2], x[2:]) * np.partition(x, 1)


def chosen(x):
    return np.select([x > 0], [x ** 2], -x) + np.cross(x[:3], x[1:])[0] + np.nan_to_num(np.log(x))


JACOBIANS = [(svd_parts, A(3, 3)), (qr_parts, A(4, 3)), (eig_parts, near_diagonal(1.0, 2.0, 3.0)),
             (pinv_parts, A(3, 2)), (pieces, A(4)), (chosen, A(4))]


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
@pytest.mark.parametrize("f, x", JACOBIANS, ids=lambda v: getattr(v, "__name__", ""))
def test_jacobians_against_finite_differences(f, x):
    from adjointc import jacrev
    from adjointc.forward import jacfwd
    h = 1e-6
    cols = [(f(x + h * e.reshape(x.shape)) - f(x - h * e.reshape(x.shape))) / (2 * h) for e in np.eye(x.size)]
    want = np.stack(cols, -1).reshape(np.shape(f(x)) + x.shape)
    assert np.allclose(jacfwd(f)(x), want, rtol=1e-5, atol=1e-6)
    assert np.allclose(jacrev(f)(x), want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# What is refused, and how.
# ---------------------------------------------------------------------------
def test_svd_completing_columns_are_refused_when_read():
    with pytest.raises(NoAdjointRule, match="completing columns") as e:
        grad(svd_full_read_loss)(X43)
    assert "full_matrices=False" in e.value.hint


def test_complex_eigenvalues_are_refused():
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]]) + 0.1 * A(2, 2)
    with pytest.raises((NoAdjointRule, adjointc.TypeMismatch)) as e:
        grad(eig_complex_loss)(rotation)
    assert "complex" in e.value.message


def test_qr_raw_mode_is_refused():
    with pytest.raises(NoAdjointRule, match="raw"):
        grad(qr_raw_loss)(X43)


def _svd_hermitian(a):
    return np.sum(np.linalg.svd(a, hermitian=True)[1])


def test_options_outside_the_rules_are_binding_errors():
    """svd's and pinv's hermitian=True read one triangle of a (another derivative):
    left out of the signatures, so using them is a located error, not a wrong gradient."""
    with pytest.raises(UnsupportedSyntax, match="hermitian") as e:
        grad(_svd_hermitian)(A(3, 3))
    assert e.value.loc is not None and e.value.loc.file.endswith("test_rules_more.py")


def _write_through_a_piece(x):
    y = x * 1.0
    a, b = np.split(y, 2)
    a[0] = b[0] * 3.0        # writes into y: np.split's pieces are views
    return np.sum(y ** 2)


def test_split_pieces_are_views_for_the_alias_analysis():
    with pytest.raises(adjointc.AliasingError, match="share memory"):
        grad(_write_through_a_piece)(A(4))


def _r_with_a_slice(x):
    return np.sum(np.r_[x, 0:3] * 2.0)


def _c_with_a_directive(x):
    return np.sum(np.r_["0,2", x, x])


@pytest.mark.parametrize("f", [_r_with_a_slice, _c_with_a_directive])
def test_index_concatenators_with_slices_or_directives_are_refused_located(f):
    with pytest.raises(UnsupportedSyntax) as e:
        grad(f)(A(3))
    assert e.value.loc is not None and e.value.loc.file.endswith("test_rules_more.py")
    assert "np.concatenate" in e.value.hint


def test_nan_to_num_copy_false_is_refused():
    def f(x):
        return np.sum(np.nan_to_num(x, False))
    with pytest.raises(UnsupportedSyntax, match="positional"):
        grad(f)(A(3))


# ---------------------------------------------------------------------------
# GradBench's GMM objective (the NumPy translation of its JAX tool: np.tril_indices,
# the lower triangle filled in column order, logsumexp by hand, the Wishart prior's
# multigammaln from math.lgamma as GradBench's gmm computes it).
# ---------------------------------------------------------------------------
def multigammaln(a, p):
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out = out + math.lgamma(a + 0.5 * (1 - j))
    return out


def logsumexp(v, axis):
    mx = np.max(v, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(v - mx), axis=axis)) + np.squeeze(mx, axis=axis)


def log_wishart_prior(k, p, gamma, m, sum_qs, Qdiags, l):
    n = p + m + 1
    out = np.sum(0.5 * gamma * gamma * (np.sum(Qdiags ** 2, axis=1) + np.sum(l ** 2, axis=1)) - m * sum_qs)
    C = n * p * (math.log(gamma / math.sqrt(2)))
    return -out + k * (C - multigammaln(0.5 * n, p))


def gmm_objective(alpha, mu, q, l, x, gamma, m):
    n, d = x.shape
    k = alpha.shape[0]
    Qdiags = np.exp(q)
    sum_qs = np.sum(q, axis=1)
    row_idx, col_idx = np.tril_indices(d, -1)
    order = np.argsort(col_idx * d + row_idx)
    Ls = np.zeros((k, d, d))
    for ik in range(k):
        Ls[ik, row_idx[order], col_idx[order]] = l[ik]
    xcentered = x[:, None, :] - mu[None, :, :]
    Lxcentered = Qdiags * xcentered + np.einsum("ijk,mik->mij", Ls, xcentered)
    sqsum_Lxcentered = np.sum(Lxcentered ** 2, axis=2)
    inner_term = alpha + sum_qs - 0.5 * sqsum_Lxcentered
    slse = np.sum(logsumexp(inner_term, 1))
    CONSTANT = -n * d * 0.5 * math.log(2 * math.pi)
    return CONSTANT + slse - n * logsumexp(alpha, 0) \
        + log_wishart_prior(k, d, gamma, m, sum_qs, Qdiags, l)


def test_gradbench_gmm_goes_through():
    import scipy.special
    d, k, n, m = 3, 4, 6, 2
    assert multigammaln(2.7, d) == pytest.approx(scipy.special.multigammaln(2.7, d), rel=1e-14)
    rng = np.random.default_rng(7)
    alpha, mu, q = rng.normal(size=k), rng.normal(size=(k, d)), 0.3 * rng.normal(size=(k, d))
    l, x = 0.5 * rng.normal(size=(k, d * (d - 1) // 2)), rng.normal(size=(n, d))
    args = (alpha, mu, q, l, x, np.float64(1.2), m)
    got = grad(gmm_objective, wrt=(0, 1, 2, 3, 5))(*args)
    for i, g in zip((0, 1, 2, 3, 5), got):
        want = numeric_grad(lambda v, *_: gmm_objective(*args[:i], v, *args[i + 1:]), args[i])
        assert np.allclose(g, want, rtol=1e-5, atol=1e-6), i
