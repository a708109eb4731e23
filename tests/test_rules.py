"""Every derivative rule, checked numerically.

* `math.*` rules against `sympy.diff` at several points of each domain.
* NumPy (and operator) rules with the inner-product test against finite
  differences: <J u, v> == <u, J^T v> for random u, v (adjointc.rules.testing).
* Coverage: every registered math / NumPy rule must have a sympy entry, a
  test case, or be listed as nondiff, so a new rule cannot go untested.
* The tester is tested: deliberately wrong rules must be caught.
* The subgradient conventions at kinks and ties are pinned down.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adjointc import runtime
from adjointc import types as T
from adjointc.ir import Const
from adjointc.rules import BUILTIN_RULE_OPS, BY_OBJECT, REGISTRY, Rule, lookup_object
from adjointc.rules.testing import (check_vjp, claimed_type, eval_rule, find_rule, primal,
                                    rendered_templates)
from adjointc.rules.helpers import einsum_vjp

from test_rules_more import MORE_CASES, MORE_NONDIFF

RNG = np.random.default_rng(20240611)


def A(*shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """A random float64 array with entries in [lo, hi)."""
    return RNG.uniform(lo, hi, shape)


def P(*shape: int) -> np.ndarray:
    """Positive entries, away from 0."""
    return A(*shape, lo=0.5, hi=2.0)


def away(x: np.ndarray, gap: float = 0.2) -> np.ndarray:
    """Entries at least `gap` away from 0 (for kinks at 0: abs, sign)."""
    return np.sign(x) * (gap + np.abs(x))


def spd(n: int, *batch: int) -> np.ndarray:
    """A well-conditioned symmetric positive definite matrix."""
    m = A(*batch, n, n)
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def sym(n: int) -> np.ndarray:
    """A symmetric matrix with well-separated eigenvalues."""
    q, _ = np.linalg.qr(A(n, n))
    return q @ np.diag(np.arange(1.0, n + 1) * 1.5) @ q.T


def frac_pairs(*shape: int) -> tuple[np.ndarray, np.ndarray]:
    """x, y with x / y well inside (k, k+1): away from mod's jumps."""
    y = P(*shape)
    k = RNG.integers(-3, 4, shape)
    return y * (k + RNG.uniform(0.2, 0.8, shape)), y


def case(fn, *args, id: str | None = None, wrt=None, **kwargs):
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", str(fn))
    return pytest.param(fn, args, kwargs, wrt, id=id or name)


# ---------------------------------------------------------------------------
# The case table: (function, args, kwargs) for the inner-product test.
# ---------------------------------------------------------------------------
X34 = A(3, 4)
UNARY = [  # (function, input)
    (np.sin, X34), (np.cos, X34), (np.tan, X34), (np.arcsin, 0.9 * X34), (np.arccos, 0.9 * X34),
    (np.arctan, 2 * X34), (np.sinh, X34), (np.cosh, X34), (np.tanh, X34), (np.arcsinh, 2 * X34),
    (np.arccosh, 1 + P(3, 4)), (np.arctanh, 0.9 * X34), (np.exp, X34), (np.expm1, X34),
    (np.exp2, X34), (np.log, P(3, 4)), (np.log1p, P(3, 4) - 0.4), (np.log2, P(3, 4)),
    (np.log10, P(3, 4)), (np.sqrt, P(3, 4)), (np.cbrt, away(X34)), (np.square, X34),
    (np.reciprocal, away(X34)), (np.negative, X34), (np.positive, X34), (np.absolute, away(X34)),
    (np.fabs, away(X34)), (np.sinc, 2 * X34), (np.deg2rad, X34), (np.radians, X34),
    (np.rad2deg, X34), (np.degrees, X34), (np.real, X34), (np.conjugate, X34),
]
CASES = [case(f, x) for f, x in UNARY]
CASES += [case(np.sin, 0.3, id="sin-float"), case(np.exp, A(), id="exp-0d"),
          case(np.sinc, np.array([0.0, 1e-6, 0.5, 2.5]), id="sinc-near-0")]

BROADCAST = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3, 4), (3, 1)), ((), (3,)), ((3, 4), ())]


def _pair(f, sx, sy):
    if f in (np.power, "pow"):
        return P(*sx), A(*sy)
    if f in (np.mod, np.fmod, "mod"):
        x, y = frac_pairs(*np.broadcast_shapes(sx, sy))
        return x[(0,) * (x.ndim - len(sx))].reshape(sx) if sx == sy else x, y
    if f in (np.divide, "truediv"):
        return A(*sx), away(A(*sy))
    return A(*sx), A(*sy)


BINARY = [np.add, np.subtract, np.multiply, np.divide, np.power, np.arctan2, np.hypot,
          np.logaddexp, np.logaddexp2, np.maximum, np.minimum, np.fmax, np.fmin,
          "add", "sub", "mul", "truediv", "pow"]
for f in BINARY:
    for sx, sy in BROADCAST:
        x, y = _pair(f, sx, sy)
        x = float(x) if sx == () else x
        y = float(y) if sy == () else y
        CASES.append(case(f, x, y, id=f"{getattr(f, '__name__', f)}-{sx}-{sy}"))
for f in (np.mod, np.fmod, "mod"):
    x, y = frac_pairs(3, 4)
    CASES.append(case(f, x, y, id=f"{getattr(f, '__name__', f)}"))
    CASES.append(case(f, x, 1.7 if f is not np.fmod else 1.7, id=f"{getattr(f, '__name__', f)}-scalar-y"))
CASES += [
    case(np.power, P(3, 4), 3, id="power-int-exponent"),
    case(np.power, P(3, 4), 2.5, id="power-float-exponent"),
    case("pow", P(3), 2, id="pow-int-exponent"),
    case(np.power, P(3, 4), 0.5, id="power-root-exponent"), case("pow", P(3), -1.5, id="pow-negative-exponent"),
    case(np.power, 2.0, A(3), id="power-constant-base"), case("pow", 0.7, A(3), id="pow-constant-base"),
    case(np.power, A(3, 4), 2.0, id="power-square-negative-base", wrt=("x",)),  # d/dy: no real log
    case("tuple", A(3), 0.5, id="tuple-literal"), case("list", A(2, 2), A(3), id="list-literal"),
    case("attr:T", A(2, 3), id="attr-T"), case("attr:real", A(3), id="attr-real"),
    case("method:copy", A(3), id="method-copy"),
    case(float, 0.3, id="float-builtin"), case(abs, -0.7, id="abs-builtin"),
    case(abs, away(A(3)), id="abs-builtin-array"), case(max, 0.3, -0.2, id="max-builtin"),
    case(min, 0.3, -0.2, id="min-builtin"),
    case(sum, A(4), id="sum-builtin-1d"), case(sum, A(3, 4), id="sum-builtin-2d-rows"),
    case(sum, [1.5, -2.0, 0.5], id="sum-builtin-list"), case(sum, [A(2), A(2)], 0.5, id="sum-builtin-start"),
    case(sum, A(3, 2), A(2), id="sum-builtin-2d-array-start"), case(sum, [A(2), A(2)], id="sum-builtin-list-of-arrays"),
    # (everyday syntax: list(x), max/min of one iterable, sorted, math.fsum, math.prod)
    case("py:list", A(3), id="list-of-array"), case("py:list", [1.5, A(2)], id="list-of-list"),
    case("py:list", (0.5, -1.5), id="list-of-tuple"), case("py:tuple", [0.5, A(2)], id="tuple-of-list"),
    case("py:tuple", A(3), id="tuple-of-array"), case("py:list", A(3, 2), id="list-of-rows"),
    case("py:max", [0.3, -1.2, 0.9], id="max-of-list"), case("py:min", A(4), id="min-of-array"),
    case(sorted, [1.5, -2.0, 0.5], id="sorted-list"), case(sorted, A(4), reverse=True, id="sorted-array-reverse"),
    case(math.fsum, [1.5, -2.0, 0.5], id="fsum-list"), case(math.fsum, A(4), id="fsum-array"),
    case(math.prod, [1.5, -2.0, 0.5], id="prod-list"), case(math.prod, [0.0, 2.0, 3.0], start=1.5, id="prod-zero-start"),
    case(np.std, A(3, 1), axis=1, id="std-length-1-axis"), case(np.var, A(1, 4), axis=0, id="var-length-1-axis"),
    case("neg", X34), case("pos", X34),
]

