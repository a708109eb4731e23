"""adjointc: source-to-source reverse-mode automatic differentiation for Python and NumPy.

    from adjointc import grad
    @grad(wrt=("u0", "kappa"))
    def heat(u0, kappa, steps=100): ...
    du0, dkappa = heat(u0, 0.1)
    print(heat.source)            # the generated adjoint

The transforms (grad, value_and_grad, vjp, jacrev/jacobian, hessian; adjointc/transforms.py)
follow JAX's conventions: argnums, has_aux, Jacobians of shape out.shape + in.shape.
"""
__version__ = "0.1.0"

from .transforms import grad, hessian, jacobian, jacrev, value_and_grad, vjp  # noqa: E402
from .errors import (AdjointcBug, AdjointcError, AliasingError, CheckFailed, GeneratedCodeError,  # noqa: E402
                     InternalError, InvalidArgument, NoAdjointRule, StaleSource, TypeMismatch,
                     UnsupportedFunction, UnsupportedSyntax, AdjointcWarning)
from .forward import jacfwd, jvp, tangent  # noqa: E402
from .rules import defjvp, defvjp, nondiff  # noqa: E402
# Imported here, once: the package attribute `adjointc.check` is then this function for
# good. (Importing the submodule later, e.g. inside a function, would rebind the attribute
# to the module.) The module stays importable as `from adjointc.check import ...`.
from .check import check  # noqa: E402
from .memory import retain_freed_memory  # noqa: E402  (opt-in, process-wide: adjointc/memory.py)


__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacfwd", "tangent", "jacrev", "jacobian", "hessian", "check", "defvjp",
           "defjvp", "nondiff", "AdjointcError",
           "UnsupportedSyntax", "UnsupportedFunction", "NoAdjointRule", "AliasingError", "TypeMismatch",
           "InvalidArgument", "StaleSource", "CheckFailed", "AdjointcBug", "GeneratedCodeError", "InternalError",
           "AdjointcWarning", "retain_freed_memory"]
