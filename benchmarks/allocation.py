"""Allocation cost of repeated gradient calls (issue 14).

    OPENBLAS_NUM_THREADS=1 python benchmarks/allocation.py [--quick]

An optimizer loop calls the gradient again and again and drops each result; a
driver collecting gradients keeps them. Either way every call of a generated
adjoint allocates its tape, its adjoints and its temporaries afresh; an array
above glibc's mmap threshold is mapped from the OS on allocation and unmapped on
free, so each of its pages is faulted in (zeroed by the kernel) on first touch,
every call. This measures, per call, in one process, interleaved (each repeat
times every variant in turn, the best repeat of each, CPU time of the process):

    f            the primal
    kept         the gradient, each result appended to a list (the list cleared
                 between repeats)
    dropped      the gradient, each result dropped at once
    hand         a hand-written adjoint that keeps its scratch (tape, adjoint
                 buffers) across calls and writes into it in place (`out=`); its
                 returned gradients are fresh arrays

and the minor page faults per call (resource.getrusage ru_minflt) of each. The
ratios are what matter: the machine is shared and noisy.

The table is printed twice in one process: with glibc's default policy, then
after `adjointc.retain_freed_memory()` (adjointc/memory.py: opt-in, process-wide),
which keeps freed memory in the process instead of returning it to the kernel.

The problems: explicit time stepping of a 1-D reaction-diffusion field written
the rebinding way (`u = u + dt * (...)`, a fresh array per step: 10^5 and 10^6
points), a 2-D heat stencil updated in place (`u[1:-1, 1:-1] = ...`, 10^6
points), and a loss over a large array without a loop (10^6 points).
"""
from __future__ import annotations

import os
import resource
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjointc  # noqa: E402

_clock = time.process_time  # (CPU time: a shared machine's waiting for a core is not counted)


# ---- the problems ----------------------------------------------------------------------

def reaction_diffusion(u0, kappa, steps=20):
    """Explicit Euler for u_t = kappa u_xx - u^3, in the rebinding form."""
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + 0.1 * (kappa * lap - u * u * u)
    return np.sum(u * u)


def heat_2d(u0, kappa, steps=10):
    """Explicit Euler for the 2-D heat equation, the interior updated in place."""
    u = u0.copy()
    for _ in range(steps):
        lap = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]
        u[1:-1, 1:-1] = u[1:-1, 1:-1] + kappa * lap
    return np.sum(u * u)


def large_loss(x, y):
    """A smooth misfit over a large array, no loop."""
    return np.mean((np.tanh(x) - y) ** 2) + 0.01 * np.sum(x * x)


# ---- hand-written adjoints that keep their scratch across calls -----------------------------

class ReactionDiffusionAdjoint:
    """The adjoint of reaction_diffusion, its tape and buffers kept across calls."""

    def __init__(self, n, steps):
        self.steps = steps
        self.us = np.empty((steps + 1, n))  # the states: the tape (lap is recomputed)
        self.lap = np.empty(n)
        self.ub = np.empty(n)
        self.t = np.empty(n)
        self.g = np.empty(n - 2)

    def laplacian(self, u):
        lap = self.lap
        lap[0] = lap[-1] = 0.0
        np.multiply(u[1:-1], -2.0, out=lap[1:-1])
        lap[1:-1] += u[2:]
        lap[1:-1] += u[:-2]
        return lap

    def __call__(self, u0, kappa):
        us, ub, t, g = self.us, self.ub, self.t, self.g
        us[0] = u0
        for k in range(self.steps):
            u, nxt = us[k], us[k + 1]
            lap = self.laplacian(u)
            np.multiply(u, u, out=t)
            t *= u
            np.multiply(lap, kappa, out=nxt)
            nxt -= t
            nxt *= 0.1
            nxt += u
        np.multiply(us[-1], 2.0, out=ub)
        kb = 0.0
        for k in reversed(range(self.steps)):
            u = us[k]
            kb += 0.1 * (ub @ self.laplacian(u))
            # ub <- ub * (1 - 0.3 u^2) + Laplacian^T (0.1 kappa ub)
            np.multiply(ub[1:-1], 0.1 * kappa, out=g)  # (the interior of lap's adjoint)
            np.multiply(u, u, out=t)
            t *= -0.3
            t += 1.0
            ub *= t
            ub[:-2] += g
            ub[1:-1] -= g
            ub[1:-1] -= g
            ub[2:] += g
        return ub.copy(), kb