# where / clip
COND = A(3, 4) > 0
CASES += [
    case(np.where, COND, A(3, 4), A(3, 4)),
    case(np.where, COND, A(4), 0.5, id="where-broadcast"),
    case(np.where, A(3, 1) > 0, A(4), A(), id="where-cond-wider"),
    case(np.clip, X34, -0.5, 0.5),
    case(np.clip, X34, None, 0.3, id="clip-no-lo"),
    case(np.clip, X34, A(4, lo=-0.8, hi=-0.2), 0.4, id="clip-array-bound"),
    case(np.clip, X34, min=-0.4, id="clip-min-kw"),
    case(np.clip, A(3, 1), A(4, lo=-0.5, hi=0.5), 0.6, id="clip-a-broadcast-by-bound"),
]

# Reductions over every axis option.
X234 = A(2, 3, 4)
P234 = P(2, 3, 4)
WITH_NAN = X234.copy()
WITH_NAN[0, 1, 2] = np.nan
AXES = [None, 0, 1, -1, (0, 2)]
for f, x in [(np.sum, X234), (np.mean, X234), (np.prod, P234), (np.var, X234), (np.std, X234),
             (np.max, X234), (np.amax, X234), (np.min, X234), (np.amin, X234),
             (np.nanmax, WITH_NAN), (np.nanmin, WITH_NAN), (np.nansum, WITH_NAN),
             (np.nanmean, WITH_NAN)]:
    for axis in AXES:
        for keepdims in (False, True):
            CASES.append(case(f, x, axis=axis, keepdims=keepdims,
                              id=f"{f.__name__}-axis={axis}-keepdims={keepdims}"))
CASES += [
    case(np.sum, [1.5, 2.5, -0.5], id="sum-list"),
    case(np.sum, X34, 1, id="sum-positional-axis"),
    case(np.prod, np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]]), axis=1, id="prod-with-zero"),
    case(np.prod, np.array([0.0, 2.0, 0.0]), id="prod-two-zeros"),
    case(np.var, X234, axis=1, ddof=1, id="var-ddof"),
    case(np.std, X234, axis=(0, 1), ddof=1, keepdims=True, id="std-ddof"),
]

# Norms: vector, Frobenius, matrix.
V5 = away(A(5))
for kw in [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"ord": 1, "axis": 1}, {"ord": 2, "axis": 0},
           {"ord": np.inf, "axis": 1}, {"ord": -np.inf, "axis": 1}, {"ord": 3, "axis": -1},
           {"ord": "fro"}, {"ord": "nuc"}, {"ord": 1}, {"ord": -1}, {"ord": 2}, {"ord": -2},
           {"ord": np.inf}, {"ord": -np.inf}, {"axis": (0, 1), "keepdims": True}]:
    CASES.append(case(np.linalg.norm, away(X34), id=f"norm-{kw}", **kw))
CASES += [case(np.linalg.norm, V5, id="norm-vector"),
          case(np.linalg.norm, V5, 1, id="norm-vector-1"),
          case(np.linalg.norm, V5, np.inf, id="norm-vector-inf"),
          case(np.linalg.norm, V5, 0.5, id="norm-vector-0.5"),
          case(np.linalg.norm, X234, "nuc", (1, 2), id="norm-batched-nuc"),
          case(np.linalg.norm, X234, 1, (2, 1), id="norm-batched-1-swapped")]

# Scans and sorting.
for axis in (None, 0, 1, -1):
    CASES += [case(np.cumsum, X34, axis=axis, id=f"cumsum-{axis}"),
              case(np.cumprod, away(X34), axis=axis, id=f"cumprod-{axis}"),
              case(np.sort, X34, axis=axis, id=f"sort-{axis}")]
CASES += [case(np.sort, X34, id="sort-default"),
          case(np.cumprod, np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 2.0]]), axis=1,
               id="cumprod-zeros"),
          case(np.diff, X34), case(np.diff, X34, 2, id="diff-n2"),
          case(np.diff, X234, axis=0, id="diff-axis0"), case(np.diff, A(6), n=3, id="diff-1d-n3")]

# Products: every rank combination.
RANKS = [((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
         ((2, 2, 3), (3,)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4))]
for sa, sb in RANKS:
    a = float(A()) if sa == () else A(*sa)
    b = float(A()) if sb == () else A(*sb)
    CASES.append(case(np.dot, a, b, id=f"dot-{sa}-{sb}"))
INNER = [((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (4, 3)), ((2, 2, 3), (4, 3))]
for sa, sb in INNER:
    a = float(A()) if sa == () else A(*sa)
    CASES.append(case(np.inner, a, A(*sb), id=f"inner-{sa}-{sb}"))
MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
          ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)),
          ((5, 2, 3), (3,)), ((1, 2, 3), (5, 3, 2))]
for f in (np.matmul, "matmul"):
    for sa, sb in MATMUL:
        CASES.append(case(f, A(*sa), A(*sb), id=f"{getattr(f, '__name__', f)}-{sa}-{sb}"))
CASES += [
    case(np.outer, A(3), A(4)), case(np.outer, A(2, 2), A(3), id="outer-flattens"),
    case(np.vdot, A(3, 4), A(12)),
    case(np.tensordot, A(2, 3, 4), A(3, 4, 5), id="tensordot-2"),
    case(np.tensordot, A(2, 3), A(3, 4), 1, id="tensordot-1"),
    case(np.tensordot, A(2), A(3), 0, id="tensordot-0"),
    case(np.tensordot, A(3, 2, 4), A(2, 3, 5), ([1, 0], [0, 1]), id="tensordot-pairs"),
    case(np.tensordot, A(3, 2, 4), A(4, 5), axes=([2], [0]), id="tensordot-lists"),
]

