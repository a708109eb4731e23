"""The helpers rule templates call, by family (the rules/np_*.py families).

Every helper computes one adjoint (or a piece of one) that is too long to
inline as a template. Naming conventions, so generated code reads well:

* `un<op>(g, ...)`   adjoint of a structural op (`unsort`, `untile`, `unpad`):
                     route the output adjoint `g` back to the input's layout.
* `<op>_lhs/_rhs`    adjoints of the two operands of a bilinear op (`dot_lhs`).
* `<op>_vjp`         adjoint of a nonlinear op (`norm_vjp`, `eigh_vjp`).
* `<op>_jvp(d, ...)` tangent (forward mode) of a nonlinear op for its input's
                     tangent `d` (`norm_jvp`, `eigh_jvp`): the transpose of the
                     op's adjoint, with the same conventions at ties and zeros.

Helpers take the primal values they need and return an array shaped like the
corresponding input (a list of them for list inputs); a tangent helper returns
one shaped like the output (a pair for a pair result: eigh, slogdet). They are
kept small and NumPy-only; each handles the options its rule declares, nothing
more. A helper that is linear in `g` is `@linear` (core.py): the symbolic zero
0.0 gives a zero adjoint without running array code. Tangent helpers need no
such guard: an argument without a tangent contributes no term
(rules/tangents.py), so `d` is always a value of the input's shape.

Modules: core (the symbolic zero, `@linear`), elementwise, reductions (with
scans and sorting), linalg (products, einsum, norms, np.linalg), decomp (svd, eig,
pinv, qr), shape (shape, selection and assembly), special (digamma,
trigamma), spectral (complex values and FFTs), batch (batched forward mode:
rules/batched.py). Dependencies point one way: the helpers import adjointc.runtime
(`unbroadcast`, `unreduce`), never the reverse.

The namespace of generated code: a generated adjoint imports every helper it
calls from adjointc.runtime (one import line, see codegen.RUNTIME_NAMES). So
that runtime need not import this package, the helpers join runtime's
namespace here, when the rules load (adjointc.rules imports this package, and
every adjointc entry point imports adjointc.rules before code is generated).
Each module's `__all__` says which of its names join: its public helpers.
"""
from __future__ import annotations

from ... import runtime
from . import batch, core, decomp, elementwise, linalg, reductions, shape, special, spectral
from .batch import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .decomp import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403

__all__ = sorted(set(batch.__all__) | set(core.__all__) | set(decomp.__all__) | set(elementwise.__all__)
                 | set(linalg.__all__) | set(reductions.__all__) | set(shape.__all__)
                 | set(special.__all__) | set(spectral.__all__))


def _join_runtime() -> None:
    """Make every helper importable as `adjointc.runtime.<name>`. A name runtime
    defines itself is never replaced (generated code relies on runtime's own)."""
    for name in __all__:
        if getattr(getattr(runtime, name, None), "__module__", None) == runtime.__name__:
            raise ImportError(f"adjointc.rules.helpers.{name} would shadow adjointc.runtime.{name}")
        setattr(runtime, name, globals()[name])


_join_runtime()
