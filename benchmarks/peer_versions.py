"""The benchmark problems written by hand for the peers where rebinding `np` cannot work.

* PyTorch: every problem with torch ops, as a user porting the NumPy code would write it
  (the same loops, the same in-place writes: torch's autograd records in-place slice
  writes, so the heat stencils run as written). Each takes tensors and returns a 0-d
  tensor; benchmarks/peers.py differentiates it with `torch.autograd.grad`.
* JAX, idiomatic: the numba targets (Lorenz RK4, the Rosenbrock loop) written the way a
  JAX user would write them so that `jax.jit` compiles one loop body instead of unrolling
  the Python loop: `lax.scan` / `lax.fori_loop`, and the vectorised Rosenbrock.

Nothing is imported at module level but math: torch and JAX are imported by the
functions that build each version (in the child process benchmarks/peers.py runs them in).
"""
from __future__ import annotations

import math

# ---------------------------------------------------------------- PyTorch, per problem


def torch_versions() -> dict:
    """{problem key: the torch function}; raises ImportError without torch."""
    import torch

    def heat(u0, kappa, steps=200):  # examples/heat.py: the in-place stencil
        u = u0.clone()
        for _ in range(steps):
            u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        return torch.sum(u * u)

    def heat_rebind(u0, kappa, steps=200):  # benchmarks/rebind.py
        u = u0.clone()
        for _ in range(steps):
            lap = torch.zeros_like(u)
            lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
            u = u + kappa * lap
        return torch.sum(u * u)

    def heat_bc(u0, kappa, left, amplitude, steps=200):  # examples/heat_bc.py, helpers inlined
        x = torch.linspace(0.0, 1.0, u0.shape[0], dtype=u0.dtype)
        f = amplitude * torch.exp(-50.0 * (x - 0.3) ** 2)
        u = u0.clone()
        for n in range(steps):
            u[0] = left
            u[-1] = 0.0
            u[1:-1] += kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2]) + 0.01 * f[1:-1]
            if n % 50 == 49:
                for _ in range(2):
                    u[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]
        return torch.sum(u * u) / u.shape[0]

    def rosen(x):  # examples/rosen.py
        s = 0.0
        for i in range(x.shape[0] - 1):
            a = x[i + 1] - x[i] * x[i]
            s = s + 100.0 * a * a + (1.0 - x[i]) ** 2
        return s

    def lorenz(state0, params, dt=0.01, steps=500):  # examples/lorenz.py final_sum
        x, y, z = state0[0], state0[1], state0[2]
        sigma, rho, beta = params[0], params[1], params[2]
        for _ in range(steps):
            k1x, k1y, k1z = sigma * (y - x), x * (rho - z) - y, x * y - beta * z
            x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
            k2x, k2y, k2z = sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2
            x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
            k3x, k3y, k3z = sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3
            x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
            k4x, k4y, k4z = sigma * (y4 - x4), x4 * (rho - z4) - y4, x4 * y4 - beta * z4
            x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
            z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
        return torch.sum(torch.stack([x, y, z]))

    def oscillator(params, data, dt=0.02, steps=400):  # examples/fit_oscillator.py misfit
        k, c = params[0], params[1]
        x, v = 1.0, 0.0
        total = 0.0
        for i in range(steps):
            v = v + dt * (-k * x - c * v + 0.5 * math.sin(i * dt))
            x = x + dt * v
            total = total + (x - data[i]) ** 2
        return total / steps

    def mlp(w1, w2, x, y):  # benchmarks/run.py mlp_loss
        h = torch.tanh(x @ w1)
        return torch.mean((h @ w2 - y) ** 2)

    def pairwise(x):  # benchmarks/run.py soft_pairs
        d = x[:, None, :] - x[None, :, :]
        r2 = torch.sum(d * d, dim=-1) + 1.0
        return 0.5 * torch.sum(1.0 / r2)

    def lorenz_scalars(x0, y0, z0, sigma, dt, steps):  # benchmarks/numba_handwritten.py lorenz
        def rhs(x, y, z):
            return sigma * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z
        x, y, z = x0, y0, z0
        for _ in range(steps):
            k1x, k1y, k1z = rhs(x, y, z)
            k2x, k2y, k2z = rhs(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z)
            k3x, k3y, k3z = rhs(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z)
            k4x, k4y, k4z = rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z)
            x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
            z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
        return x + y + z

    return {"heat": heat, "heat_rebind": heat_rebind, "heat_bc": heat_bc, "rosen": rosen,
            "lorenz": lorenz, "oscillator": oscillator, "mlp": mlp, "pairwise": pairwise,
            "lorenz2000": lorenz_scalars, "rosen10000": rosen}


# ------------------------------------------------- JAX, idiomatic forms of the numba targets


def jax_idiomatic() -> dict:
    """{(problem key, form label): function for jax.grad}; raises ImportError without JAX."""
    import jax
    import jax.numpy as jnp

    def lorenz_scan(x0, y0, z0, sigma, dt, steps):
        def rhs(x, y, z):
            return sigma * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z

        def step(s, _):
            x, y, z = s
            k1x, k1y, k1z = rhs(x, y, z)
            k2x, k2y, k2z = rhs(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z)
            k3x, k3y, k3z = rhs(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z)
            k4x, k4y, k4z = rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z)
            return (x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
                    y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y),
                    z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)), None
        (x, y, z), _ = jax.lax.scan(step, (x0, y0, z0), None, length=steps)
        return x + y + z

    def rosen_fori(x):
        def body(i, s):
            a = x[i + 1] - x[i] * x[i]
            return s + 100.0 * a * a + (1.0 - x[i]) ** 2
        return jax.lax.fori_loop(0, x.shape[0] - 1, body, 0.0)

    def rosen_vectorised(x):
        a = x[1:] - x[:-1] * x[:-1]
        return jnp.sum(100.0 * a * a + (1.0 - x[:-1]) ** 2)

    return {("lorenz2000", "lax.scan"): lorenz_scan, ("rosen10000", "lax.fori_loop"): rosen_fori,
            ("rosen10000", "vectorised"): rosen_vectorised}