# einsum: 1, 2, 3 operands; explicit, implicit, ellipsis, traces, sums.
EINSUM = [
    ("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("i,i->", (3,), (3,)), ("i,i", (3,), (3,)),
    ("i,j->ij", (3,), (4,)), ("ij,ij->ij", (2, 3), (2, 3)), ("bij,bj->bi", (2, 3, 4), (2, 4)),
    ("ijk,ikl->ijl", (2, 3, 4), (2, 4, 5)), ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ("ij->ji", (2, 3)), ("ij->i", (2, 3)), ("ij->", (2, 3)), ("ii->i", (3, 3)), ("ii", (3, 3)),
    ("ij,j", (2, 3), (3,)), ("...ij,...jk->...ik", (5, 2, 3), (3, 4)),
    ("...ij,...jk", (2, 1, 2, 3), (5, 3, 4)), ("i...,i...->...", (3, 2), (3, 2)),
    ("ij,kj->ik", (2, 3), (4, 3)), ("Ab,bc", (2, 3), (3, 4)), ("ii,ij->j", (3, 3), (3, 4)), ("Ab,bA->", (2, 3), (3, 2)),
    # an ellipsis anywhere in a term, standing for 0, 1 or 2 dimensions, broadcast between operands
    ("j...k,lj...->lk...", (2, 3), (4, 2)), ("j...k,lj...->lk...", (2, 5, 3), (4, 2)),
    ("j...k,lj...->lk...", (2, 3), (4, 2, 5)), ("j...k,lj...->lk...", (2, 5, 1, 3), (4, 2, 6)),
    ("i...,...i->...", (3, 2, 4), (4, 3)), ("a...b,b->a...", (2, 3, 1, 4), (4,)),
    ("...i,...i->...", (2, 1, 3), (4, 3)), ("i...j,j...", (2, 3, 4), (4, 3)),
    # traces and diagonals, with and without an output
    ("ii->", (3, 3)), ("iij->j", (3, 3, 2)), ("...ii->...i", (2, 3, 3)), ("iji->j", (3, 2, 3)),
    ("ii,i->i", (3, 3), (3,)),
    # many operands, implicit outputs
    ("ij,jk,kl,lm->im", (2, 3), (3, 4), (4, 2), (2, 3)), ("i,i,i->i", (3,), (3,), (3,)),
    ("ij,jk,kl", (2, 3), (3, 4), (4, 2)), ("ba", (2, 3)), ("ij,j,k", (2, 3), (3,), (2,)),
]
for subs, *shapes in EINSUM:
    CASES.append(case(np.einsum, subs, *[A(*s) for s in shapes], id=f"einsum-{subs}-{shapes}"))
# The interleaved (sublist) form: labels are ints, Ellipsis allowed, the output list optional.
CASES += [
    case(np.einsum, A(2, 3), [0, 1], [1, 0], id="einsum-sublist-transpose"),
    case(np.einsum, A(2, 3), [0, 1], A(3, 4), [1, 2], [0, 2], id="einsum-sublist-matmul"),
    case(np.einsum, A(2, 3), [0, 1], A(3, 4), [1, 2], id="einsum-sublist-implicit"),
    case(np.einsum, A(3, 3), [0, 0], [], id="einsum-sublist-trace"),
    case(np.einsum, A(5, 2, 3), [Ellipsis, 0, 1], A(3, 4), [1, 2], [Ellipsis, 0, 2], id="einsum-sublist-ellipsis"),
    case(np.einsum, A(2, 3), [0, 1], A(3), [1], A(2), [0], [], id="einsum-sublist-three"),
]

# Interpolation.
XP = np.array([-1.0, -0.2, 0.5, 1.3, 2.0])
FP = A(5)
XQ = np.array([-0.7, 0.1, 0.45, 0.9, 1.9, -0.55])
CASES += [case(np.interp, XQ, XP, FP),
          case(np.interp, 0.3, XP, FP, id="interp-float"),
          case(np.interp, np.array([-1.5, 0.2, 2.5]), XP, FP, id="interp-outside"),
          case(np.interp, np.array([-1.5, 0.2, 2.5, 3.0]), XP, FP, -0.3, 0.8, id="interp-left-right")]

# Linear algebra.
M33 = A(3, 3) + 3 * np.eye(3)
M233 = A(2, 3, 3) + 3 * np.eye(3)
CASES += [
    case(np.trace, A(3, 3)), case(np.trace, A(3, 4), 1, id="trace-offset"),
    case(np.trace, A(2, 3, 3), -1, 1, 2, id="trace-3d-axes"),
    case(np.linalg.inv, M33), case(np.linalg.inv, M233, id="inv-batched"),
    case(np.linalg.det, M33), case(np.linalg.det, M233, id="det-batched"),
    case(np.linalg.det, -M33, id="det-negative"),
    case(np.linalg.det, np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -0.2, 1.5]]), id="det-singular"),
    case(np.linalg.det, np.zeros((2, 2)), id="det-zero-matrix"),
    case(np.linalg.det, np.stack([M33, np.outer(A(3), A(3))]), id="det-batched-singular"),
    case(np.linalg.slogdet, M33), case(np.linalg.slogdet, M233, id="slogdet-batched"),
    case(np.linalg.slogdet, -M33, id="slogdet-negative"),
    case(np.linalg.solve, M33, A(3)), case(np.linalg.solve, M33, A(3, 2), id="solve-matrix-b"),
    case(np.linalg.solve, M233, A(2, 3, 2), id="solve-batched"),
    case(np.linalg.solve, M233, A(3), id="solve-batched-vector-b"),
    case(np.linalg.solve, M233, A(3, 2), id="solve-broadcast-b"),
    case(np.linalg.eigh, sym(4)), case(np.linalg.eigh, sym(3), "U", id="eigh-upper"),
    case(np.linalg.eigvalsh, sym(4)), case(np.linalg.eigvalsh, sym(3), UPLO="U", id="eigvalsh-upper"),
    case(np.linalg.cholesky, spd(3)), case(np.linalg.cholesky, spd(3, 2), id="cholesky-batched"),
]
if hasattr(np.linalg, "trace"):
    CASES += [case(np.linalg.trace, A(3, 3), id="linalg.trace"),
              case(np.linalg.trace, A(2, 3, 4), offset=1, id="linalg.trace-batched")]

# Shapes and rearrangements.
X1314 = A(1, 3, 1, 4)
L23, L13, L22 = A(2, 3), A(1, 3), A(2, 2)
CASES += [
    case(np.reshape, X34, (12,)), case(np.reshape, X34, (-1, 2), id="reshape-minus1"),
    case(np.reshape, X34, shape=(2, 6), id="reshape-kw"), case(np.reshape, X34, -1, id="reshape-int"),
    case(np.ravel, X234), case(np.squeeze, X1314), case(np.squeeze, X1314, 0, id="squeeze-0"),
    case(np.squeeze, X1314, axis=(0, 2), id="squeeze-tuple"),
    case(np.expand_dims, X34, 0), case(np.expand_dims, X34, (0, 2), id="expand_dims-tuple"),
    case(np.expand_dims, X34, -1, id="expand_dims-neg"),
    case(np.transpose, X234), case(np.transpose, X234, (2, 0, 1), id="transpose-axes"),
    case(np.transpose, X234, axes=(1, 2, 0), id="transpose-axes-kw"),
    case(np.swapaxes, X234, 0, 2), case(np.moveaxis, X234, 0, -1),
    case(np.moveaxis, X234, [0, 1], [2, 0], id="moveaxis-lists"),
    case(np.broadcast_to, A(4), (3, 4)), case(np.broadcast_to, A(3, 1), (2, 3, 4), id="broadcast_to-3d"),
    case(np.broadcast_to, 0.7, (2, 2), id="broadcast_to-float"),
    case(np.copy, X34), case(np.flip, X34), case(np.flip, X34, 0, id="flip-0"),
    case(np.flip, X234, (0, 2), id="flip-tuple"), case(np.fliplr, X34), case(np.flipud, X34),
    case(np.roll, X34, 2), case(np.roll, X34, 1, axis=0, id="roll-axis"),
    case(np.roll, X34, (1, -2), (0, 1), id="roll-tuple"),
    case(np.tril, A(3, 4)), case(np.tril, A(3, 4), -1, id="tril-k"), case(np.tril, A(3), id="tril-1d"),
    case(np.triu, A(3, 4)), case(np.triu, A(2, 3, 3), 1, id="triu-3d"), case(np.triu, A(4), id="triu-1d"),
    case(np.diagonal, A(3, 4)), case(np.diagonal, A(3, 4), 1, id="diagonal-offset"),
    case(np.diagonal, A(4, 3), -1, id="diagonal-negative-offset"),
    case(np.diagonal, A(2, 3, 4), 0, 2, 1, id="diagonal-axes"),
    case(np.diag, A(3)), case(np.diag, A(3), 1, id="diag-build-k"), case(np.diag, A(3), -2, id="diag-build-neg"),
    case(np.diag, A(3, 4), id="diag-extract"), case(np.diag, A(3, 4), 1, id="diag-extract-k"),
    case(np.tile, A(3), 2), case(np.tile, A(2, 3), (2, 1, 2), id="tile-promote"),
    case(np.tile, A(2, 3), 2, id="tile-int-2d"), case(np.tile, A(2, 3), (3, 2), id="tile-2d"),
    case(np.repeat, A(3), 2), case(np.repeat, A(2, 3), [1, 0, 2], axis=1, id="repeat-axis"),
    case(np.repeat, A(2, 3), 2, id="repeat-flat"),
    case(np.take, A(5), [0, 2, 2, 4]), case(np.take, X34, np.array([[0, 1], [3, 3]]), axis=1, id="take-axis"),
    case(np.take, X34, 2, axis=0, id="take-scalar-index"),
    case(np.take, X34, np.array([[0, 11], [5, -1]]), id="take-flat"),
    case(np.pad, X34, 1), case(np.pad, X34, ((1, 2), (0, 3)), id="pad-widths"),
    case(np.pad, X34, (2, 1), "constant", id="pad-mode"),
    case(np.concatenate, [L23, L13]), case(np.concatenate, [L23, L22], 1, id="concatenate-1"),
    case(np.concatenate, [L23, L13], axis=None, id="concatenate-none"),
    case(np.concatenate, (L23, L22, A(2, 1)), axis=-1, id="concatenate-tuple-neg"),
    case(np.append, A(3), 0.5), case(np.append, A(2, 2), A(3), id="append-flattens"),
    case(np.append, L23, L13, axis=0, id="append-axis0"), case(np.append, L23, A(2, 2), 1, id="append-axis1"),
    case(np.stack, [A(3), A(3)]), case(np.stack, [A(2, 3), A(2, 3)], axis=1, id="stack-1"),
    case(np.stack, [A(2, 3), A(2, 3), A(2, 3)], -1, id="stack-neg"),
    case(np.stack, [0.5, -1.5, 2.0], id="stack-floats"),
    case(np.hstack, [A(3), A(2)]), case(np.hstack, [L23, A(2, 1)], id="hstack-2d"),
    case(np.vstack, [A(3), A(3)]), case(np.vstack, [L23, L13], id="vstack-2d"),
    case(np.vstack, [A(3), L23], id="vstack-mixed"),
    case(np.array, [1.5, -0.5, 2.0]), case(np.array, [[1.0, 2.0], [3.0, -4.0]], id="array-nested"),
    case(np.array, [A(3), A(3)], id="array-of-arrays"), case(np.array, X34, id="array-copy"),
    case(np.asarray, [0.5, 1.5]), case(np.asarray, X34, id="asarray-array"),
    case(np.atleast_1d, 0.5), case(np.atleast_1d, A(3), id="atleast_1d-1d"),
    case(np.atleast_1d, 0.5, A(2, 3), id="atleast_1d-many"),
    case(np.atleast_2d, A(3)), case(np.atleast_2d, X34, id="atleast_2d-2d"),
    case(np.atleast_3d, A(3)), case(np.atleast_3d, X34, id="atleast_3d-2d"),
    case(np.full, (3, 4), 0.5), case(np.full, (3, 4), A(4), id="full-array-fill"),
    case(np.full_like, X34, 0.5),
    case(np.linspace, 0.5, 2.0, 5), case(np.linspace, -1.0, 1.0, 4, False, id="linspace-no-endpoint"),
    case(np.linspace, A(2), 1.5, 3, id="linspace-array-start"),
]

