"""Lorenz-63 integrated with classical RK4: sensitivities of the final state
to the initial state and to the parameters (sigma, rho, beta).

The final state is a vector, so this uses `vjp`: one backward sweep per
output component gives one row of the Jacobian d state(T) / d inputs.

    python examples/lorenz.py
"""
import numpy as np

from adjointc import vjp


def lorenz_rk4(state0, params, dt=0.01, steps=500):
    """Integrate Lorenz-63 with RK4; return the final state as an array."""
    x, y, z = state0[0], state0[1], state0[2]
    sigma, rho, beta = params[0], params[1], params[2]
    for _ in range(steps):
        k1x = sigma * (y - x)
        k1y = x * (rho - z) - y
        k1z = x * y - beta * z
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x = sigma * (y2 - x2)
        k2y = x2 * (rho - z2) - y2
        k2z = x2 * y2 - beta * z2
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x = sigma * (y3 - x3)
        k3y = x3 * (rho - z3) - y3
        k3z = x3 * y3 - beta * z3
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x = sigma * (y4 - x4)
        k4y = x4 * (rho - z4) - y4
        k4z = x4 * y4 - beta * z4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    return np.array([x, y, z])


def final_sum(state0, params):
    """A scalar of the final state (what the benchmarks differentiate)."""
    return np.sum(lorenz_rk4(state0, params))


def final_sum_short(state0, params):
    """50 steps (the benchmarks run the peers on this size)."""
    return np.sum(lorenz_rk4(state0, params, 0.01, 50))


def main() -> None:
    state0 = np.array([1.0, 1.0, 1.0])
    params = np.array([10.0, 28.0, 8.0 / 3.0])
    final, pullback = vjp(lorenz_rk4, state0, params, wrt=("state0", "params"))
    print(f"state(T = 5) = {np.round(final, 6)}")
    rows_s, rows_p = [], []
    for i in range(3):  # one backward sweep per output component
        e = np.zeros(3)
        e[i] = 1.0
        ds0, dp = pullback(e)
        rows_s.append(ds0)
        rows_p.append(dp)
    J_s, J_p = np.array(rows_s), np.array(rows_p)
    np.set_printoptions(precision=4, suppress=False)
    print("\nd state(T) / d state(0)   (rows: x, y, z at T)\n", J_s)
    print("\nd state(T) / d (sigma, rho, beta)\n", J_p)

    # check one column against central finite differences
    h = 1e-7
    e0 = np.array([h, 0.0, 0.0])
    fd = (lorenz_rk4(state0 + e0, params) - lorenz_rk4(state0 - e0, params)) / (2 * h)
    err = np.max(np.abs(fd - J_s[:, 0])) / np.max(np.abs(fd))
    print(f"\nrelative error of column d/dx0 against finite differences: {err:.1e}")
    print(f"largest singular value of d state(T)/d state(0): {np.linalg.svd(J_s)[1][0]:.3e}"
          "  (chaos: perturbations grow)")


if __name__ == "__main__":
    main()
