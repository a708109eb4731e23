"""Complex intermediates: which rules hold for complex values, and the rules of the
operations that are not holomorphic (real and imaginary parts, conjugate, abs, angle).

The convention is JAX's. A complex value `z = x + 1j * y` gets the cotangent

    z_bar = dL/dx - 1j * dL/dy

for the real loss L (the conjugate of the "gradient" PyTorch and autograd keep). With
it the VJP of a holomorphic `w = f(z)` is `z_bar = w_bar * f'(z)`, no conjugate: the
templates written for real values (`g * np.cos(x)`, `g * y`, `matmul_lhs`, the FFTs'
transposes) hold for complex values as they are. The operations that are not
holomorphic say so (`z.real`: `g`; `z.imag`: `1j * -g`; `np.conj`: `np.conj(g)`;
`abs(z)`: `g * np.conj(csign(z))`...). A real value receiving a complex contribution
(the real input `x` of `z = 1j * x`) takes its real part: the reverse pass wraps the
contribution in `np.real(...)` (passes/adjoints.py, `acc`), so the gradient with
respect to a real input is real and equals finite differences. In forward mode the
tangent of a complex value is complex (`z_dot = dx + 1j * dy`) and that of a real
value real (`abs(z)`'s is `np.real(np.conj(csign(z)) * z_dot)`).

Both conventions pair a tangent `dz` and a cotangent `z_bar` by `Re(sum(z_bar * dz))`
(no conjugate): rules/testing.vdot, the inner-product tests.

A rule's `on_complex` field says what happens when a call has a complex argument or
result computed from a differentiated input: "same" (the templates hold: holomorphic
or linear functions), a Rule (its complex variant, used instead), None (refused,
located: its templates would give a wrong gradient, e.g. `np.maximum` or a
decomposition). `complex_rule` is the one place both passes ask.
"""
from __future__ import annotations

import builtins
from typing import Callable

import numpy as np

from .. import types as T
from ..errors import TypeMismatch
from ..ir import Call, Expr, Loc
from . import REGISTRY, Rule, defjvp, defvjp
from .operators import real_result

# Holomorphic or linear: the real templates are right for complex values (see above).
SAME = (
    "add", "sub", "mul", "truediv", "neg", "pos", "pow", "matmul", "getitem", "tuple", "list", "sum",
    "attr:T", "attr:real", "method:copy",
    "np.add", "np.subtract", "np.multiply", "np.divide", "np.power", "np.negative", "np.positive",
    "np.sin", "np.cos", "np.tan", "np.sinh", "np.cosh", "np.tanh", "np.exp", "np.expm1", "np.log",
    "np.log1p", "np.sqrt", "np.square", "np.reciprocal", "np.real", "np.conjugate",
    "np.sum", "np.mean", "np.cumsum", "np.dot", "np.matmul", "np.outer", "np.tensordot", "np.einsum",
    "np.transpose", "np.reshape", "np.ravel", "np.concatenate", "np.stack", "np.hstack", "np.vstack",
    "np.roll", "np.flip", "np.fliplr", "np.flipud", "np.squeeze", "np.expand_dims", "np.copy",
    "np.array", "np.asarray", "np.where", "np.diff", "np.take", "np.tile", "np.repeat", "np.swapaxes",
    "np.moveaxis", "np.broadcast_to", "np.trace", "np.diagonal", "np.atleast_1d", "np.atleast_2d",
    "np.fft.fft", "np.fft.ifft", "np.fft.rfft", "np.fft.irfft", "np.fft.fft2", "np.fft.ifft2", "np.fft.rfft2",
    "np.fft.irfft2", "np.fft.fftn", "np.fft.ifftn", "np.fft.rfftn", "np.fft.irfftn", "np.fft.fftshift",
    "np.fft.ifftshift",
    # the helpers generated code calls (second order: the adjoint read again)
    "unbroadcast", "unreduce", "unsum", "resum", "rebroadcast", "reduce_like", "reshape_like", "piece",
    "unpiece", "as_adjoint", "seed_adjoint", "add_adjoint", "copy_adjoint", "written_part", "list_adjoint",
    "div0", "fdiv", "pow_dx", "pow_dy", "matmul_lhs", "matmul_rhs", "dot_lhs", "dot_rhs", "outer_lhs",
    "outer_rhs", "tensordot_lhs", "tensordot_rhs", "einsum_vjp", "einsum_args_vjp", "unreshape",
    "untranspose", "retranspose", "unconcatenate", "reconcatenate", "unstack", "restack", "unroll",
    "unflip", "uncumsum", "recumsum", "unmoveaxis", "unswapaxes", "reswapaxes", "untake", "untile",
    "unrepeat", "undiff", "untrace", "undiagonal", "unhstack", "rehstack", "unvstack", "revstack",
    "snapshot", "add_at", "fft_vjp", "ifft_vjp", "fftn_vjp", "ifftn_vjp", "rfft_vjp", "rfftn_vjp", "irfft_vjp",
    "irfftn_vjp", "fft_fit", "ifft_fit", "fftn_fit", "ifftn_fit", "fftshift_of", "ifftshift_of", "csign", "dangle")