class Heat2dAdjoint:
    """The adjoint of heat_2d (linear: its backward sweep needs no tape), buffers kept."""

    def __init__(self, shape, steps):
        self.steps = steps
        self.u = np.empty(shape)
        self.laps = np.empty((steps, shape[0] - 2, shape[1] - 2))  # the tape: kappa's adjoint reads them
        self.ub = np.empty(shape)
        self.g = np.empty((shape[0] - 2, shape[1] - 2))
        self.g4 = np.empty_like(self.g)

    def __call__(self, u0, kappa):
        u, laps, ub, g, g4 = self.u, self.laps, self.ub, self.g, self.g4
        u[...] = u0
        kb = 0.0
        for lap in laps:
            np.multiply(u[1:-1, 1:-1], -4.0, out=lap)
            lap += u[2:, 1:-1]
            lap += u[:-2, 1:-1]
            lap += u[1:-1, 2:]
            lap += u[1:-1, :-2]
            np.multiply(lap, kappa, out=g)
            u[1:-1, 1:-1] += g
        np.multiply(u, 2.0, out=ub)
        for lap in laps[::-1]:
            g[...] = ub[1:-1, 1:-1]
            kb += np.vdot(g, lap)
            g *= kappa
            np.multiply(g, 4.0, out=g4)
            ub[1:-1, 1:-1] -= g4
            ub[2:, 1:-1] += g
            ub[:-2, 1:-1] += g
            ub[1:-1, 2:] += g
            ub[1:-1, :-2] += g
        return ub.copy(), kb


class LargeLossAdjoint:
    """The adjoint of large_loss, its one scratch buffer kept."""

    def __init__(self, n):
        self.t = np.empty(n)
        self.d = np.empty(n)

    def __call__(self, x, y):
        t, d = self.t, self.d
        np.tanh(x, out=t)
        np.subtract(t, y, out=d)
        # d/dx mean((tanh x - y)^2) = 2 (tanh x - y)(1 - tanh^2 x) / n
        np.multiply(t, t, out=t)
        np.subtract(1.0, t, out=t)
        d *= t
        d *= 2.0 / x.size
        xb = 0.02 * x
        xb += d
        return xb


# ---- measurement --------------------------------------------------------------------------

def measure(variants, repeat, n):
    """For each (name, fn, keep): best CPU seconds per call and minor faults per call of
    that repeat, the variants timed in turn within each repeat."""
    for _, fn, _ in variants:
        fn()  # warm up (compiles / loads the adjoint)
    best = {name: (float("inf"), 0.0) for name, _, _ in variants}
    for _ in range(repeat):
        for name, fn, keep in variants:
            kept = []
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = _clock()
            for _ in range(n):
                r = fn()
                if keep:
                    kept.append(r)
            dt = (_clock() - t0) / n
            faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / n
            del r, kept
            if dt < best[name][0]:
                best[name] = (dt, faults)
    return best


def problems(quick):
    rng = np.random.default_rng(0)
    out = []
    for n in ((10 ** 5,) if quick else (10 ** 5, 10 ** 6)):
        x = np.linspace(0.0, 1.0, n)
        u0 = np.exp(-50 * (x - 0.5) ** 2)
        g = adjointc.grad(reaction_diffusion, wrt=(0, 1))
        h = ReactionDiffusionAdjoint(n, 20)
        out.append((f"1-D reaction-diffusion, rebinding, {n:.0e} pts x 20 steps", reaction_diffusion,
                    g, h, (u0, 0.2)))
    side = 316 if quick else 1000
    u2 = rng.random((side, side))
    out.append((f"2-D heat, in place, {side}x{side} x 10 steps", heat_2d, adjointc.grad(heat_2d, wrt=(0, 1)),
                Heat2dAdjoint(u2.shape, 10), (u2, 0.2)))
    m = 10 ** 5 if quick else 10 ** 6
    xl, yl = rng.standard_normal(m), rng.standard_normal(m)
    out.append((f"large-array loss, {m:.0e} pts", large_loss, adjointc.grad(large_loss), LargeLossAdjoint(m),
                (xl, yl)))
    return out


def check(g, h, args):
    """The hand-written adjoint agrees with adjointc's gradient (else the comparison is moot)."""
    a, b = g(*args), h(*args)
    a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    for p, q in zip(a, b):
        assert np.allclose(p, q, rtol=1e-9, atol=1e-12), "hand-written adjoint disagrees"


def table(quick, repeat, n) -> None:
    print("| problem | f | gradient, dropped | kept / f | dropped / f | hand / f | dropped / hand | faults per call: f, kept, "
          "dropped, hand |")
    print("|---|---|---|---|---|---|---|---|")
    for name, f, g, h, args in problems(quick):
        check(g, h, args)
        best = measure([("f", lambda: f(*args), False), ("kept", lambda: g(*args), True),
                        ("dropped", lambda: g(*args), False), ("hand", lambda: h(*args), False)], repeat, n)
        tf = best["f"][0]
        faults = ", ".join(f"{best[k][1]:.0f}" for k in ("f", "kept", "dropped", "hand"))
        print(f"| {name} | {tf * 1e3:.2f} ms | {best['dropped'][0] * 1e3:.2f} ms | {best['kept'][0] / tf:.2f} | {best['dropped'][0] / tf:.2f} | "
              f"{best['hand'][0] / tf:.2f} | {best['dropped'][0] / best['hand'][0]:.2f} | {faults} |", flush=True)


def main() -> None:
    quick = "--quick" in sys.argv
    repeat, n = (3, 2) if quick else (5, 3)
    print("glibc's default allocation policy:\n")
    table(quick, repeat, n)
    if not adjointc.retain_freed_memory():
        print("\n(not glibc: retain_freed_memory changes nothing here)")
        return
    print("\nafter adjointc.retain_freed_memory() (freed memory kept in the process, up to 1 GiB):\n")
    table(quick, repeat, n)


if __name__ == "__main__":
    main()
