"""Cost of the gradient relative to the function, and beside the peers, in one run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/run.py [--quick] [--peers] [--numba] [--peer-timeout S]

For each example: time of f, time of adjointc's gradient, their ratio (the
cheap-gradient principle says a small constant, ~2-4), the same for a
hand-written adjoint, and the tape the forward sweep recorded (the memory it holds and
its data alone; a hand-written heat tape counted the same way). f, the gradient and
the hand-written adjoint are timed in turn within each repeat (interleaved: the
machine is shared and noisy, so ratios matter, not absolute times), in CPU time of
the process.

--peers: the same problems under adjointc's numba backend and the peers installed
(`pip install -e .[bench,numba]`: autograd, JAX eager and jit, PyTorch eager), each
peer in a child process with a time limit (--peer-timeout, 90 s), its gradient checked
against adjointc's first (benchmarks/peers.py).
--numba: the numba backend's targets (benchmarks/numba_backend.py), with JAX jit of
the user's loop and of the idiomatic forms.
Every table is printed as Markdown, ready for benchmarks/README.md.
"""
from __future__ import annotations

import os
import re
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import numpy as np  # noqa: E402

import adjointc  # noqa: E402
sys.path.insert(0, os.path.dirname(__file__))
import handwritten  # noqa: E402
import peers  # noqa: E402
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


def _kib(held: int, data: int) -> str:
    return f"{held / 1024:.1f} KiB ({data / 1024:.1f} KiB data)"


def tape_of(recorded) -> str:
    """A hand-written adjoint's tape counted as adjointc's tape_bytes counts its own: the memory
    it holds (objects, list slots and data: runtime.held_bytes) and the data alone (nbytes)."""
    from adjointc import runtime
    return _kib(runtime.held_bytes(recorded), runtime.nbytes(recorded))


def _tape(g, args) -> str:
    tb = g.tape_bytes(*args)
    return _kib(tb["total"], tb.data["total"])


