"""1-D heat equation written the legacy way: helpers that modify the field in
place and return nothing (`apply_bc(u, left, right)`, `euler_step(u, kappa)`),
a source term evaluated by a helper, and a smoother with an inner loop.

    python examples/heat_bc.py

adjointc differentiates it as written. The small helpers are inlined, so the
generated adjoint reads like a hand-written one; `smooth` loops, so it keeps
its own adjoint (`smooth_vjp`), called from the backward sweep as a
checkpoint; because it modifies its argument, the forward sweep runs it on a
copy and writes the copy back (`smooth_returning_u`).
"""
import numpy as np

from adjointc import grad


def apply_bc(u, left, right):
    """Dirichlet boundary values, written into u in place."""
    u[0] = left
    u[-1] = right


def source(x, amplitude):
    return amplitude * np.exp(-50.0 * (x - 0.3) ** 2)


def euler_step(u, kappa, f, dt):
    """One explicit Euler step of the interior, in place."""
    u[1:-1] += kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2]) + dt * f[1:-1]


def smooth(u, passes):
    """A few Jacobi smoothing passes of the interior, in place."""
    for _ in range(passes):
        u[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]


@grad(wrt=("u0", "kappa", "left", "amplitude"))
def heat_bc(u0, kappa, left, amplitude, steps=200):
    x = np.linspace(0.0, 1.0, u0.shape[0])
    f = source(x, amplitude)
    u = u0.copy()
    for n in range(steps):
        apply_bc(u, left, 0.0)
        euler_step(u, kappa, f, 0.01)
        if n % 50 == 49:
            smooth(u, 2)
    return np.sum(u * u) / u.shape[0]


def main() -> None:
    x = np.linspace(0.0, 1.0, 64)
    u0 = np.sin(np.pi * x)
    args = (u0, 0.2, 0.5, 3.0)
    du0, dkappa, dleft, damp = heat_bc(*args)
    print(f"J = {heat_bc.primal(*args):.6f}")
    print(f"dJ/dkappa = {dkappa:.6f}   dJ/dleft = {dleft:.6f}   dJ/damplitude = {damp:.6f}")
    print(f"|dJ/du0| = {np.linalg.norm(du0):.6f}")
    h = 1e-6
    fd = (heat_bc.primal(u0, 0.2, 0.5 + h, 3.0) - heat_bc.primal(u0, 0.2, 0.5 - h, 3.0)) / (2 * h)
    print(f"finite difference d/dleft = {fd:.6f}  (relative error {abs(fd - dleft) / abs(fd):.1e})")
    print(f"u0 unchanged by the gradient: {np.array_equal(u0, np.sin(np.pi * x))}")
    print("\nThe adjoint adjointc generated (heat_bc.source):\n")
    print(heat_bc.source)


if __name__ == "__main__":
    main()
