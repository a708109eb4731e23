"""Time the same example functions under autograd, JAX (eager and jit) and
PyTorch, when they are installed (`pip install -e .[bench]`).

The examples are written against `numpy as np`; for a peer the function is
rebuilt with `np` bound to that peer's NumPy (autograd.numpy, jax.numpy), as a
user porting the code would do. In-place array writes (`u[1:-1] = ...`) are
not supported by autograd or JAX: those rows say so.
"""
from __future__ import annotations

import time
import types
from typing import Any, Callable


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


def timed(fn: Callable, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peer_times(f: Callable, args: tuple, argnum: int = 0, timeout: float = 240.0) -> dict[str, str]:
    """Gradient time under each installed peer, formatted, or why it failed. Each
    peer runs in a child process, so one that takes too long (JAX compiling an
    unrolled loop) is reported as such instead of stalling the benchmark."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    out: dict[str, str] = {}
    for peer in ("autograd", "jax", "jax.jit"):
        q = ctx.Queue()
        p = ctx.Process(target=lambda: q.put(_one(peer, f, args, argnum)))
        p.start()
        p.join(timeout)
        if p.is_alive():
            p.kill()
            out[peer] = f"> {timeout:.0f} s"
        elif not q.empty():
            r = q.get()
            if r is not None:
                out[peer] = r
    return out


def _one(peer: str, f: Callable, args: tuple, argnum: int) -> str | None:
    try:
        if peer == "autograd":
            import autograd
            import autograd.numpy as anp
            g = autograd.grad(rebind(f, anp), argnum)
            run = lambda: g(*args)  # noqa: E731
        else:
            import jax
            import jax.numpy as jnp
            jax.config.update("jax_enable_x64", True)
            jargs = tuple(jnp.asarray(a) if hasattr(a, "shape") else a for a in args)
            g = jax.grad(rebind(f, jnp), argnum)
            if peer == "jax.jit":
                g = jax.jit(g, static_argnums=tuple(i for i, a in enumerate(args) if isinstance(a, int)))
            run = lambda: jax.block_until_ready(g(*jargs))  # noqa: E731
    except ImportError:
        return None
    try:
        t0 = time.perf_counter()
        run()
        first = time.perf_counter() - t0
        t = timed(run)
    except Exception as e:  # autograd and JAX refuse in-place array writes
        return f"fails ({type(e).__name__})"
    if peer == "jax.jit":
        return f"{t * 1e3:.2f} ms (+{first:.1f} s compile)"
    return f"{t * 1e3:.1f} ms"
