"""A least-squares fit written row by row with np.dot, the way a loop over samples is written:

    OPENBLAS_NUM_THREADS=1 python benchmarks/dot_rows.py [--rows 200] [--features 8]

Prints f, the NumPy backend's gradient and (numba installed) the numba backend's, in ms per
call and as ratios to f, and checks the two gradients agree. Interleaved (each repeat times
all of them in turn; the best repeat of each), in CPU time: the machine is shared.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjointc  # noqa: E402


def fit(X, w, y):
    s = 0.0
    for i in range(X.shape[0]):
        pred = np.dot(X[i], w)
        s = s + (pred - y[i]) ** 2
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--features", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    X, w, y = rng.normal(size=(a.rows, a.features)), rng.normal(size=a.features), rng.normal(size=a.rows)
    runs = {"f": lambda: fit(X, w, y)}
    g = adjointc.grad(fit, wrt=1)
    runs["grad (NumPy)"] = lambda: g(X, w, y)
    fell = None
    try:
        import numba  # noqa: F401
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always", adjointc.AdjointcWarning)
            gn = adjointc.grad(fit, wrt=1, backend="numba")
            np.testing.assert_allclose(gn(X, w, y), g(X, w, y), rtol=1e-12)
        fell = next((str(m.message) for m in told if issubclass(m.category, adjointc.AdjointcWarning)), None)
        if fell is None:  # (a fallback runs the NumPy adjoint: not timed as numba's)
            runs["grad (numba)"] = lambda: gn(X, w, y)
    except ImportError:
        pass
    best = {k: float("inf") for k in runs}
    for _ in range(a.repeat):
        for k, run in runs.items():
            n = 20
            t = time.process_time()
            for _ in range(n):
                run()
            best[k] = min(best[k], (time.process_time() - t) / n)
    print(f"fit: {a.rows} rows x {a.features} features, np.dot per row")
    for k, t in best.items():
        print(f"  {k:<14}{t * 1e3:9.4f} ms  {t / best['f']:7.3f}x f")
    if fell:
        print(f"  grad (numba)  falls back: {fell}")


if __name__ == "__main__":
    main()
