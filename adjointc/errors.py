"""One hierarchy of errors. Each names the file, line and column of the
construct, shows the source line with a caret, and says what to do instead."""
from __future__ import annotations

from .ir import Loc


class AdjointcError(Exception):
    """Base class of every error adjointc raises on purpose."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str = ""):
        self.message, self.loc, self.hint = message, loc, hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.loc is not None and self.loc.line:
            parts.append(f"{self.loc.file}:{self.loc.line}:{self.loc.col + 1}: {self.message}")
            if self.loc.text:
                stripped = self.loc.text.rstrip()
                indent = len(stripped) - len(stripped.lstrip())
                parts.append(f"    {stripped.lstrip()}")
                parts.append("    " + " " * max(0, self.loc.col - indent) + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntax(AdjointcError):
    """A Python construct adjointc does not differentiate."""


class NoAdjointRule(AdjointcError):
    """A call to a function that has no derivative rule and whose source cannot be read."""


class AliasingError(AdjointcError):
    """An in-place update whose effect on other names adjointc cannot track."""


class TypeMismatch(AdjointcError):
    """A value whose type the generated adjoint cannot handle (e.g. changes across iterations)."""


class CheckFailed(AdjointcError):
    """`adjointc.check` found a gradient that disagrees with its reference."""


class StaleSource(AdjointcError):
    """A function's source file was edited after the function was defined (imported)."""


class CacheError(AdjointcError):
    """The disk cache could not be used (reported, then bypassed)."""


class InvalidArgument(AdjointcError, ValueError, TypeError):
    """grad/value_and_grad/vjp/check called with a `wrt` (or similar argument) that does
    not fit the function: a bool, a float, an empty tuple, a parameter that does not
    exist. Also a ValueError and a TypeError, as Python reports such misuse."""


class UnsupportedFunction(AdjointcError):
    """The object to differentiate is not a Python function adjointc can read: a
    gradient (higher order is not supported yet), a builtin or ufunc, a class."""


class AdjointcBug(AdjointcError):
    """A bug in adjointc, reported with the user's location instead of a traceback
    through adjointc's internals. Not a refusal: a test or fuzzer that counts refusals
    (AdjointcError) must count these as failures."""


class GeneratedCodeError(AdjointcBug):
    """The generated adjoint raised at run time although the function itself runs
    at those inputs: an adjointc bug. The original exception is the `__cause__`; the
    message names the user's line the failing generated line came from."""


class InternalError(AdjointcBug):
    """A Python exception from adjointc's own transform (a bug in adjointc), reported
    with the function being differentiated; the original exception is the `__cause__`."""


class AdjointcWarning(UserWarning):
    """A request adjointc carried out differently, with the same gradient: e.g. the numba
    backend asked for an adjoint it cannot compile, which then runs on NumPy
    (adjointc/backends/njit_runtime.py)."""
