"""The numba backend against its bar, in one run on this machine (issue 14).

    OPENBLAS_NUM_THREADS=1 python benchmarks/numba_backend.py [--quick] [--peer-timeout S]
    (or as part of: python benchmarks/run.py --numba)

For Lorenz-63 RK4 (2,000 steps, the right-hand side a helper) and the Rosenbrock loop
(N = 10,000): f in Python, adjointc's NumPy backend, adjointc's numba backend
(`grad(f, backend="numba")`), a careful hand-written adjoint compiled with numba
(benchmarks/numba_handwritten.py), and JAX jit when installed, in two forms: the user's
Python loop rebound to jax.numpy (jit unrolls it: its compile is capped at --peer-timeout,
90 s) and the idiomatic ones (benchmarks/peer_versions.py: lax.scan / lax.fori_loop, and
the vectorised Rosenbrock), each in a child process with its gradient checked first
(benchmarks/peers.py). The numba gradient, its compiled adjoint alone and the
hand-written one are timed in turn (CPU time); the others are the best of several repeats; "first call" is the first gradient call in a fresh
process with an empty cache (adjointc's transform + numba's compile), "cached" the
same in a second process that finds both on disk (imports excluded from both, and
printed apart; the best of three such pairs). Every gradient is checked against the
hand-written one first. "numba adjoint alone" calls the compiled `f_grad` directly: the
difference to "adjointc numba" is grad's Python call path (binding, checks, result types).
Targets: numba backend <= 2x the numba hand-written adjoint; first call < 3 s (goal 2 s).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import adjointc  # noqa: E402
import numba_handwritten as hw  # noqa: E402
import peers  # noqa: E402
from run import best, interleaved  # noqa: E402

LORENZ_ARGS = (1.0, 1.0, 20.0, 10.0, 1e-3, 2000)
LORENZ_WRT = (0, 1, 2, 3)
ROSEN_N = 10_000

# A fresh process: import, then time the first gradient call (transform + compile, or
# both loaded from the caches). Prints a JSON line.
_FIRST_CALL = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
import numpy as np, adjointc, numba, numba_handwritten as hw
t1 = time.perf_counter()
if {problem!r} == "lorenz":
    g = adjointc.grad(hw.lorenz, wrt={wrt!r}, backend="numba"); args = {args!r}
else:
    g = adjointc.grad(hw.rosen, backend="numba"); args = (np.linspace(-1.0, 1.5, {n}),)
g.compiled_for(*args)
t2 = time.perf_counter()
g(*args)
t3 = time.perf_counter()
print(json.dumps({{"imports": t1 - t0, "first": t3 - t1, "transform": t2 - t1}}))
"""


def first_calls(problem: str, repeat: int = 3) -> tuple[dict, dict]:
    """The numba backend's first call in a fresh process with an empty cache, then in a
    second one that finds both caches filled: the best of `repeat` such pairs (a shared
    machine: the best is the least disturbed), each {"first", "transform", "imports"}."""
    code = _FIRST_CALL.format(here=HERE, problem=problem, wrt=LORENZ_WRT, args=LORENZ_ARGS, n=ROSEN_N)
    cold, warm = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="adjc-numba-bench-") as cache_dir:
            env = dict(os.environ, ADJOINTC_CACHE_DIR=cache_dir)
            for out in (cold, warm):
                r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
                out.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return min(cold, key=lambda d: d["first"]), min(warm, key=lambda d: d["first"])


