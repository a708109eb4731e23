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


def peer_times(f: Callable, args: tuple, argnum: int = 0, timeout: float = 180.0) -> dict[str, str]:
    """Gradient time of each installed peer, formatted, or why it failed. Runs in a
    child process so that a peer that takes too long (JAX compiling an unrolled
    loop) is reported as such instead of stalling the benchmark."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=lambda: q.put(_peer_times(f, args, argnum)))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        return {"autograd/jax": f"no result within {timeout:.0f} s"}
    return q.get() if not q.empty() else {}


def _peer_times(f: Callable, args: tuple, argnum: int = 0) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        import autograd
        import autograd.numpy as anp
        g = autograd.grad(rebind(f, anp), argnum)
        try:
            g(*args)
            out["autograd"] = f"{timed(lambda: g(*args)) * 1e3:.1f} ms"
        except Exception as e:
            out["autograd"] = f"fails ({type(e).__name__})"
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        jargs = tuple(jnp.asarray(a) if hasattr(a, "shape") else a for a in args)
        fj = rebind(f, jnp)
        g = jax.grad(fj, argnum)
        try:
            g(*jargs)
            out["jax"] = f"{timed(lambda: jax.block_until_ready(g(*jargs)), 2) * 1e3:.1f} ms"
            static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
            gj = jax.jit(g, static_argnums=static)
            t0 = time.perf_counter()
            jax.block_until_ready(gj(*jargs))
            compile_s = time.perf_counter() - t0
            run = timed(lambda: jax.block_until_ready(gj(*jargs)))
            out["jax.jit"] = f"{run * 1e3:.2f} ms (+{compile_s:.1f} s compile)"
        except Exception as e:
            out["jax"] = f"fails ({type(e).__name__})"
    except ImportError:
        pass
    return out
