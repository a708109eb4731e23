"""Compiled backends: printers over the same final adjoint IR as codegen.py (the NumPy
printer). `njit` prints an `@numba.njit` adjoint (tapes lowered to typed arrays);
`njit_runtime` holds the helpers that code calls and the call-time wrapper (the
on-disk cache of numba's machine code, the fallback to NumPy). numba is an optional
dependency: nothing here imports it until `backend="numba"` is asked for.
"""
