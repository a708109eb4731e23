"""The peers (autograd, JAX eager, JAX jit, PyTorch eager) on the benchmark problems, each
in a child process with a time limit, its gradient checked against adjointc's first.

The examples are written against `numpy as np`; for autograd and JAX the function is
rebuilt with `np` bound to that peer's NumPy (autograd.numpy, jax.numpy), as a user
porting the code would do (`rebind`). PyTorch gets the same functions written with torch
ops by hand (benchmarks/peer_versions.py). A peer that refuses a construct is reported
with what it says (`fails (...)`); one not installed, as "not installed".

`run_peer(problem, peer, timeout)` forks a child that imports the peer (JAX with
XLA_FLAGS single-threaded, torch with one intra- and inter-op thread), makes its
gradient, checks it equals adjointc's (rtol 1e-6: a fast wrong gradient never reaches the
table), then times the peer interleaved with `problem.ours` (f and adjointc's gradient,
or adjointc's numba gradient) in the same process, in CPU time of the process (all its
threads: with one thread each the peers' CPU time is their work). The child's time
budget bounds the repeats; past `timeout` it is killed and the cell says where it was
(`> 90 s compile`, `> 90 s first call`).
"""
from __future__ import annotations

import os
import time
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

PEERS = ("autograd", "jax", "jax.jit", "torch")
RTOL = 1e-6


def rebind(f: Callable, np_like: Any, _memo: dict | None = None) -> Callable:
    """f (and the functions of its module it calls) with `np` bound to np_like."""
    memo = {} if _memo is None else _memo
    if id(f) in memo:
        return memo[id(f)]
    g = dict(f.__globals__)
    new = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
    memo[id(f)] = new
    for k, v in list(g.items()):
        if getattr(v, "__name__", "") == "numpy":
            g[k] = np_like
        elif isinstance(v, types.FunctionType) and v.__module__ == f.__module__ and k in f.__code__.co_names:
            g[k] = rebind(v, np_like, memo)
    return new


@dataclass
class Problem:
    """One benchmark problem as the peers see it."""
    key: str                 # peer_versions' key of its torch version
    title: str
    f: Callable              # the NumPy function (rebound for autograd and JAX)
    args: tuple
    argnums: tuple[int, ...]  # the arguments differentiated
    ref: np.ndarray          # adjointc's gradient, flattened (what every peer must give)
    ours: list[Callable] = field(default_factory=list)  # timed interleaved with the peer
    idiomatic: dict = field(default_factory=dict)  # {label: JAX function} (jit only)


def flat(g: Any) -> np.ndarray:
    """A gradient (an array, a number, or a tuple of them) as one float vector."""
    parts = g if isinstance(g, (tuple, list)) else (g,)
    return np.hstack([np.ravel(np.asarray(p, dtype=float)) for p in parts])


def same_gradient(got: np.ndarray, ref: np.ndarray) -> tuple[bool, float]:
    """Equal to rtol 1e-6 (with an absolute floor of 1e-9 of the largest entry, for
    entries that are zero up to rounding), and the largest relative difference."""
    if got.shape != ref.shape:
        return False, float("inf")
    scale = max(float(np.max(np.abs(ref))), 1e-300)
    ok = bool(np.allclose(got, ref, rtol=RTOL, atol=1e-9 * scale))
    return ok, float(np.max(np.abs(got - ref) / (np.abs(ref) + 1e-9 * scale)))


_clock = time.process_time


def interleaved(fns: list[Callable], budget: float, repeat: int = 7, min_time: float = 0.05) -> list[float]:
    """Best time per call of each fn, timed in turn within each repeat (CPU time), with
    as many repeats (1..repeat) as fit in `budget` seconds. Each fn has run once already."""
    single = []
    for f in fns:
        t0 = _clock()
        f()
        single.append(max(_clock() - t0, 1e-7))
    ns = [max(1, int(min_time / t)) for t in single]
    per_round = sum(n * t for n, t in zip(ns, single))
    rounds = max(1, min(repeat, int(budget / per_round)))
    best = [min(t, float("inf")) for t in single]
    for _ in range(rounds):
        for i, (f, n) in enumerate(zip(fns, ns)):
            t0 = _clock()
            for _ in range(n):
                f()
            best[i] = min(best[i], (_clock() - t0) / n)
    return best


def _single_thread() -> None:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                               " intra_op_parallelism_threads=1").strip()
    for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[v] = "1"


