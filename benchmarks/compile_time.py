"""Cold transform time vs cache-hit load time of the main example (heat), each
measured in a fresh process around the first gradient call (median of runs).

    python benchmarks/compile_time.py
"""
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import heat
u0 = np.linspace(0.0, 1.0, 64); k = 0.2
t0 = time.perf_counter()
heat.heat(u0, k)                       # first call: transform or cache load, then run
t1 = time.perf_counter()
heat.heat(u0, k)                       # second call: run only
t2 = time.perf_counter()
print((t1 - t0) - (t2 - t1))
'''


def main(runs: int = 5) -> None:
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, ADJOINTC_CACHE_DIR=cache)
            run = lambda: float(subprocess.run([sys.executable, "-c", CHILD, examples], env=env,  # noqa: E731
                                               capture_output=True, text=True, check=True).stdout)
            cold.append(run())
            warm.append(run())
    print(f"heat example, median of {runs} fresh processes:")
    print(f"  cold (parse + transform + codegen + write cache): {statistics.median(cold) * 1e3:.1f} ms")
    print(f"  cache hit (read + verify + compile + load):       {statistics.median(warm) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
