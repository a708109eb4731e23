"""A long 2-D simulation differentiated in bounded memory: binomial checkpointing.

    python examples/long_simulation.py                       # 128 x 128, 2,000 steps: both ways
    python examples/long_simulation.py --n 2000 --steps 2000 # store-all would need ~64 GB

The gradient of a misfit after an explicit 2-D heat simulation, with respect to the
initial field and the diffusivity. Store-all (plain `grad`) keeps one Laplacian per
step for the backward sweep: memory grows with the number of steps. With
`grad(..., checkpoints=20)` adjointc keeps at most 20 snapshots of the field and
recomputes the steps in between (Griewank and Walther's binomial schedule): the
gradient is the same, its memory does not grow with the steps, and it costs a few
extra forward sweeps. The default size runs both and measures their peaks; a size
whose store-all tape would not fit in memory runs the checkpointed gradient only.
"""
import argparse
import time
import tracemalloc

import numpy as np

from adjointc import grad


def heat2d(u0, kappa, steps):
    """Misfit of the field after `steps` explicit Euler steps (zero boundary values)."""
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1, 1:-1] = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]
        u = u + kappa * lap
    return np.sum((u - 0.1) ** 2)


def peak_of(g, *args):
    """(result, peak MB allocated during one call, seconds)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = g(*args)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, peak / 1e6, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=128, help="grid points per side")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--checkpoints", type=int, default=20)
    a = ap.parse_args()
    x = np.linspace(0.0, 1.0, a.n)
    u0 = np.exp(-40.0 * ((x[:, None] - 0.5) ** 2 + (x[None, :] - 0.4) ** 2))
    kappa = 0.2

    store_all_mb = a.steps * u0.nbytes / 1e6  # one Laplacian per step (what tape_bytes reports)
    print(f"{a.n} x {a.n} field ({u0.nbytes / 1e6:.2f} MB), {a.steps} steps: a store-all tape of "
          f"{store_all_mb:,.0f} MB")
    g = grad(heat2d, wrt=("u0", "kappa"), checkpoints=a.checkpoints)
    g(u0[:8, :8].copy(), kappa, 3)  # (compile once, outside the measurement)
    (du0, dkappa), mb, sec = peak_of(g, u0, kappa, a.steps)
    print(f"checkpoints={a.checkpoints}: peak {mb:,.1f} MB, {sec:.1f} s, dJ/dkappa = {dkappa:.6f}")

    if store_all_mb < 2000:  # (run the store-all gradient only where its tape fits easily)
        ref = grad(heat2d, wrt=("u0", "kappa"))
        ref(u0[:8, :8].copy(), kappa, 3)
        (ru0, rkappa), rmb, rsec = peak_of(ref, u0, kappa, a.steps)
        print(f"store-all:      peak {rmb:,.1f} MB, {rsec:.1f} s, dJ/dkappa = {rkappa:.6f}")
        print(f"the two gradients agree: relative error {abs(dkappa - rkappa) / abs(rkappa):.1e} (kappa), "
              f"{np.max(np.abs(du0 - ru0)) / np.max(np.abs(ru0)):.1e} (u0); memory {mb / rmb:.3f}x, "
              f"time {sec / rsec:.2f}x")
    else:
        print(f"store-all:      not run: its tape ({store_all_mb / 1e3:,.0f} GB) would not fit in memory")

    h = 1e-6  # a central difference along kappa, as a check
    fd = (heat2d(u0, kappa + h, a.steps) - heat2d(u0, kappa - h, a.steps)) / (2 * h)
    print(f"finite difference dJ/dkappa = {fd:.6f} (relative error {abs(fd - dkappa) / abs(fd):.1e})")


if __name__ == "__main__":
    main()