# Ops whose value is real for complex arguments too: the type pass does not make their
# result complex (`complexified`), the reverse pass takes no real part of a contribution
# they compute.
REAL_VALUED = frozenset({"np.real", "np.imag", "attr:real", "attr:imag", "abs", "np.absolute", "np.angle",
                         "np.fft.irfft", "np.fft.irfft2", "np.fft.irfftn", "rfft_vjp", "rfftn_vjp",
                         "float", "np.linalg.norm"})


def complex_rule(rule: Rule | None) -> Rule | None:
    """The rule to apply to a call with complex values (None: refuse it)."""
    if rule is None:
        return None
    how = rule.on_complex
    if how == "same":
        return rule
    return how if isinstance(how, Rule) else None


def mark(ops: tuple[str, ...] | list[str]) -> None:
    """Mark the registered rules among `ops` as holding for complex values."""
    for op in ops:
        r = REGISTRY.get(op)
        if r is not None and r.on_complex is None:
            r.on_complex = "same"


def mark_helpers() -> None:
    """(Rules registered after this module: the reduction helpers'.)"""
    mark(SAME)


def _variant(rule: Rule, vjp: dict[str, str], jvp: dict[str, str]) -> None:
    """Give `rule` a complex variant with these templates (same signature and result)."""
    v = Rule(rule.op, rule.params, dict(rule.defaults), rule.varargs, templates=dict(vjp),
             result=rule.result, keyword_only=rule.keyword_only, jvp=dict(jvp))
    rule.on_complex = v


def _imag_result(types, bound) -> T.T:
    return real_result(types, bound)


# -------------------------------------------- the parts, the conjugate and the angle
defvjp(np.imag, "val", val="1j * -g", result=_imag_result)
defjvp(np.imag, "linear")
defvjp("attr:imag", "x", x="1j * -g", result=_imag_result)
defjvp("attr:imag", "linear")
for _name in ("conjugate", "conj"):
    defvjp(f"method:{_name}", "x", x="np.conj(g)", result="same")
    defjvp(f"method:{_name}", "linear")
# np.angle of a real value is 0 or pi: no derivative (dangle gives 0 for real x).
defvjp(np.angle, "z, deg=False", z="g * dangle(z, deg)", result=real_result)
defjvp(np.angle, z="np.real(dangle(z, deg) * d)")
defvjp(builtins.complex, "real=0.0, imag=0.0", name="complex", real="g", imag="1j * g",
       result=lambda types, bound: T.T("complex"))
defjvp("complex", real="d + 0j", imag="1j * d")

# abs: |z|' pairs with conj(z) / |z| (0 at 0, as abs'(0) = 0 for real values).
for _op in ("abs", "np.absolute"):
    _variant(REGISTRY[_op], {"x": "g * np.conj(csign(x))"}, {"x": "np.real(np.conj(csign(x)) * d)"})

mark(SAME + ("np.imag", "attr:imag", "method:conjugate", "method:conj", "np.angle", "complex"))



def involves_complex(val: Call, type_of: Callable[[Expr], T.T], result: T.T) -> bool:
    """Does the call `val` (whose result has type `result`) read or make a complex value?"""
    return T.is_complex(result) or any(T.is_complex(type_of(a)) for a in val.args) or any(
        T.is_complex(type_of(v)) for _, v in val.kwargs)


def may_be_complex(t: T.T) -> bool:
    """Might a value of type t be complex at run time (its dtype is not known real)?"""
    if t.kind in ("array", "unknown"):
        return t.dtype in (None, "c")
    return t.kind in ("complex", "object")


def rule_for(rule: Rule, val: Call, type_of: Callable[[Expr], T.T], result: T.T, loc: Loc) -> tuple[Rule, bool]:
    """The rule to apply to `val`, a call with a differentiated argument, and whether it
    involves a complex value (the reverse pass takes real parts for real inputs then).
    Known complex: the rule, its complex variant, or a located refusal. An argument
    that may be complex (an array of unknown dtype) takes the variant too: it is right
    for real values as well, where the real template would be wrong for complex ones."""
    if involves_complex(val, type_of, result):
        r = complex_rule(rule)
        if r is None:
            raise TypeMismatch(f"{rule.op} of a complex value is not differentiated: {T.complex_message(val)}",
                               loc, T.COMPLEX_HINT)
        return r, True
    if isinstance(rule.on_complex, Rule) and any(may_be_complex(type_of(a)) for a in val.args):
        return rule.on_complex, False
    return rule, False


# real_like(e, x): a contribution to a real value's adjoint is its real part, decided when it
# runs for a value the types could not read (passes/adjoints.py). Real part's adjoint: g.
from .. import runtime as _runtime  # noqa: E402
defvjp(_runtime.real_like, "e, x", name="real_like", e="g", result=lambda types, bound: types["x"])
defjvp("real_like", e="real_like(d, x)")
