"""Second order and forward mode on the Rosenbrock loop: Newton's method with the
exact Hessian (forward over reverse), Hessian-vector products for a Newton-CG step
without forming H, and the forward-mode tangent code.

    python examples/newton_rosen.py
"""
import numpy as np
from scipy.optimize import minimize

from adjointc import grad, hessian, jvp, tangent
from rosen import rosen  # the scalar loop of examples/rosen.py


def newton(x, steps=30):
    """Damped Newton with the exact Hessian: H is n Hessian-vector products."""
    g, H = grad(rosen), hessian(rosen)
    for k in range(steps):
        gx = g(x)
        if np.linalg.norm(gx) < 1e-10:
            break
        dx = np.linalg.solve(H(x) + 1e-8 * np.eye(x.size), -gx)
        t = 1.0
        while rosen(x + t * dx) > rosen(x) and t > 1e-6:
            t *= 0.5
        x = x + t * dx
    return x, k


def main() -> None:
    x0 = np.array([0.5, 0.8, 1.2, 0.9, 1.3, 0.7])
    x, k = newton(x0.copy())
    print(f"Newton with the exact Hessian: {k} steps to x = {np.round(x, 8)}")

    # The Hessian-vector product against finite differences of the gradient.
    v = np.linspace(-1.0, 1.0, x0.size)
    _, hv = jvp(grad(rosen), (x0,), (v,))
    h = 1e-6
    fd = (grad(rosen)(x0 + h * v) - grad(rosen)(x0 - h * v)) / (2 * h)
    print(f"H v by forward over reverse: relative error {np.max(np.abs(hv - fd)) / np.max(np.abs(fd)):.1e}")

    # Newton-CG with SciPy, the Hessian never formed: only HVPs.
    res = minimize(rosen, x0, jac=grad(rosen), method="Newton-CG",
                   hessp=lambda x, p: jvp(grad(rosen), (x,), (p,))[1], options={"xtol": 1e-10})
    print(f"scipy Newton-CG with hessp = jvp(grad(rosen)): {res.nit} iterations, f = {res.fun:.2e}")

    # Forward mode: a directional derivative, and the tangent code adjointc wrote.
    fwd = tangent(rosen)
    value, slope = fwd(x0, tangents=v)
    fd_slope = (rosen(x0 + h * v) - rosen(x0 - h * v)) / (2 * h)
    print(f"directional derivative: {slope:.6f} (relative error {abs(slope - fd_slope) / abs(fd_slope):.1e})")
    print(fwd.source)


if __name__ == "__main__":
    main()
