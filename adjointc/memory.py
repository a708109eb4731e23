"""Opt-in: keep freed memory in the process for the next call (issue 14).

A gradient call allocates its tape (one or more arrays per loop trip), its adjoints
and its temporaries, and frees them all when it returns. With glibc's default
policy an array above the mmap threshold (128 KiB at start, raised up to 32 MiB as
such arrays are freed) is mapped from the kernel and unmapped when freed, and
freed memory at the top of the heap beyond the trim threshold (twice the mmap
threshold) is given back. The next call then faults every page in again, zeroed
by the kernel: benchmarks/allocation.py measures 10,450 minor faults per call of
a 1-D reaction-diffusion gradient (10^5 points, 20 steps) and 2.3-3x the CPU time
of the same gradient without them (35-50 ms -> 16-17 ms per call, two runs; the
results dropped or kept make no difference).

This cannot be fixed inside one call (the tape is live at once by design) nor,
without rewriting every NumPy expression into `out=` form, by reusing buffers
across calls. What fixes it is telling the allocator to keep freed memory:

    import adjointc
    adjointc.retain_freed_memory()          # e.g. once, before an optimizer loop

sets glibc's M_TRIM_THRESHOLD to `limit` (freed memory up to that much stays in
the process) and M_MMAP_THRESHOLD to min(limit, 32 MiB) (arrays up to that size
come from the heap, whose freed blocks are reused, instead of fresh mappings).

It is a setting of the whole process (every thread, every library's allocations,
for the rest of its life: glibc has no way back to its adaptive default), which
is why adjointc never makes it by itself: the price is a resident size that stays
at its high-water mark, up to `limit` above what is live. Arrays above 32 MiB are
still mapped afresh (glibc's ceiling for M_MMAP_THRESHOLD on 64-bit).

Without changing code, the same from the shell, for any program:

    GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432 python run.py

On a C library other than glibc (macOS, musl) it changes nothing and returns False.
"""
from __future__ import annotations

import ctypes
from typing import Any

from .errors import InvalidArgument

# glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 2**20  # (HEAP_MAX_SIZE / 2 on 64-bit: mallopt refuses more)
_INT_MAX = 2**31 - 1  # (mallopt takes a C int)


def _glibc() -> Any:
    """The process's C library if it is glibc, else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # (glibc's own symbol: musl also has a mallopt, which does nothing)
        return libc
    except (OSError, AttributeError):
        return None


def retain_freed_memory(limit: Any = "1GiB") -> bool:
    """Keep up to `limit` (bytes, or e.g. "500MB", "1GiB"; at most 2 GiB) of freed memory
    in the process instead of returning it to the kernel, so that repeated gradient calls
    reuse their pages instead of faulting fresh ones. Process-wide and permanent (see
    this module's docstring); True if the allocator took the setting, False on a C
    library other than glibc (nothing changed)."""
    from .passes.checkpoint import parse_memory  # (the one reader of "200MB"-style sizes)
    try:
        nbytes = parse_memory(limit)
    except ValueError:
        nbytes = 0
    if nbytes <= 0 or isinstance(limit, bool):
        raise InvalidArgument(f"retain_freed_memory({limit!r}): not a size",
                              hint="give bytes (an int > 0) or e.g. '500MB', '1GiB'")
    if nbytes > 2 * 2**30:
        raise InvalidArgument(f"retain_freed_memory({limit!r}): glibc keeps at most 2 GiB this way",
                              hint="give a limit of at most '2GiB'")
    libc = _glibc()
    if libc is None:
        return False
    trim = min(nbytes, _INT_MAX)
    ok_trim = libc.mallopt(ctypes.c_int(M_TRIM_THRESHOLD), ctypes.c_int(trim))
    ok_mmap = libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(min(nbytes, MMAP_THRESHOLD_MAX)))
    return bool(ok_trim) and bool(ok_mmap)