# The rules of tests/test_rules_more.py (decompositions, splitting, np.r_...) join the table.
CASES += MORE_CASES

# Rules with no derivative: (function, a sample call's args).
NONDIFF = [
    (np.floor, (X34,)), (np.ceil, (X34,)), (np.trunc, (X34,)), (np.rint, (X34,)), (np.fix, (X34,)),
    (np.round, (X34, 2)), (np.around, (X34,)), (np.sign, (X34,)), (np.signbit, (X34,)),
    (np.heaviside, (X34, 0.5)), (np.floor_divide, (X34, 0.3)),
    (np.isnan, (X34,)), (np.isinf, (X34,)), (np.isfinite, (X34,)), (np.isneginf, (X34,)),
    (np.isposinf, (X34,)), (np.logical_not, (COND,)), (np.greater, (X34, 0.0)),
    (np.greater_equal, (X34, 0.0)), (np.less, (X34, A(4))), (np.less_equal, (X34, 0.0)),
    (np.equal, (X34, X34)), (np.not_equal, (X34, 0.0)), (np.logical_and, (COND, COND)),
    (np.logical_or, (COND, COND)), (np.logical_xor, (COND, COND)), (np.isclose, (X34, X34)),
    (np.allclose, (X34, X34)), (np.array_equal, (X34, X34)), (np.all, (COND,)), (np.any, (COND, 0)),
    (np.count_nonzero, (COND,)), (np.argmax, (X34,)), (np.argmin, (X34, 1)), (np.argsort, (X34,)),
    (np.nonzero, (COND,)), (np.argwhere, (COND,)), (np.flatnonzero, (COND,)),
    (np.searchsorted, (XP, XQ)), (np.digitize, (XQ, XP)), (np.unique, (np.array([1, 2, 2]),)),
    (np.zeros, ((3, 4),)), (np.ones, (3,)), (np.empty, ((2, 2),)), (np.zeros_like, (X34,)),
    (np.ones_like, (X34,)), (np.empty_like, (X34,)), (np.arange, (5,)), (np.eye, (3,)),
    (np.identity, (3,)), (np.shape, (X34,)), (np.ndim, (X34,)), (np.size, (X34,)),
]
NONDIFF += MORE_NONDIFF


# ---------------------------------------------------------------------------
# NumPy rules: inner-product test, adjoint shapes, result types.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES)
def test_vjp(fn, args, kwargs, wrt):
    with np.errstate(invalid="ignore"):   # nan* cases
        check_vjp(fn, args, kwargs, wrt=wrt)


def _check_claim(claim: T.T | None, ans, args) -> None:
    """The static type a rule claims must agree with the value produced."""
    if claim is None or claim.kind in ("unknown", "object"):
        return
    if claim.kind in ("tuple", "list"):
        assert isinstance(ans, {"tuple": tuple, "list": list}[claim.kind])
        assert len(ans) == len(claim.elts) or not claim.elts   # (no elts: a length not known)
        for c, a in zip(claim.elts, ans):
            _check_claim(c, a, args)
        return
    if claim.kind in ("float", "int", "bool", "complex"):
        assert np.ndim(ans) == 0, f"claims a scalar, got shape {np.shape(ans)}"
    else:
        assert claim.kind == "array", claim
        if claim.rank is not None:
            assert np.ndim(ans) == claim.rank, f"claims rank {claim.rank}, got {np.ndim(ans)}"
    # Claiming an integer/bool result for a float output would drop its derivative.
    if claim.dtype in ("i", "b") or claim.kind in ("int", "bool"):
        assert np.asarray(ans).dtype.kind in "iub", f"claims {claim}, got {np.asarray(ans).dtype}"


@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES)
def test_result_type(fn, args, kwargs, wrt):
    claim = claimed_type(fn, args, kwargs)
    with np.errstate(invalid="ignore"):
        ans = primal(fn)(*args, **kwargs)
    _check_claim(claim, ans, args)
    # "same" promises the first argument's shape (the compiler drops unbroadcasts on it).
    rule = find_rule(fn)
    if rule.result == "same" or (claim is not None and claim.kind == "array" and claim.shape is not None
                                 and claim.shape == T.of_value(args[0]).shape):
        assert np.shape(ans) == np.shape(args[0])


@pytest.mark.parametrize("fn, args", NONDIFF, ids=lambda v: getattr(v, "__name__", ""))
def test_nondiff(fn, args):
    rule = lookup_object(fn)
    assert rule is not None and rule.nondiff
    ans = fn(*args)
    assert eval_rule(fn, args, {}, g=None, ans=ans) == {}
    _check_claim(claimed_type(fn, args, {}), ans, args)


# Complex values and np.fft (rules/complex.py, rules/np_fft.py): their own table, which
# tests/test_complex_fft.py also runs through the end-to-end checks.
from test_complex_fft import RULE_CASES as _COMPLEX_CASES  # noqa: E402
CASES += _COMPLEX_CASES

def _covered() -> set[int]:
    out = {id(find_rule(p.values[0])) for p in CASES}
    out |= {id(lookup_object(f)) for f, _ in NONDIFF}
    return out


# getitem's adjoint is the scatter `x_bar[index] += g` the reverse pass emits (the
# corpus tests it); its template is only the pass-through g.
NOT_INNER_PRODUCT_TESTED = {"getitem"}
# The rules of the helpers generated code calls (adjointc/rules/generated.py) have their own
# inner-product tests, which check that every one is covered (tests/test_generated_rules.py);
# `v = vals.pop()` is differentiated by the reverse pass (tests/test_higher_order.py).
NOT_INNER_PRODUCT_TESTED |= {r.op for r in REGISTRY.values() if r.objects and getattr(
    r.objects[0], "__module__", "").startswith("adjointc.")} | {"method:pop"}


def untested_numpy_rules() -> list[str]:
    """Registered differentiable rules other than math.* (NumPy, operators, builtins,
    attributes and methods) with no test case, and not listed as nondiff."""
    covered = _covered()
    return sorted({r.op for r in REGISTRY.values()
                   if (r.op.startswith("np.") or r.op in BUILTIN_RULE_OPS) and not r.op.startswith("math.")
                   and not r.nondiff and r.refused is None
                   and id(r) not in covered and r.op not in NOT_INNER_PRODUCT_TESTED})