def jax_cells(key: str, f, args: tuple, argnums: tuple, ref: np.ndarray, g_nb, timeout: float) -> list[str]:
    """JAX jit on the problem: the user's Python loop (rebound to jax.numpy, unrolled by
    jit), then each idiomatic form (peer_versions.jax_idiomatic: lax.scan / fori_loop,
    vectorised); each cell the steady state, its ratio to adjointc's numba gradient timed
    in the same process, and the first call (trace + compile + one run)."""
    try:
        from peer_versions import jax_idiomatic
        forms = {label: fn for (k, label), fn in jax_idiomatic().items() if k == key}
    except ImportError:
        return ["not installed"] * 3
    problem = peers.Problem(key, key, f, args, argnums, ref, ours=[lambda: g_nb(*args)], idiomatic=forms)
    cells = []
    for form in [None, *forms]:
        r = peers.run_peer(problem, "jax.jit", timeout, form=form)
        c = peers.cell(r, jit=True)
        if r["status"] == "times":
            c += f", first call {peers.first_cell(r)}"
        cells.append(c if form is None else f"{form}: {c}")
    loops = [c for c in cells[1:] if not c.startswith("vectorised")]
    vec = [c for c in cells[1:] if c.startswith("vectorised")]
    return [cells[0], "; ".join(loops) or "-", "; ".join(vec) or "-"]


def main(quick: bool = False, timeout: float = 90.0) -> None:
    x = np.linspace(-1.0, 1.5, ROSEN_N)
    problems = [
        ("lorenz-63 RK4, helper rhs, 2,000 steps", "lorenz", "lorenz2000", hw.lorenz, LORENZ_WRT, LORENZ_ARGS,
         lambda: hw.lorenz_adjoint(*LORENZ_ARGS)),
        ("rosenbrock loop, N = 10,000", "rosen", "rosen10000", hw.rosen, 0, (x,), lambda: hw.rosen_adjoint(x)),
    ]
    rows = []
    for title, key, pkey, f, wrt, args, hand in problems:
        g_np = adjointc.grad(f, wrt=wrt)
        g_nb = adjointc.grad(f, wrt=wrt, backend="numba")
        want = hand()[1]
        for got in (g_np(*args), g_nb(*args)):  # (the same gradient, to rounding)
            np.testing.assert_allclose(np.hstack(got), np.hstack(want), rtol=1e-9)
        t_f = best(lambda: f(*args))
        t_np = best(lambda: g_np(*args))
        t_nb, t_nb_raw, t_hw = interleaved([lambda: g_nb(*args), lambda: g_nb._last.fn.dispatcher(*args, 1.0), hand])
        nan = {"first": float("nan"), "transform": float("nan"), "imports": float("nan")}
        cold, warm = first_calls(key) if not quick else (nan, nan)
        argnums = wrt if isinstance(wrt, tuple) else (wrt,)
        jx = jax_cells(pkey, f, args, argnums, peers.flat(want), g_nb, timeout) if not quick else ["-"] * 3
        rows.append((title, t_f, t_np, t_nb, t_nb_raw, t_hw, cold, warm, jx))
    print("Steady state in CPU time, adjointc numba, its compiled adjoint alone and the hand-written numba adjoint "
          "timed in turn; JAX's cells: steady state (ratio to adjointc numba in the same process), first call "
          "(wall: trace + compile + one run).\n")
    print("| problem | f (Python) | adjointc NumPy | adjointc numba | numba adjoint alone | hand-written numba "
          "| numba / hand-written | first call | cached first call (2nd process) | JAX jit, the Python loop "
          "| JAX jit, lax loop | JAX jit, vectorised |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (title, t_f, t_np, t_nb, t_raw, t_hw, cold, warm, jx) in rows:
        print(f"| {title} | {t_f * 1e3:.3f} ms | {t_np * 1e3:.3f} ms | {t_nb * 1e3:.4f} ms | {t_raw * 1e3:.4f} ms "
              f"| {t_hw * 1e3:.4f} ms | {t_nb / t_hw:.2f} ({t_raw / t_hw:.2f} alone) "
              f"| {cold['first']:.2f} s (transform {cold['transform']:.2f} s) "
              f"| {warm['first']:.2f} s (+{warm['imports']:.2f} s imports) | {' | '.join(jx)} |")
    print(f"\n(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    t = "--peer-timeout"
    main(quick="--quick" in sys.argv, timeout=float(sys.argv[sys.argv.index(t) + 1]) if t in sys.argv else 90.0)
