"""The Rosenbrock function written as a scalar loop, the way the design's
reference adjoint shows it.

    python examples/rosen.py
"""
import numpy as np

from adjointc import grad


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        s = s + 100.0 * a * a + (1.0 - x[i]) ** 2
    return s


def main() -> None:
    g = grad(rosen)
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    print("gradient at", x, "=", g(x))
    print("gradient at the minimum (all ones) =", g(np.ones(4)))
    print(g.source)


if __name__ == "__main__":
    main()