def test_every_numpy_rule_is_tested():
    assert untested_numpy_rules() == []


# ---------------------------------------------------------------------------
# math rules against sympy.
# ---------------------------------------------------------------------------
S = sympy
_x, _y, _z = S.symbols("x y z", real=True)


def _at(builder, *points):
    return [(builder, p) for p in points]


SYMPY: dict = {
    math.sin: _at(S.sin, (-2.0,), (0.3,), (1.2,)),
    math.cos: _at(S.cos, (-2.0,), (0.3,), (1.2,)),
    math.tan: _at(S.tan, (-1.0,), (0.3,), (1.2,)),
    math.asin: _at(S.asin, (-0.7,), (0.1,), (0.9,)),
    math.acos: _at(S.acos, (-0.7,), (0.1,), (0.9,)),
    math.atan: _at(S.atan, (-3.0,), (0.1,), (2.0,)),
    math.atan2: _at(S.atan2, (0.5, 1.2), (-0.7, -0.4), (1.0, -2.0)),
    math.degrees: _at(lambda x: x * 180 / S.pi, (0.5,), (-2.0,)),
    math.radians: _at(lambda x: x * S.pi / 180, (30.0,), (-200.0,)),
    math.sinh: _at(S.sinh, (-1.5,), (0.2,), (2.0,)),
    math.cosh: _at(S.cosh, (-1.5,), (0.2,), (2.0,)),
    math.tanh: _at(S.tanh, (-1.5,), (0.2,), (2.0,)),
    math.asinh: _at(S.asinh, (-1.5,), (0.2,), (3.0,)),
    math.acosh: _at(S.acosh, (1.2,), (2.0,), (5.0,)),
    math.atanh: _at(S.atanh, (-0.8,), (0.1,), (0.6,)),
    math.exp: _at(S.exp, (-1.0,), (0.0,), (2.5,)),
    math.expm1: _at(lambda x: S.exp(x) - 1, (-1.0,), (1e-3,), (2.5,)),
    math.log: _at(S.log, (0.2,), (1.0,), (7.0,)) + _at(lambda x, b: S.log(x) / S.log(b), (3.0, 2.0), (0.5, 10.0)),
    math.log1p: _at(lambda x: S.log(1 + x), (-0.5,), (0.0,), (3.0,)),
    math.log2: _at(lambda x: S.log(x) / S.log(2), (0.3,), (8.0,)),
    math.log10: _at(lambda x: S.log(x) / S.log(10), (0.3,), (50.0,)),
    math.sqrt: _at(S.sqrt, (0.1,), (2.0,), (9.0,)),
    math.pow: _at(lambda x, y: x ** y, (1.5, 2.3), (0.7, -1.2), (3.0, 0.5)),
    math.hypot: _at(lambda x, y: S.sqrt(x * x + y * y), (3.0, -4.0), (0.5, 1.5))
    + _at(lambda x, y, z: S.sqrt(x * x + y * y + z * z), (1.0, 2.0, -2.0)),
    math.fabs: _at(S.Abs, (-1.5,), (0.4,)),
    math.copysign: _at(lambda x, y: S.Abs(x) * S.sign(y), (1.5, -2.0), (-0.5, 3.0), (-2.0, -1.0)),
    math.fmod: [(lambda x, y, k=int(a / b): x - k * y, (a, b)) for a, b in [(7.3, 2.0), (-5.5, 1.5), (0.4, -3.0)]],
    math.erf: _at(S.erf, (-1.0,), (0.0,), (0.7,)),
    math.erfc: _at(S.erfc, (-1.0,), (0.0,), (0.7,)),
}
# Special functions (rules/special.py): lgamma'(x) = digamma(x), also for x < 0.
SYMPY[math.lgamma] = _at(S.loggamma, (0.3,), (2.5,), (17.0,), (-2.5,))
SYMPY[math.gamma] = _at(S.gamma, (0.3,), (2.5,), (-1.5,))
if hasattr(math, "cbrt"):
    SYMPY[math.cbrt] = _at(lambda x: S.sign(x) * S.Abs(x) ** S.Rational(1, 3), (-8.0,), (0.5,), (27.0,))
if hasattr(math, "exp2"):
    SYMPY[math.exp2] = _at(lambda x: 2 ** x, (-1.0,), (0.5,), (3.0,))

MATH_NONDIFF = {math.floor: (2.5,), math.ceil: (2.5,), math.trunc: (-2.5,), math.factorial: (5,),
                math.gcd: (12, 18), math.lcm: (4, 6), math.comb: (5, 2), math.perm: (5, 2),
                math.isnan: (1.0,), math.isinf: (1.0,), math.isfinite: (1.0,), math.isclose: (1.0, 1.0)}


def sympy_mismatches(fn, builder, point, g: float = 0.7) -> list[str]:
    """Compare a math rule's adjoints with g * sympy.diff at `point`."""
    syms = (_x, _y, _z)[:len(point)]
    expr = builder(*syms)
    subs = dict(zip(syms, point))
    got = eval_rule(fn, point, {}, g)
    rule = find_rule(fn)
    flat: list = []   # adjoints in argument order
    for i in range(len(point)):
        p = rule.params[i] if i < len(rule.params) else rule.varargs
        a = got.get(p)
        a = a[i - len(rule.params)] if isinstance(a, list) else a
        flat.append(0.0 if a is None else a)   # no template: zero derivative
    bad = []
    for s, a in zip(syms, flat):
        want = g * float(S.diff(expr, s).subs(subs).evalf())
        if not math.isclose(float(a), want, rel_tol=1e-9, abs_tol=1e-12):
            bad.append(f"{rule.op}{point} d/d{s}: rule {a}, sympy {want}")
    return bad


MATH_POINTS = [pytest.param(f, b, p, id=f"{f.__name__}{p}") for f, entries in SYMPY.items() for b, p in entries]


@pytest.mark.parametrize("fn, builder, point", MATH_POINTS)
def test_math_rule_against_sympy(fn, builder, point):
    assert sympy_mismatches(fn, builder, point) == []
    assert find_rule(fn).result == "float"


# math functions of one list (no SymPy counterpart of scalars): the inner-product test
LIST_MATH = {"math.fsum", "math.prod"}


def untested_math_rules() -> list[str]:
    rules = [r for r in REGISTRY.values() if r.op.startswith("math.")]
    covered = {id(find_rule(f)) for f in SYMPY} | {id(find_rule(f)) for f in MATH_NONDIFF}
    covered |= {id(find_rule(p.values[0])) for p in CASES if find_rule(p.values[0]).op in LIST_MATH}
    return sorted(r.op for r in rules if id(r) not in covered)


def test_every_math_rule_has_a_sympy_counterpart():
    assert untested_math_rules() == []


@pytest.mark.parametrize("fn", list(MATH_NONDIFF), ids=lambda f: f.__name__)
def test_math_nondiff(fn):
    rule = find_rule(fn)
    assert rule.nondiff
    rule.bind(tuple(Const(v) for v in MATH_NONDIFF[fn]), ())
    fn(*MATH_NONDIFF[fn])


# ---------------------------------------------------------------------------
# The tester catches wrong rules.
# ---------------------------------------------------------------------------
def _swap_rule(monkeypatch, fn, signature_params, templates, op=None):
    old = lookup_object(fn)
    bad = Rule(op or old.op, signature_params, {}, templates=templates, objects=(fn,),
               result=old.result)
    monkeypatch.setitem(REGISTRY, bad.op, bad)
    monkeypatch.setitem(BY_OBJECT, id(fn), bad)


def test_inner_product_test_catches_a_wrong_rule(monkeypatch):
    check_vjp(np.sin, (X34,))
    _swap_rule(monkeypatch, np.sin, ("x",), {"x": "g * np.sin(x)"})
    with pytest.raises(AssertionError, match="finite differences"):
        check_vjp(np.sin, (X34,))


