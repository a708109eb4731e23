"""Custom adjoint rules: teach adjointc the derivative of a function it cannot
read (a C extension) or should not read (a solver with a better adjoint).

    python examples/custom_rules.py
"""
import numpy as np
import scipy.special as special

import adjointc


def solve(A, b):
    """A linear solve. Differentiating through an LU factorisation is wasteful:
    the adjoint of x = A^-1 b is one more solve with A^T."""
    return np.linalg.solve(A, b)


# Templates are expressions over g (the adjoint of the result), ans (the result)
# and the parameter names; they are inlined into the generated adjoint.
adjointc.defvjp(solve, "A, b",
                A="-np.outer(np.linalg.solve(A.T, g), ans)",
                b="np.linalg.solve(A.T, g)")

# A C function (a scipy ufunc) with a known derivative: d/dx I0(x) = I1(x).
adjointc.defvjp(special.i0, "x", x="g * special.i1(x)", namespace={"special": special})

# A random draw: no derivative (the gradient is taken for the sample drawn).
adjointc.nondiff(np.random.default_rng)


def energy(A, b, w):
    x = solve(A, b)
    return np.sum(special.i0(w * x))


def main() -> None:
    rng = np.random.default_rng(1)
    A = np.eye(4) * 3.0 + 0.1 * rng.standard_normal((4, 4))
    b = rng.standard_normal(4)
    w = 0.5
    g = adjointc.grad(energy, wrt=("A", "b", "w"))
    dA, db, dw = g(A, b, w)
    print("dE/db =", np.round(db, 6))
    print("dE/dw =", round(dw, 6))
    report = adjointc.check(energy, A, b, w, wrt=("A", "b", "w"))
    print(report)
    print(g.source[g.source.index("# ---- backward"):])


if __name__ == "__main__":
    main()
