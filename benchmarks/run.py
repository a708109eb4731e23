"""Cost of the gradient relative to the function, in one run on this machine.

    OPENBLAS_NUM_THREADS=1 python benchmarks/run.py [--quick] [--peers]

For each example: time of f, time of adjointc's gradient, their ratio (the
cheap-gradient principle says a small constant, ~2-4), the same for a
hand-written adjoint where we have one, the tape the forward sweep recorded
(the memory it holds and its data alone; a hand-written heat tape counted the same way),
and peers (autograd, JAX, PyTorch) when installed (`pip install -e .[bench]`).
Times are the best of several repeats, f, the gradient and the hand-written adjoint
timed in turn within each repeat, in CPU time of the process (interleaved: the
machine is shared and noisy, so ratios matter, not absolute times; the peers' table
keeps wall time). Results are printed as a Markdown table.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import numpy as np  # noqa: E402

import adjointc  # noqa: E402
sys.path.insert(0, os.path.dirname(__file__))
import handwritten  # noqa: E402
from peers import peer_times  # noqa: E402
import heat as heat_ex  # noqa: E402
import heat_bc as heat_bc_ex  # noqa: E402
import fit_oscillator  # noqa: E402
import lorenz  # noqa: E402
import rosen as rosen_ex  # noqa: E402
import rebind  # noqa: E402


def best(fn, repeat: int = 5, min_time: float = 0.2) -> float:
    fn()  # warm up (compiles / loads the adjoint)
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / repeat or n > 1e5:
            break
        n *= 2
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return min(times)


# CPU time of this process, not wall time: on a machine shared by several busy processes the
# wall clock counts the time spent waiting for a core; the interleaved rows are timed with it.
_clock = time.process_time


def interleaved(fns, repeat: int = 7, min_time: float = 0.2) -> list[float | None]:
    """The best time per call of each fn (None entries stay None), timed in turn."""
    live = [f for f in fns if f is not None]
    for f in live:
        f()  # warm up (compiles / loads the adjoint)
    ns = []
    for f in live:
        n = 1
        while True:
            t0 = _clock()
            for _ in range(n):
                f()
            if _clock() - t0 >= min_time / repeat or n > 1e5:
                break
            n *= 2
        ns.append(n)
    best = [float("inf")] * len(live)
    for _ in range(repeat):
        for i, (f, n) in enumerate(zip(live, ns)):
            t0 = _clock()
            for _ in range(n):
                f()
            best[i] = min(best[i], (_clock() - t0) / n)
    it = iter(best)
    return [None if f is None else next(it) for f in fns]


def mlp_loss(w1, w2, x, y):
    """A one-hidden-layer network's mean squared error."""
    h = np.tanh(x @ w1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def soft_pairs(x):
    """A pairwise potential over N points (soft core: smooth at r = 0), vectorised."""
    d = x[:, None, :] - x[None, :, :]
    r2 = np.sum(d * d, axis=-1) + 1.0
    return 0.5 * np.sum(1.0 / r2)


def row(name, f, g, h, tape):
    """(name, t_f, t_gradient, t_hand-written or None, the tape as printed), the three interleaved."""
    tf, tg, th = interleaved([f, g, h])
    return name, tf, tg, th, _kib(tape["total"], tape.data["total"])


def _kib(held: int, data: int) -> str:
    return f"{held / 1024:.1f} KiB ({data / 1024:.1f} KiB data)"


def tape_of(recorded) -> str:
    """A hand-written adjoint's tape counted as adjointc's tape_bytes counts its own: the memory
    it holds (objects, list slots and data: runtime.held_bytes) and the data alone (nbytes)."""
    from adjointc import runtime
    return _kib(runtime.held_bytes(recorded), runtime.nbytes(recorded))


def main() -> None:
    quick = "--quick" in sys.argv
    with_peers = "--peers" in sys.argv
    rng = np.random.default_rng(0)
    rows = []

    # heat equation: 64 points, 200 steps
    x = np.linspace(0, 1, 64)
    u0, kappa = np.exp(-100 * (x - 0.5) ** 2), 0.2
    g = heat_ex.heat
    hw_tape = tape_of(handwritten.heat_forward(u0, kappa, 200)[1])
    rows.append(row(f"heat 1-D, 64 pts x 200 steps (hand-written tape {hw_tape})", lambda: g.primal(u0, kappa),
                    lambda: g(u0, kappa), lambda: handwritten.heat_adjoint(u0, kappa, 200), g.tape_bytes(u0, kappa)))

    # the same stencil in the rebinding form: u = u + kappa * lap (the tape holds one lap per step)
    gr_heat = adjointc.grad(rebind.heat_rebind, wrt=(0, 1))
    hw_tape = tape_of(handwritten.heat_rebind_forward(u0, kappa)[1])
    rows.append(row(f"heat 1-D rebinding `u = u + kappa * lap` (hand-written tape {hw_tape})",
                    lambda: rebind.heat_rebind(u0, kappa), lambda: gr_heat(u0, kappa),
                    lambda: handwritten.heat_rebind_adjoint(u0, kappa), gr_heat.tape_bytes(u0, kappa)))

    # the same written the legacy way: in-place helpers (inlined) and a looping smoother (called)
    ub0 = np.sin(np.pi * x)
    gb = heat_bc_ex.heat_bc
    rows.append(row("heat 1-D with in-place helpers, 64 pts x 200 steps",
                    lambda: gb.primal(ub0, 0.2, 0.5, 3.0), lambda: gb(ub0, 0.2, 0.5, 3.0),
                    lambda: handwritten.heat_bc_adjoint(ub0, 0.2, 0.5, 3.0), gb.tape_bytes(ub0, 0.2, 0.5, 3.0)))

    # Rosenbrock as a scalar loop, n = 1000
    xr = rng.standard_normal(200 if quick else 1000)
    gr = adjointc.grad(rosen_ex.rosen)
    rows.append(row(f"rosenbrock loop, n={xr.size}", lambda: rosen_ex.rosen(xr), lambda: gr(xr),
                    lambda: handwritten.rosen_adjoint(xr), gr.tape_bytes(xr)))

    # Lorenz-63 RK4, 500 steps, gradient of the sum of the final state
    s0, p = np.array([1.0, 1.0, 1.0]), np.array([10.0, 28.0, 8.0 / 3.0])
    gl = adjointc.grad(lorenz.final_sum, wrt=("state0", "params"))
    rows.append(row("lorenz-63 RK4, 500 steps", lambda: lorenz.final_sum(s0, p), lambda: gl(s0, p),
                    lambda: handwritten.lorenz_final_sum_adjoint(s0, p), gl.tape_bytes(s0, p)))

    # damped oscillator misfit, 400 steps
    data = fit_oscillator.simulate(np.array([4.0, 0.3]))
    go = adjointc.grad(fit_oscillator.misfit)
    params = np.array([2.0, 1.0])
    rows.append(row("oscillator misfit, 400 steps", lambda: fit_oscillator.misfit(params, data),
                    lambda: go(params, data), lambda: handwritten.oscillator_misfit_adjoint(params, data),
                    go.tape_bytes(params, data)))

    # an MLP loss wrt both weight matrices
    w1, w2 = rng.standard_normal((20, 32)) / 4, rng.standard_normal(32) / 4
    xm, ym = rng.standard_normal((64, 20)), rng.standard_normal(64)
    gm = adjointc.grad(mlp_loss, wrt=(0, 1))
    rows.append(row("MLP loss wrt (W1, W2), 20x32, batch 64", lambda: mlp_loss(w1, w2, xm, ym),
                    lambda: gm(w1, w2, xm, ym), lambda: handwritten.mlp_loss_adjoint(w1, w2, xm, ym),
                    gm.tape_bytes(w1, w2, xm, ym)))

    # a vectorised pairwise potential, 100 points in 3-D
    xp = rng.standard_normal((100, 3))
    gp = adjointc.grad(soft_pairs)
    rows.append(row("pairwise potential, 100 points", lambda: soft_pairs(xp), lambda: gp(xp),
                    lambda: handwritten.soft_pairs_adjoint(xp), gp.tape_bytes(xp)))

    print("| example | f | gradient | gradient / f | hand-written / f | adjointc / hand-written | tape |")
    print("|---|---|---|---|---|---|---|")
    for name, tf, tg, th, tape in rows:
        hw = f"{th / tf:.2f}" if th else "-"
        rel = f"{tg / th:.2f}" if th else "-"
        print(f"| {name} | {tf * 1e3:.3f} ms | {tg * 1e3:.3f} ms | {tg / tf:.2f} | {hw} | {rel} | {tape} |")
    if with_peers:
        print_peers(rng)


def print_peers(rng) -> None:
    """Peers on smaller problems (their Python-loop overhead and JAX's compile time
    of unrolled loops make the full sizes take minutes)."""
    x = np.linspace(0, 1, 64)
    u0 = np.exp(-100 * (x - 0.5) ** 2)
    xr = rng.standard_normal(100)
    s0, p = np.array([1.0, 1.0, 1.0]), np.array([10.0, 28.0, 8.0 / 3.0])
    cases = [("heat 1-D, 64 pts x 200 steps", heat_ex.heat.primal, (u0, 0.2, 200), heat_ex.heat, 0),
             ("rosenbrock loop, n=100", rosen_ex.rosen, (xr,), adjointc.grad(rosen_ex.rosen), 0),
             ("lorenz-63 RK4, 50 steps", lorenz.final_sum_short, (s0, p),
              adjointc.grad(lorenz.final_sum_short), 0)]
    table = []
    for name, f, args, g, argnum in cases:
        table.append((name, best(lambda: f(*args)), best(lambda: g(*args)), peer_times(f, args, argnum)))
    names = ["autograd", "jax", "jax.jit"]
    print("\n| example | f | adjointc gradient | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for name, tf, tg, peers in table:
        print(f"| {name} | {tf * 1e3:.3f} ms | {tg * 1e3:.3f} ms ({tg / tf:.1f}x f) | "
              + " | ".join(peers.get(n, "not installed") for n in names) + " |")


if __name__ == "__main__":
    main()