def test_inner_product_test_catches_a_missing_unbroadcast(monkeypatch):
    _swap_rule(monkeypatch, np.multiply, ("x", "y"), {"x": "g * y", "y": "unbroadcast(g * x, y)"})
    check_vjp(np.multiply, (X34, X34))           # same shapes: the bug does not show
    with pytest.raises(AssertionError, match="shape"):
        check_vjp(np.multiply, (A(3, 1), A(4)))


def test_inner_product_test_catches_a_wrong_reduction(monkeypatch):
    _swap_rule(monkeypatch, np.mean, ("a", "axis", "dtype"),
               {"a": "unreduce(g, a, axis, keepdims)"})   # forgot the 1/n
    bad = lookup_object(np.mean)
    monkeypatch.setattr(bad, "keyword_only", ("keepdims",))
    monkeypatch.setattr(bad, "defaults", {"axis": None, "dtype": None, "keepdims": False})
    with pytest.raises(AssertionError, match="finite differences"):
        check_vjp(np.mean, (X34,), {"axis": 1})


def test_sympy_test_catches_a_wrong_rule(monkeypatch):
    assert sympy_mismatches(math.sin, S.sin, (0.3,)) == []
    _swap_rule(monkeypatch, math.sin, ("x",), {"x": "g * math.sin(x)"})
    assert sympy_mismatches(math.sin, S.sin, (0.3,)) != []


def test_coverage_tests_catch_an_untested_rule(monkeypatch):
    for fn, op in ((np.i0, "np.i0"), (math.ldexp, "math.ldexp")):
        rule = Rule(op, ("x",), {}, templates={"x": "g"}, objects=(fn,))
        monkeypatch.setitem(REGISTRY, op, rule)
        monkeypatch.setitem(BY_OBJECT, id(fn), rule)
    assert untested_numpy_rules() == ["np.i0"]
    assert untested_math_rules() == ["math.ldexp"]


# ---------------------------------------------------------------------------
# Conventions at kinks and ties (JAX's), and other exact values.
# ---------------------------------------------------------------------------
def test_abs_at_zero_is_zero():
    assert eval_rule(np.abs, (np.array([0.0, -2.0]),), {}, np.ones(2))["x"].tolist() == [0.0, -1.0]
    assert eval_rule(math.fabs, (0.0,), {}, 1.0)["x"] == 0.0


# Edge values, end to end through the generated code (which once raised ZeroDivisionError).
def _pow_op(x, y):
    return x ** y


def _np_power(x, y):
    return np.power(x, y)


def _math_pow(x, y):
    return math.pow(x, y)


def _square(x):
    return x ** 2


def _square_np(x):
    return np.sum(x ** 2)


@pytest.mark.parametrize("f", [_pow_op, _np_power, _math_pow], ids=["operator", "np.power", "math.pow"])
def test_power_at_zero(f):
    """d/dx x ** y at y == 0 is 0 (x ** 0 is 1), also at x == 0; d/dy 0 ** y is 0 for
    y > 0 (JAX's convention); x == 0 with 0 < y < 1 has the true derivative inf."""
    from adjointc import grad
    g = grad(f, wrt=(0, 1))
    assert g(0.0, 0.0) == (0.0, 0.0)
    assert g(0.0, 2.0) == (0.0, 0.0)
    assert g(0.0, 1.0) == (1.0, 0.0)
    assert g(0.0, 0.5)[0] == math.inf
    dx, dy = g(2.0, 0.0)
    assert dx == 0.0 and dy == pytest.approx(math.log(2.0))
    dx, dy = g(1.5, 2.5)
    assert dx == pytest.approx(2.5 * 1.5 ** 1.5) and dy == pytest.approx(1.5 ** 2.5 * math.log(1.5))


def test_integer_exponent_is_exact_without_a_logarithm():
    from adjointc import grad
    for x in (0.0, -1.5, -3.0, 2.0):
        assert grad(_square)(x) == 2 * x                        # exactly 2x, also at x <= 0
    x = np.array([0.0, -1.5, 2.0])
    assert grad(_square_np)(x).tolist() == (2 * x).tolist()
    assert "log" not in grad(_square).source_for(1.0)


def _sqrt_math(x):
    return math.sqrt(x)


def _sqrt_np(x):
    return np.sum(np.sqrt(x))


def _abs_np(x):
    return np.sum(np.abs(x))


def _norm(x):
    return np.linalg.norm(x)


def _norm_rows(x):
    return np.sum(np.linalg.norm(x, axis=1))


def _hypot(x, y):
    return math.hypot(x, y) + np.hypot(x, y)


def _std_rows(x):
    return np.sum(np.std(x, axis=1)) + np.sum(np.var(x, axis=1))


def _std_ddof(x):
    return np.sum(np.std(x, axis=0, ddof=1))


def _std_all(x):
    return np.std(x)


