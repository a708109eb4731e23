"""np.fft: the discrete Fourier transforms, their frequency grids and shifts.

fft/ifft/rfft/irfft (with `n=`, `axis=`, `norm=`), fft2/ifft2/fftn/ifftn and
rfft2/irfft2/rfftn/irfftn (with `s=`, `axes=`, `norm=`). Each is linear, so its
tangent is the same call on the tangent (`defjvp(..., "linear")`); the adjoints are
the transposes of adjointc/rules/helpers/spectral.py, in JAX's cotangent convention
(rules/complex.py). Signatures leave out `out=` (NumPy 2): using it is a binding error.

fftfreq/rfftfreq are index grids: `n` has no derivative; the spacing `d` does
(fftfreq(n, d) = fftfreq(n) / d). fftshift/ifftshift
are permutations: each one's adjoint is the other.
"""
from __future__ import annotations

import numpy as np

from .. import types as T
from . import defjvp, defvjp, lookup_object
from .np_results import dtype_of, rank_of, type_of

C = "c"


def _spectrum(name: str, dtype: str | None = C):
    """A transform's result: the input's rank, complex (or real: the inverse real ones),
    a new shape (`n=`/`s=` and the real transforms change the lengths)."""
    def result(types, bound):
        r = rank_of(type_of(types, name))
        return T.UNKNOWN if r is None else T.array(r, None, dtype)
    return result


_ONE = "a, n=None, axis=-1, norm=None"
_TWO = "a, s=None, axes=(-2, -1), norm=None"
_MANY = "a, s=None, axes=None, norm=None"
for _f, _sig, _helper, _dtype in (
        (np.fft.fft, _ONE, "fft_vjp", C), (np.fft.ifft, _ONE, "ifft_vjp", C),
        (np.fft.rfft, _ONE, "rfft_vjp", C), (np.fft.irfft, _ONE, "irfft_vjp", "f"),
        (np.fft.fft2, _TWO, "fftn_vjp", C), (np.fft.ifft2, _TWO, "ifftn_vjp", C),
        (np.fft.rfft2, _TWO, "rfftn_vjp", C), (np.fft.irfft2, _TWO, "irfftn_vjp", "f"),
        (np.fft.fftn, _MANY, "fftn_vjp", C), (np.fft.ifftn, _MANY, "ifftn_vjp", C),
        (np.fft.rfftn, _MANY, "rfftn_vjp", C), (np.fft.irfftn, _MANY, "irfftn_vjp", "f")):
    _rest = "n, axis, norm" if _sig is _ONE else "s, axes, norm"
    defvjp(_f, _sig, a=f"{_helper}(g, a, {_rest})", result=_spectrum("a", _dtype))
    defjvp(_f, "linear")

# Permutations.
defvjp(np.fft.fftshift, "x, axes=None", x="ifftshift_of(g, x, axes)", result="same")
defvjp(np.fft.ifftshift, "x, axes=None", x="fftshift_of(g, x, axes)", result="same")
for _f in (np.fft.fftshift, np.fft.ifftshift):
    defjvp(_f, "linear")


# Frequency grids: n is an int; d (the sample spacing) scales the grid by 1 / d.
def _grid(types, bound):
    return T.array(1, None, "f")


for _f, _full in ((np.fft.fftfreq, True), (np.fft.rfftfreq, False)):
    defvjp(_f, "n, d=1.0", d="-np.sum(g * ans) / d", result=_grid)
    # A tangent template's `d` is the tangent (so `defjvp` refuses a parameter named d):
    # freq_jvp reads the spacing off the grid itself (ans[1] = +-1 / (n d)).
    lookup_object(_f).jvp = {"d": f"freq_jvp(d, ans, n, {_full})"}
