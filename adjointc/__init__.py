"""adjointc: source-to-source reverse-mode automatic differentiation for Python and NumPy.

    from adjointc import grad
    @grad(wrt=("u0", "kappa"))
    def heat(u0, kappa, steps=100): ...
    du0, dkappa = heat(u0, 0.1)
    print(heat.source)            # the generated adjoint
"""
__version__ = "0.1.0"

from .api import grad, value_and_grad, vjp  # noqa: E402
from .errors import (AdjointcError, AliasingError, CheckFailed, NoAdjointRule,  # noqa: E402
                     TypeMismatch, UnsupportedSyntax)
from .rules import defvjp, nondiff  # noqa: E402


def check(f, *args, **kwargs):
    """Verify the gradient of `f` at `args` against SymPy (scalar code) or finite differences."""
    from .check import check as _check
    return _check(f, *args, **kwargs)


__all__ = ["grad", "value_and_grad", "vjp", "check", "defvjp", "nondiff", "AdjointcError",
           "UnsupportedSyntax", "NoAdjointRule", "AliasingError", "TypeMismatch", "CheckFailed"]