def test_conventions_at_zero_end_to_end():
    """sqrt'(0) = inf (the true value); abs'(0) = 0; a norm (np.linalg.norm, hypot, std)
    at 0 takes the subgradient 0 (JAX gives nan): all three are convex and minimal there."""
    from adjointc import grad
    with np.errstate(divide="ignore"):
        assert grad(_sqrt_math)(0.0) == math.inf
        assert grad(_sqrt_np)(np.array([0.0, 4.0])).tolist() == [math.inf, 0.25]
    assert grad(_abs_np)(np.array([0.0, -2.0, 3.0])).tolist() == [0.0, -1.0, 1.0]
    assert grad(_norm)(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    for order in (1, 2, 3, np.inf, "fro", "nuc"):
        x0 = np.zeros((2, 2)) if order in ("fro", "nuc") else np.zeros(3)
        g = eval_rule(np.linalg.norm, (x0, order), {}, 1.0)["x"]
        assert np.all(np.isfinite(g)) and np.linalg.norm(np.ravel(g), np.inf) <= 1.0, (order, g)
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(grad(_norm_rows)(x), [[0.0, 0.0], [0.6, 0.8]])
    assert grad(_hypot, wrt=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert np.allclose(grad(_hypot, wrt=(0, 1))(3.0, 4.0), (1.2, 1.6))
    assert grad(_std_rows)(np.array([[1.0], [2.0], [-3.0]])).tolist() == [[0.0], [0.0], [0.0]]
    assert grad(_std_all)(np.ones(3)).tolist() == [0.0, 0.0, 0.0]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(np.std(np.ones((1, 3)), axis=0, ddof=1)).all()      # the primal is nan...
        assert np.isnan(grad(_std_ddof)(np.ones((1, 3)))).all()             # ...and so is its derivative


def test_maximum_minimum_split_ties():
    for f in (np.maximum, np.minimum, np.fmax, np.fmin):
        assert eval_rule(f, (1.0, 1.0), {}, 1.0) == {"x": 0.5, "y": 0.5}


def test_fmax_ignores_nan():
    got = eval_rule(np.fmax, (np.array([np.nan, 1.0]), np.array([2.0, np.nan])), {}, np.ones(2))
    assert got["x"].tolist() == [0.0, 1.0] and got["y"].tolist() == [1.0, 0.0]


def test_max_reduction_splits_ties():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    assert eval_rule(np.max, (a,), {}, 1.0)["a"].tolist() == [[0, 0.5, 0.5], [0, 0, 0]]
    got = eval_rule(np.max, (a,), {"axis": 1}, np.array([1.0, 3.0]))["a"]
    assert np.allclose(got, [[0, 0.5, 0.5], [1, 1, 1]])


def test_clip_passes_gradient_on_the_boundary():
    got = eval_rule(np.clip, (np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), -0.5, 0.5), {}, np.ones(5))
    assert got["a"].tolist() == [0, 1, 1, 1, 0]
    assert got["a_min"] == 1.0 and got["a_max"] == 1.0


def test_prod_and_cumprod_with_zeros_are_exact():
    a = np.array([2.0, 0.0, 3.0])
    assert eval_rule(np.prod, (a,), {}, 1.0)["a"].tolist() == [0.0, 6.0, 0.0]
    assert eval_rule(np.prod, (np.array([0.0, 2.0, 0.0]),), {}, 1.0)["a"].tolist() == [0, 0, 0]
    got = eval_rule(np.cumprod, (a,), {}, np.ones(3))["a"]
    assert got.tolist() == [1.0, 2.0 + 6.0, 0.0]   # d/da1 (a0 + a0 a1 + a0 a1 a2) = a0 + a0 a2


def test_sinc_derivative_at_zero():
    assert eval_rule(np.sinc, (np.array([0.0]),), {}, np.ones(1))["x"].tolist() == [0.0]
    x = S.Symbol("x")
    exact = S.diff(S.sin(S.pi * x) / (S.pi * x), x)
    for v in (1e-6, 0.99e-4, 1.01e-4, 1e-3, 0.3):   # both sides of the series cut-off
        assert math.isclose(runtime.dsinc(v), float(exact.subs(x, S.Float(v, 50)).evalf(30)), rel_tol=1e-7)


def test_where_with_one_argument_has_no_derivative():
    assert eval_rule(np.where, (COND,), {}, None) == {}


def test_pad_rejects_other_modes():
    with pytest.raises(TypeError, match="constant"):
        eval_rule(np.pad, (X34, 1, "reflect"), {}, None)


# ---------------------------------------------------------------------------
# The inlined templates read like hand-written adjoints.
# ---------------------------------------------------------------------------
def test_templates_read_well():
    assert rendered_templates(np.exp, (X34,)) == {"x": "g * ans"}
    assert rendered_templates(np.einsum, ("ij,jk->ik", L23, A(3, 4))) == {
        "operands": ["einsum_vjp(g, 'ij,jk->ik', (operands0, operands1), 0)",
                     "einsum_vjp(g, 'ij,jk->ik', (operands0, operands1), 1)"]}
    assert rendered_templates(np.einsum, (X34, [0, 1], [1, 0])) == {
        "subscripts": "einsum_args_vjp(g, (subscripts, [0, 1], [1, 0]), 0)", "operands": [None, None]}
    assert rendered_templates(np.transpose, (X234, (2, 0, 1))) == {"a": "untranspose(g, a, (2, 0, 1))"}
    assert rendered_templates(np.roll, (X34, (1, -2), (0, 1))) == {"a": "unroll(g, a, (1, -2), (0, 1))"}
    assert rendered_templates(np.sum, (X34,), {"axis": 1}) == {"a": "unreduce(g, a, 1, False)"}
    assert rendered_templates(math.log, (2.0,)) == {"x": "g / x"}
    assert rendered_templates(np.clip, (X34, None, 0.3)) == {
        "a": "unbroadcast(g * (a <= a_max), a)", "a_max": "unbroadcast(g * (a > a_max), a_max)"}


def _as_sublists(subs: str, ops: list) -> list:
    """'ij,jk->ik' with operands a, b as the interleaved form [a, [0, 1], b, [1, 2], [0, 2]]."""
    labels: dict[str, int] = {}

    def term(t: str) -> list:
        out, t = [], t.replace("...", ".")
        for c in t:
            out.append(Ellipsis if c == "." else labels.setdefault(c, len(labels)))
        return out
    ins, _, out = subs.partition("->")
    args: list = []
    for op, t in zip(ops, ins.split(",")):
        args += [op, term(t)]
    return args + ([term(out)] if "->" in subs else [])


@pytest.mark.parametrize("subs, shapes", [(e[0], e[1:]) for e in EINSUM if "->" in e[0]],
                         ids=[e[0] for e in EINSUM if "->" in e[0]])
def test_einsum_sublist_form_agrees_with_subscripts(subs, shapes):
    """`einsum_args_vjp` on the interleaved form gives the string form's adjoints."""
    ops = [A(*s) for s in shapes]
    args = _as_sublists(subs, ops)
    assert np.allclose(np.einsum(*args), np.einsum(subs, *ops))
    g = RNG.standard_normal(np.shape(np.einsum(subs, *ops)))
    for i in range(len(ops)):
        assert np.allclose(runtime.einsum_args_vjp(g, args, 2 * i), einsum_vjp(g, subs, ops, i))
        assert np.allclose(runtime.einsum_args_vjp(g, (subs, *ops), i + 1), einsum_vjp(g, subs, ops, i))


# ---------------------------------------------------------------------------
# Random shapes: broadcasting and batched products beyond the table.
# ---------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       fn=st.sampled_from([np.add, np.subtract, np.multiply, np.hypot, np.logaddexp, np.arctan2]),
       seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_rules(shapes, fn, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.uniform(0.5, 1.5, s) for s in shapes.input_shapes)
    check_vjp(fn, (x, y), seed=seed)


@settings(max_examples=40, deadline=None)
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
       ranks=st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2)]), seed=st.integers(0, 2 ** 16))
def test_matmul_random_batches(batch, ranks, seed):
    rng = np.random.default_rng(seed)
    sa = (batch.input_shapes[0] + (2,) if ranks[0] == 2 else ()) + (3,)
    sb = (batch.input_shapes[1] if ranks[1] == 2 else ()) + ((3, 4) if ranks[1] == 2 else (3,))
    check_vjp(np.matmul, (rng.standard_normal(sa), rng.standard_normal(sb)), seed=seed)


# ---------------------------------------------------------------------------
# The symbolic zero: adjoints start as the scalar 0.0, so a rule can receive
# g = 0.0 for an array output (a value overwritten in a loop and not read after
# it). Every rule must map it to a zero adjoint the generated code can use: a
# scalar or input-shaped zero, and for a list input a list with one per element.
# ---------------------------------------------------------------------------
def _zero_usable(adj: object, x: object, where: str, exact: bool = False) -> None:
    """A zero adjoint: input-shaped (any shape-compatible zero unless `exact`)."""
    if isinstance(x, (list, tuple)) and not isinstance(adj, np.ndarray):
        assert isinstance(adj, (list, tuple)) and len(adj) == len(x), f"{where}: {adj!r}"
        for i, (a, e) in enumerate(zip(adj, x)):
            _zero_usable(a, e, f"{where}[{i}]", exact)
        return
    assert not np.any(adj), f"{where}: nonzero adjoint {adj!r} from a zero cotangent"
    if np.ndim(adj) or exact:
        assert np.shape(adj) == np.shape(x), f"{where}: shape {np.shape(adj)}, input {np.shape(x)}"


def _is_linear_helper(template: str | None) -> bool:
    """Is the template a call of a `@linear` helper (which must return exact zeros)?"""
    name = (template or "").split("(")[0]
    return hasattr(getattr(runtime, name, None), "__wrapped__")


@pytest.mark.parametrize("fn, args, kwargs, wrt", CASES)
def test_symbolic_zero_cotangent(fn, args, kwargs, wrt):
    rule = find_rule(fn)
    with np.errstate(invalid="ignore"):
        adj = eval_rule(fn, args, kwargs, 0.0)
    values = dict(zip(rule.params, args), **kwargs)
    shown = rendered_templates(fn, args, kwargs)
    for p, a in adj.items():
        if wrt is not None and p not in wrt:
            continue
        if p == rule.varargs:
            for i, (ai, xi) in enumerate(zip(a, args[len(rule.params):])):
                if ai is not None:
                    _zero_usable(ai, xi, f"{p}[{i}]", _is_linear_helper(shown[p][i]))
        else:
            _zero_usable(a, values[p], p, _is_linear_helper(shown[p]))


# ---------------------------------------------------------------------------
# Refused: masked arrays (their derivative would reach the masked elements).
# ---------------------------------------------------------------------------
def _masked_sum(x):
    m = np.ma.masked_array(x, mask=[False, True, False])
    return np.sum(m ** 2)


def _masked_where(x):
    return np.sum(np.ma.masked_where(x > 0.0, x) * 2.0)


def _plain(x):
    return np.sum(x * x)


@pytest.mark.parametrize("f", [_masked_sum, _masked_where])
def test_masked_arrays_are_refused_with_a_located_error(f):
    from adjointc import NoAdjointRule, grad
    with pytest.raises(NoAdjointRule, match="masked arrays") as e:
        grad(f)(np.array([1.0, 2.0, 3.0]))
    assert e.value.loc is not None and e.value.loc.line == f.__code__.co_firstlineno + 1
    assert "np.where" in str(e.value)


def test_a_masked_array_argument_is_refused():
    from adjointc import TypeMismatch, grad
    with pytest.raises(TypeMismatch, match="MaskedArray"):
        grad(_plain)(np.ma.masked_array([1.0, 2.0], mask=[False, True]))


