"""NumPy's matrix decompositions beyond eigh and cholesky (those are in np_linalg.py):
np.linalg.svd (and svdvals), eig, pinv and qr, for real matrices (stacked: the last two axes).

The adjoints and tangents are the helpers of adjointc/rules/helpers/decomp.py, whose
docstring says where each is defined. In short: svd with distinct (and, for a
non-square matrix, nonzero) singular values, `full_matrices=True` of a non-square
matrix only while the completing columns are not read; eig with real distinct
eigenvalues; pinv of constant rank; qr of full rank, modes 'reduced', 'r' and
'complete'. The rest is refused when the helper meets it (the shapes and values
decide, at run time). The signatures leave out `hermitian=` (svd, pinv: those
read one triangle of a, so their derivative is a different one) and pinv's `rtol=`.
Results are tuples (U, s, Vh), (w, v), (Q, R) whose adjoints the helpers receive as
tuples, a part nothing reads as zero.
"""
from __future__ import annotations

import numpy as np

from . import defjvp, defvjp
from .np_results import eig_result, qr_result, rank_plus, same_rank, svd_result

defvjp(np.linalg.svd, "a, full_matrices=True, compute_uv=True",
       a="svd_vjp(g, a, ans, full_matrices, compute_uv)", result=svd_result)
defjvp(np.linalg.svd, a="svd_jvp(d, a, ans, full_matrices, compute_uv)")
defvjp(np.linalg.eig, "a", a="eig_vjp(g, a, ans)", result=eig_result)
defjvp(np.linalg.eig, a="eig_jvp(d, a, ans)")
defvjp(np.linalg.pinv, "a, rcond=None", a="pinv_vjp(g, a, ans)",
       result=same_rank("a"))
defjvp(np.linalg.pinv, a="pinv_jvp(d, a, ans)")
defvjp(np.linalg.qr, "a, mode='reduced'", a="qr_vjp(g, a, ans, mode)", result=qr_result)
defjvp(np.linalg.qr, a="qr_jvp(d, a, ans, mode)")
if hasattr(np.linalg, "svdvals"):   # NumPy >= 2: svd(x, compute_uv=False)
    defvjp(np.linalg.svdvals, "x", x="svd_vjp(g, x, None, False, False)", result=rank_plus(-1, "x"))
    defjvp(np.linalg.svdvals, x="svd_jvp(d, x, None, False, False)")
