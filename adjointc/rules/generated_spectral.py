"""Rules of the complex and FFT helpers generated adjoints call (rules/helpers/spectral.py),
so that generated code can be differentiated again (grad of grad, forward over reverse).

Each FFT helper is linear in its first argument (the cotangent `c`); its VJP is the
transposed map, in JAX's convention (rules/complex.py: the transpose, no conjugate):

    fft_vjp(c, x, n, axis, norm)    = fit(fft(c), len x)   <->  fft_fit(g, c, axis, norm) = fft(g, n=len c)
    fftn_vjp / ifft_vjp / ifftn_vjp                        <->  fftn_fit / ifft_fit / ifftn_fit
    rfft_vjp(c, x, n, axis, norm)   = Re fit(fft(fit(c, n)), len x)  <->  rfft(g, n, axis, norm)
    irfft_vjp(c, x, n, axis, norm)  = fit(w * ifft(c)[:m], len x)    <->  irfft(g, n, axis, norm)
    (rfftn_vjp, irfftn_vjp likewise with rfftn, irfftn), fftshift_of <-> ifftshift_of.

`csign` (abs's complex direction) has `csign_vjp`/`csign_jvp` and `dangle` (np.angle's,
-1j / z, holomorphic) has `dangle_vjp`; those have no rules: a third derivative through
abs or np.angle of a complex value is refused, located.
"""
from __future__ import annotations

from .. import types as T
from . import defjvp, defvjp
from .helpers import spectral as H
from .np_results import rank_of, type_of


def _like(name: str, dtype: str):
    """An array of `name`'s rank (a new shape) and this dtype."""
    def result(types, bound):
        r = rank_of(type_of(types, name))
        return T.UNKNOWN if r is None else T.array(r, None, dtype)
    return result


_ONE, _MANY = "c, x, n=None, axis=-1, norm=None", "c, x, s=None, axes=None, norm=None"
for _f, _sig, _t in ((H.fft_vjp, _ONE, "fft_fit(g, c, axis, norm)"), (H.ifft_vjp, _ONE, "ifft_fit(g, c, axis, norm)"),
                     (H.fftn_vjp, _MANY, "fftn_fit(g, c, s, axes, norm)"),
                     (H.ifftn_vjp, _MANY, "ifftn_fit(g, c, s, axes, norm)"),
                     (H.rfft_vjp, _ONE, "np.fft.rfft(g, n, axis, norm)"),
                     (H.rfftn_vjp, _MANY, "np.fft.rfftn(g, s, axes, norm)"),
                     (H.irfft_vjp, _ONE, "np.fft.irfft(g, n, axis, norm)"),
                     (H.irfftn_vjp, _MANY, "np.fft.irfftn(g, s, axes, norm)")):
    defvjp(_f, _sig, name=_f.__name__, c=_t, result=_like("x", "f" if _f is H.rfft_vjp or _f is H.rfftn_vjp else "c"))
    defjvp(_f.__name__, "linear")
for _f, _sig, _t in ((H.fft_fit, "c, like, axis=-1, norm=None", "fft_vjp(g, c, None, axis, norm)"),
                     (H.ifft_fit, "c, like, axis=-1, norm=None", "ifft_vjp(g, c, None, axis, norm)"),
                     (H.fftn_fit, "c, like, s=None, axes=None, norm=None", "fftn_vjp(g, c, s, axes, norm)"),
                     (H.ifftn_fit, "c, like, s=None, axes=None, norm=None", "ifftn_vjp(g, c, s, axes, norm)")):
    defvjp(_f, _sig, name=_f.__name__, c=_t, result=_like("c", "c"))
    defjvp(_f.__name__, "linear")
defvjp(H.ifftshift_of, "c, x, axes=None", name="ifftshift_of", c="fftshift_of(g, c, axes)", result="same")
defvjp(H.fftshift_of, "c, x, axes=None", name="fftshift_of", c="ifftshift_of(g, c, axes)", result="same")
for _n in ("ifftshift_of", "fftshift_of"):
    defjvp(_n, "linear")
defvjp(H.csign, "x", name="csign", x="csign_vjp(g, x)", result="same")
defjvp("csign", x="csign_jvp(d, x)")
defvjp(H.dangle, "z, deg=False", name="dangle", z="dangle_vjp(g, z, deg)", result="same")
defjvp("dangle", z="dangle_vjp(d, z, deg)")