def problems(quick: bool = False) -> list[dict]:
    """The benchmark problems: each with f, adjointc's gradient, the hand-written adjoint,
    the arguments, the positions differentiated, and the raw function (for the numba
    backend and the peers)."""
    rng = np.random.default_rng(0)
    out = []

    def add(key, title, f, g, hand, args, argnums, tape=True):
        out.append({"key": key, "title": title, "f": f, "g": g, "hand": hand, "args": args,
                    "argnums": argnums, "wrt": argnums if len(argnums) > 1 else argnums[0],
                    "tape": _tape(g, args) if tape else None})

    # heat equation: 64 points, 200 steps
    x = np.linspace(0, 1, 64)
    u0, kappa = np.exp(-100 * (x - 0.5) ** 2), 0.2
    hw_tape = tape_of(handwritten.heat_forward(u0, kappa, 200)[1])
    add("heat", f"heat 1-D, 64 pts x 200 steps (hand-written tape {hw_tape})", heat_ex.heat.primal, heat_ex.heat,
        lambda: handwritten.heat_adjoint(u0, kappa, 200), (u0, kappa), (0, 1))
    # the same stencil in the rebinding form: u = u + kappa * lap (the tape holds one lap per step)
    hw_tape = tape_of(handwritten.heat_rebind_forward(u0, kappa)[1])
    add("heat_rebind", f"heat 1-D rebinding `u = u + kappa * lap` (hand-written tape {hw_tape})",
        rebind.heat_rebind, adjointc.grad(rebind.heat_rebind, wrt=(0, 1)),
        lambda: handwritten.heat_rebind_adjoint(u0, kappa), (u0, kappa), (0, 1))
    # the same written the legacy way: in-place helpers (inlined) and a looping smoother (called)
    ub0 = np.sin(np.pi * x)
    add("heat_bc", "heat 1-D with in-place helpers, 64 pts x 200 steps", heat_bc_ex.heat_bc.primal,
        heat_bc_ex.heat_bc, lambda: handwritten.heat_bc_adjoint(ub0, 0.2, 0.5, 3.0), (ub0, 0.2, 0.5, 3.0),
        (0, 1, 2, 3))
    # Rosenbrock as a scalar loop, n = 1000
    xr = rng.standard_normal(200 if quick else 1000)
    add("rosen", f"rosenbrock loop, n={xr.size}", rosen_ex.rosen, adjointc.grad(rosen_ex.rosen),
        lambda: handwritten.rosen_adjoint(xr), (xr,), (0,))
    # Lorenz-63 RK4, 500 steps, gradient of the sum of the final state
    s0, p = np.array([1.0, 1.0, 1.0]), np.array([10.0, 28.0, 8.0 / 3.0])
    add("lorenz", "lorenz-63 RK4, 500 steps", lorenz.final_sum,
        adjointc.grad(lorenz.final_sum, wrt=("state0", "params")),
        lambda: handwritten.lorenz_final_sum_adjoint(s0, p), (s0, p), (0, 1))
    # damped oscillator misfit, 400 steps
    data = fit_oscillator.simulate(np.array([4.0, 0.3]))
    params = np.array([2.0, 1.0])
    add("oscillator", "oscillator misfit, 400 steps", fit_oscillator.misfit, adjointc.grad(fit_oscillator.misfit),
        lambda: handwritten.oscillator_misfit_adjoint(params, data), (params, data), (0,))
    # an MLP loss wrt both weight matrices
    w1, w2 = rng.standard_normal((20, 32)) / 4, rng.standard_normal(32) / 4
    xm, ym = rng.standard_normal((64, 20)), rng.standard_normal(64)
    add("mlp", "MLP loss wrt (W1, W2), 20x32, batch 64", mlp_loss, adjointc.grad(mlp_loss, wrt=(0, 1)),
        lambda: handwritten.mlp_loss_adjoint(w1, w2, xm, ym), (w1, w2, xm, ym), (0, 1))
    # a vectorised pairwise potential, 100 points in 3-D
    xp = rng.standard_normal((100, 3))
    add("pairwise", "pairwise potential, 100 points", soft_pairs, adjointc.grad(soft_pairs),
        lambda: handwritten.soft_pairs_adjoint(xp), (xp,), (0,))
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    timeout = float(sys.argv[sys.argv.index("--peer-timeout") + 1]) if "--peer-timeout" in sys.argv else 90.0
    t_start = time.perf_counter()
    probs = problems(quick)
    rows = []
    for pr in probs:
        f, g, args = pr["f"], pr["g"], pr["args"]
        tf, tg, th = interleaved([lambda: f(*args), lambda: g(*args), pr["hand"]])
        rows.append((pr["title"], tf, tg, th, pr["tape"]))
        pr["times"] = (tf, tg, th)

    print("| example | f | gradient | gradient / f | hand-written / f | adjointc / hand-written | tape |")
    print("|---|---|---|---|---|---|---|")
    for name, tf, tg, th, tape in rows:
        hw = f"{th / tf:.2f}" if th else "-"
        rel = f"{tg / th:.2f}" if th else "-"
        tp = tape if tape is not None else "-"
        print(f"| {name} | {tf * 1e3:.3f} ms | {tg * 1e3:.3f} ms | {tg / tf:.2f} | {hw} | {rel} | {tp} |")
    if "--peers" in sys.argv:
        print_peers(probs, timeout)
    if "--numba" in sys.argv:
        print()
        try:
            import numba_backend
        except ImportError as e:  # (numba_handwritten needs numba)
            print(f"The numba targets: not run ({e}).")
        else:
            numba_backend.main(quick=quick, timeout=timeout)
    print(f"\n(run.py {' '.join(sys.argv[1:])}: {time.perf_counter() - t_start:.0f} s; load average "
          f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())} (1 / 5 / 15 min) on {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")


def numba_gradient(pr: dict) -> tuple[object, str | None]:
    """adjointc's numba-backend gradient of the problem, checked against the NumPy one, or
    None and why it runs the NumPy adjoint instead ("falls back: ...") / is missing."""
    import warnings
    try:
        import numba  # noqa: F401
    except ImportError:
        return None, "numba not installed"
    gn = adjointc.grad(pr["f"], wrt=pr["wrt"], backend="numba")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", adjointc.AdjointcWarning)
        got = gn(*pr["args"])
    fell = [w for w in caught if issubclass(w.category, adjointc.AdjointcWarning)]
    if fell:
        msg = str(fell[0].message)
        reason = msg[msg.find("(") + 1:msg.rfind(")")] if "(" in msg else msg
        reason = re.sub(r"Function\(<function (\w+) at 0x[0-9a-f]+>\)", r"\1()", reason)
        reason = re.split(r" \((?:line \d+|a function adjointc)", reason)[0]  # (the gist, not the source line)
        return None, f"falls back: {reason[:100].rstrip(' :')}"
    ok, err = peers.same_gradient(peers.flat(got), peers.flat(pr["g"](*pr["args"])))
    if not ok:
        return None, f"wrong gradient ({err:.1e})"
    return gn, None


def print_peers(probs: list[dict], timeout: float) -> None:
    """The peers on the same problems, each in a child process (peers.run_peer) with a time
    limit, its gradient checked against adjointc's before it is timed; adjointc's numba
    backend beside them. Ratios in the peers' cells are to adjointc's NumPy gradient timed
    in the same process."""
    table = []
    for pr in probs:
        f, g, args = pr["f"], pr["g"], pr["args"]
        gn, why_not = numba_gradient(pr)
        tf, tg, th = pr["times"]
        tn = interleaved([lambda: g(*args), lambda: gn(*args)]) if gn else None  # (NumPy, numba) in turn
        problem = peers.Problem(pr["key"], pr["title"], f, args, pr["argnums"], peers.flat(g(*args)),
                                ours=[lambda: f(*args), lambda: g(*args)])
        res = {peer: peers.run_peer(problem, peer, timeout) for peer in peers.PEERS}
        table.append((pr, tf, tg, th, tn, why_not, res))
    print("\nTimes per gradient; in parentheses, the ratio to adjointc's NumPy gradient timed in the same "
          "process (its own: to f).\n")
    print("| example | f | adjointc NumPy | adjointc numba | hand-written | autograd | JAX eager | JAX jit "
          "| JAX jit first call | PyTorch eager |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for pr, tf, tg, th, tn, why_not, res in table:
        nb = f"{peers.ms(tn[1])} ({peers.ratio(tn[1] / tn[0])})" if tn else why_not
        print(f"| {pr['title']} | {peers.ms(tf)} | {peers.ms(tg)} ({tg / tf:.1f}x f) | {nb} | {peers.ms(th)} "
              f"({peers.ratio(th / tg)}) "
              f"| {peers.cell(res['autograd'])} | {peers.cell(res['jax'])} | {peers.cell(res['jax.jit'], jit=True)} "
              f"| {peers.first_cell(res['jax.jit'])} | {peers.cell(res['torch'])} |")


if __name__ == "__main__":
    main()