def _make(problem: Problem, peer: str, form: str | None) -> Callable[[], Any]:
    """A call that computes the peer's gradient (ImportError when it is not installed)."""
    args, argnums = problem.args, problem.argnums
    one = argnums[0] if len(argnums) == 1 else argnums
    if peer == "autograd":
        import autograd
        import autograd.numpy as anp
        g = autograd.grad(rebind(problem.f, anp), one)
        return lambda: g(*args)
    if peer in ("jax", "jax.jit"):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        fn = problem.idiomatic[form] if form else rebind(problem.f, jnp)
        jargs = tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
        g = jax.grad(fn, argnums=one)
        if peer == "jax.jit":
            g = jax.jit(g, static_argnums=tuple(i for i, a in enumerate(args) if isinstance(a, int)))
        return lambda: jax.block_until_ready(g(*jargs))
    if peer == "torch":
        import torch
        from peer_versions import torch_versions
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        fn = torch_versions()[problem.key]
        targs = []
        for i, a in enumerate(args):
            if i in argnums:
                targs.append(torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=True))
            elif isinstance(a, np.ndarray):
                targs.append(torch.from_numpy(a))
            else:
                targs.append(a)
        inputs = [targs[i] for i in argnums]
        return lambda: tuple(t.numpy() for t in torch.autograd.grad(fn(*targs), inputs))
    raise ValueError(peer)


def why(e: BaseException) -> str:
    """What the peer says, short: the first line of its message."""
    msg = (str(e).strip().splitlines() or [""])[0]
    if "immutable" in msg and "item assignment" in msg:
        return "in-place write: JAX arrays are immutable"
    if "modified by an inplace operation" in msg:
        return "in-place write over a value its backward needs"
    if len(msg) > 70:
        msg = msg[:67] + "..."
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _child(conn, problem: Problem, peer: str, form: str | None, budget: float) -> None:
    _single_thread()
    try:
        run = _make(problem, peer, form)
    except ImportError:
        conn.send(("missing", None))
        return
    try:
        t0 = time.perf_counter()
        got = run()
        first = time.perf_counter() - t0
    except Exception as e:
        conn.send(("fails", why(e)))
        return
    conn.send(("first", first))
    ok, err = same_gradient(flat(got), problem.ref)
    if not ok:
        conn.send(("wrong", f"wrong gradient (max relative difference {err:.1e})"))
        return
    left = budget - (time.perf_counter() - t0)
    times = interleaved(problem.ours + [run], budget=max(left, 0.0))
    conn.send(("times", {"first": first, "ours": times[:-1], "peer": times[-1], "err": err}))


def run_peer(problem: Problem, peer: str, timeout: float = 90.0, form: str | None = None) -> dict:
    """{"status": "times" | "missing" | "fails" | "wrong" | "timeout", ...} for one peer."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, problem, peer, form, 0.6 * timeout))
    t0 = time.perf_counter()
    p.start()
    child.close()
    out: dict = {"status": "timeout", "first": None}
    while True:
        left = timeout - (time.perf_counter() - t0)
        if left <= 0 or not parent.poll(left):
            break
        try:
            kind, data = parent.recv()
        except EOFError:  # (the child died: a crash of the peer)
            out = {"status": "fails", "why": f"the process died (exit code {p.exitcode})"}
            break
        if kind == "first":
            out["first"] = data
            continue
        out = {"status": kind, **(data if isinstance(data, dict) else {"why": data})}
        break
    if p.is_alive():
        p.kill()
    p.join()
    out["timeout"] = timeout
    return out


def cell(r: dict, jit: bool = False) -> str:
    """The table cell of one peer's result: its time and its ratio to ours[-1] (adjointc's
    gradient) measured in the same process."""
    s = r["status"]
    if s == "missing":
        return "not installed"
    if s in ("fails", "wrong"):
        return f"fails ({r['why']})" if s == "fails" else r["why"]
    if s == "timeout":
        if r.get("first") is None:
            return f"> {r['timeout']:.0f} s {'compile' if jit else 'first call'}"
        return f"one call {r['first']:.1f} s"
    return f"{ms(r['peer'])} ({ratio(r['peer'] / r['ours'][-1])})"


def first_cell(r: dict) -> str:
    """A jit's first call (trace + compile + one run, wall time), or how long it ran."""
    if r["status"] == "times":
        return f"{r['first']:.1f} s"
    if r["status"] == "timeout" and r.get("first") is None:
        return f"> {r['timeout']:.0f} s"
    return "-"


def ratio(r: float) -> str:
    """A ratio with two significant digits (0.0043x, 0.78x, 7.3x, 886x)."""
    return f"{r:.2g}x" if r < 10 else f"{r:.0f}x"


def ms(t: float) -> str:
    """A time in ms with three significant digits."""
    v = t * 1e3
    return f"{v:.3g} ms" if v < 1000 else f"{v:,.0f} ms"
