"""Rules for NumPy, one module per family, registered in this order:

* rules/np_elementwise.py  ufuncs, where, clip, interp; rounding and comparisons
* rules/np_reductions.py   sums, means, extrema, norms; scans and sorting
* rules/np_linalg.py       products, einsum, np.linalg
* rules/np_decomp.py       np.linalg's svd, eig, pinv, qr
* rules/np_shape.py        reshaping, selection, assembly, constructors, shape queries

(their result types are in rules/np_results.py), then every other callable of
np.ma is refused (below: it must come last, it skips what is registered).

Conventions the families share. One rule per line where possible. Templates
name the parameters as NumPy's documentation does (ufuncs, which only take
positional inputs, use `x` and `y`). Longer adjoints call the helpers of
adjointc/rules/helpers/ (split by the same families).

Signatures list only the options a rule handles correctly: `out=`, `where=`,
`initial=`, `order=` and the like are left out (or made keyword-only so a
positional use cannot shift the others), so using one is a clear binding
error instead of a silently wrong derivative.

Subgradients at kinks and ties follow JAX: abs'(0) = 0 (via sign), maximum /
minimum split `g` 0.5 / 0.5 on ties, max / min reductions split `g` evenly
among tied extrema, clip passes `g` where lo <= x <= hi. Where a norm is 0
(`np.linalg.norm`, `np.hypot`, `np.std`) the adjoint is 0, a subgradient of
the convex function at its minimum (JAX gives nan there); sqrt'(0) = inf, the
true value, is kept. Powers are exact at x == 0 and y == 0 (`power_templates`).

A rule may be handed the symbolic zero `g = 0.0` for an array output (an
adjoint not yet accumulated): templates and helpers must map it to a zero
adjoint (the helpers are `@linear`), which tests/test_rules.py checks for
every case.

Every rule is exercised by the inner-product test in tests/test_rules.py,
which fails when a rule of these modules has no test case.
"""
from __future__ import annotations

import numpy as np

from . import BY_OBJECT, refuse
from . import np_elementwise as _elementwise  # noqa: F401  (each registers its rules at import)
from . import np_reductions as _reductions  # noqa: F401
from . import np_linalg as _linalg  # noqa: F401
from . import np_decomp as _decomp  # noqa: F401
from . import np_shape as _shape  # noqa: F401


# ------------------------------------------------------------ refused: np.ma
# A masked array's derivative would flow into masked elements too (NumPy computes
# with the underlying data): refuse every callable of np.ma at transform time.
def _refuse_masked_arrays() -> None:
    for attr, obj in sorted(vars(np.ma).items()):
        if attr.startswith("_") or not callable(obj) or id(obj) in BY_OBJECT \
                or getattr(np, attr, None) is obj:
            continue
        refuse(obj, "masked arrays (np.ma) are not differentiable: the derivative would reach "
               "the masked elements too",
               "keep a boolean mask yourself: np.where(mask, x, 0.0), np.sum(x * mask) or "
               "x[mask]", name=f"np.ma.{attr}")


_refuse_masked_arrays()
