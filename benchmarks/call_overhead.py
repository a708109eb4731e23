"""Per-call cost of a gradient on tiny problems (GradBench's `hello`: the gradient of x * x).

    OPENBLAS_NUM_THREADS=1 python benchmarks/call_overhead.py

For each case: f itself, the generated adjoint called directly (`g._last.fn`), and the
`grad` wrapper (binding, specialisation lookup, cache-trust probes, result types), in
microseconds per call; the last column is what the wrapper adds. Measured interleaved
(each repeat times the three in turn; the best repeat of each): the machine is shared.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjointc  # noqa: E402


def square(x):
    return x * x


def scaled_sum(x, c=2.0):
    return c * np.sum(x * x)


def two_params(w, b, x):
    return np.sum((w * x + b) ** 2)


_clock = time.process_time  # (CPU time: a shared machine's waiting for a core is not counted)


def interleaved(fns, repeat: int = 7, n: int = 5000) -> list[float]:
    """Best time per call of each fn, the fns timed in turn within each repeat."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = _clock()
            for _ in range(n):
                fn()
            best[i] = min(best[i], (_clock() - t0) / n)
    return best


def main() -> None:
    x3 = np.array([1.0, 2.0, 3.0])
    cases = [("x * x (float)", square, adjointc.grad(square), (3.0,)),
             ("c * sum(x * x), 3 floats, default c", scaled_sum, adjointc.grad(scaled_sum), (x3,)),
             ("sum((w*x + b)**2) wrt (w, b)", two_params, adjointc.grad(two_params, wrt=(0, 1)),
              (x3, 0.5, x3))]
    print("| case | f | generated adjoint | grad wrapper | wrapper overhead |")
    print("|---|---|---|---|---|")
    for name, f, g, args in cases:
        g(*args)
        fn = g._last.fn
        values = g._bind(args, {})
        tf, tgen, tg = interleaved([lambda: f(*args), lambda: fn(*values, 1.0), lambda: g(*args)])
        print(f"| {name} | {tf * 1e6:.2f} us | {tgen * 1e6:.2f} us | {tg * 1e6:.2f} us | "
              f"{(tg - tgen) * 1e6:.2f} us |")


if __name__ == "__main__":
    main()
