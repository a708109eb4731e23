"""1-D heat equation, explicit Euler with NumPy slicing: the gradient of a
misfit with respect to the initial field and the diffusivity.

    python examples/heat.py

prints the gradient, checks it against finite differences, and prints the
adjoint source adjointc generated for it.
"""
import numpy as np

from adjointc import grad


@grad(wrt=("u0", "kappa"))
def heat(u0, kappa, steps=200):
    """Energy-like misfit of the field after `steps` explicit Euler steps."""
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def main() -> None:
    x = np.linspace(0.0, 1.0, 64)
    u0 = np.exp(-100.0 * (x - 0.5) ** 2)
    kappa = 0.2

    du0, dkappa = heat(u0, kappa)
    print(f"misfit J            = {heat.primal(u0, kappa):.6f}")
    print(f"dJ/dkappa           = {dkappa:.6f}")
    print(f"|dJ/du0|            = {np.linalg.norm(du0):.6f}  (shape {du0.shape}, dtype {du0.dtype})")

    h = 1e-6  # a central difference along kappa, as a sanity check
    fd = (heat.primal(u0, kappa + h) - heat.primal(u0, kappa - h)) / (2 * h)
    print(f"finite difference   = {fd:.6f}  (relative error {abs(fd - dkappa) / abs(fd):.1e})")
    tape = heat.tape_bytes(u0, kappa)
    print(f"tape                = {tape['total']} bytes held, {tape.data['total']} bytes of data "
          f"(one interior field per step: {199 * 62 * 8})")
    print("\nThe adjoint adjointc generated (heat.source):\n")
    print(heat.source)


if __name__ == "__main__":
    main()