def test_every_np_ma_callable_is_refused():
    missing = [a for a, obj in vars(np.ma).items() if not a.startswith("_") and callable(obj)
               and getattr(np, a, None) is not obj and (lookup_object(obj) is None
                                                        or lookup_object(obj).refused is None)]
    assert missing == []


# ---------------------------------------------------------------------------
# Complex intermediates of a real function of real inputs: differentiated in JAX's
# convention (rules/complex.py); a complex adjoint the types did not show reaching a
# real input is refused at run time.
# ---------------------------------------------------------------------------
def _abs_squared_complex(x):
    return np.sum(np.abs(x + 1j * x) ** 2)


def _times_1j(x):
    return np.sum(np.real(x * 1j))


def _exp_1j(x):
    return np.sum(np.real(np.exp(1j * x)))


def _scalar_times_1j(x):
    y = abs(x * 1j)
    return y + x


def _builtin_complex(x):
    return abs(complex(x, x))


def _complex_list_element(x, vals):
    s = 0.0
    for i in range(2):
        s = s + abs(x * vals[i]) ** 2
    return s


@pytest.mark.parametrize("f, args", [
    (_abs_squared_complex, (np.array([0.3, -0.5]),)),
    (_times_1j, (np.array([0.3, -0.5]),)),
    (_exp_1j, (np.array([0.3, -0.5]),)),
    (_scalar_times_1j, (0.7,)),
    (_builtin_complex, (0.7,)),
    (_complex_list_element, (0.5, [1.0, 2j])),
], ids=lambda v: getattr(v, "__name__", ""))
def test_complex_intermediates_are_differentiated(f, args):
    """(They were refused until rules/complex.py: tests/test_complex_fft.py has the rest.)"""
    from adjointc import grad
    x, h = args[0], 1e-6
    got = grad(f)(*args)
    if np.ndim(x) == 0:
        want = (f(x + h, *args[1:]) - f(x - h, *args[1:])) / (2 * h)
    else:
        want = np.array([(f(x + h * e, *args[1:]) - f(x - h * e, *args[1:])) / (2 * h) for e in np.eye(x.size)])
    assert np.asarray(got).dtype.kind == "f"
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def _inactive_complex(x, z):
    c = abs(1j + 1.0)
    return np.sum(x * np.abs(z)) * c


def test_inactive_complex_values_are_fine():
    from adjointc import grad
    x, z = np.array([0.3, -0.5]), np.array([3.0 + 4.0j, 1.0j])
    assert np.allclose(grad(_inactive_complex)(x, z), np.abs(z) * math.sqrt(2.0))


def test_a_complex_adjoint_of_a_real_input_is_refused_at_run_time():
    """The backstop for complex values the types did not show: the adjoint is
    never cast to real (which discards the imaginary part)."""
    from adjointc import TypeMismatch
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeMismatch, match="complex"):
        runtime.as_adjoint(np.array([1.0 + 2.0j, 0.0]), x)
    with pytest.raises(TypeMismatch, match="complex"):
        runtime.as_adjoint(1.0j, x)
    assert runtime.as_adjoint(np.array([1.0, 0.0]), x).tolist() == [1.0, 0.0]
    z = np.array([1.0j, 2.0])
    assert runtime.as_adjoint(np.array([1.0 + 2.0j, 0.0]), z).dtype.kind == "c"   # complex input: kept


# ---------------------------------------------------------------------------
# Rules inside loops: random programs that rebind a value with structural ops
# (cumsum, concatenate, stack, sort, solve, einsum...) on every trip, so rules
# meet the symbolic zero (a last value nothing reads) and in-place updates.
# Checked against central differences at two step sizes (a kink makes them
# disagree; such programs are skipped, not counted).
# ---------------------------------------------------------------------------
LOOP_OPS_1D = [
    "c = np.cumsum(c)", "c = np.concatenate([c[1:], c[:1]]) * 0.5 + c", "c = np.append(c[1:], c[0] * y)",
    "c = np.stack([c, c * y])[1]", "c = np.sort(c)", "c = np.flip(c)", "c = np.roll(c, 1)",
    "c = np.tanh(c)", "s = s + np.sum(c * c)", "c[0] = c[0] * y", "c = -c", "c = c * 2.0",
    "c = np.reshape(np.outer(c, c), (-1,))[:3]", "c = np.pad(c, 1)[1:-1] * y", "c = np.tile(c, 2)[1:4]",
    "c = np.einsum('i,i->i', c, c)", "c = np.linalg.norm(c) * c", "c = np.transpose(np.atleast_2d(c))[:, 0]",
    "s = s + c[1] * y",
]
LOOP_OPS_2D = [
    "M = A @ M @ A.T + A", "M = np.linalg.solve(np.eye(3) * 3.0 + A, M)", "M = np.tensordot(M, A, 1) * 0.3",
    "M = np.swapaxes(M, 0, 1) * y", "M = np.tril(M) + np.triu(A, 1)", "M = np.einsum('ij,jk->ik', M, A) * 0.5",
    "M = np.cumsum(M, axis=0) * 0.3", "M = np.vstack([M[1:], M[:1] * y])", "M = np.moveaxis(M, 0, 1) * y",
    "M = np.linalg.inv(M @ M.T + np.eye(3))", "M = np.stack([M[0], M[1], M[2] * y])",
    "M = np.take(M, [2, 0, 1], axis=0)", "s = s + np.sum(M * M)", "s = s + np.trace(M) * y",
    "s = s + np.linalg.det(M + 3.0 * np.eye(3))", "M[:, 1] = M[:, 1] + y",
]


def _loop_program(rng: np.random.Generator, two_d: bool) -> str:
    ops = LOOP_OPS_2D if two_d else LOOP_OPS_1D
    body = [ops[int(k)] for k in rng.integers(0, len(ops), rng.integers(1, 4))]
    start = "M = A @ A * 0.5" if two_d else "c = np.cumsum(A)"
    ret = ["s", "s * y"] if two_d else ["s", "np.sum(c ** 2) + s", "s * y"]
    return ("import numpy as np\n\n\ndef f(A, y):\n    s = 0.0\n    " + start
            + f"\n    for i in range({int(rng.integers(1, 4))}):\n"
            + "".join(f"        {b}\n" for b in body) + f"    return {ret[int(rng.integers(len(ret)))]}\n")


def _central(f, args, i, h):
    args = list(args)
    x = args[i]
    if isinstance(x, float):
        return (f(*args[:i], x + h, *args[i + 1:]) - f(*args[:i], x - h, *args[i + 1:])) / (2 * h)
    out = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        out[j] = (f(*args[:i], xp, *args[i + 1:]) - f(*args[:i], xm, *args[i + 1:])) / (2 * h)
    return out


@pytest.mark.parametrize("seed", range(24))
def test_rules_in_loops_against_finite_differences(tmp_path, seed):
    import importlib.util

    from adjointc import AdjointcError, grad
    rng = np.random.default_rng(9000 + seed)
    source = _loop_program(rng, two_d=seed % 2 == 1)
    path = tmp_path / f"loop_program_{seed}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"loop_program_{seed}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    A, y = (rng.normal(size=(3, 3)) * 0.5 if seed % 2 else rng.normal(size=3)), float(rng.uniform(0.5, 1.0))
    with np.errstate(all="ignore"):
        value = module.f(A.copy(), y)
        if not np.isfinite(value) or abs(value) > 1e6:
            return
        try:
            got = grad(module.f, wrt=(0, 1))(A.copy(), y)
        except AdjointcError as e:   # a refusal is allowed, but only for aliasing
            assert "share memory" in str(e), source
            return
        for i, g in enumerate(got):
            r1, r2 = _central(module.f, (A, y), i, 1e-6), _central(module.f, (A, y), i, 1e-5)
            if not np.allclose(r1, r2, rtol=1e-3, atol=1e-4):
                return   # a kink (sort, a tie): finite differences are no reference
            assert np.allclose(g, r1, rtol=1e-4, atol=1e-5), f"d/d{'Ay'[i]}\n{source}\n{g}\n{r1}"
