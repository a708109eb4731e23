"""Function values: user functions passed as arguments to helpers (specialised on the
function's identity, adjointc/funcvals.py), lambdas in each position, and the
differentiated function itself taking a function. ``CASES`` use the corpus `Case`
format (finite differences on 2+ inputs; SymPy where scalar and straight-line);
``UNSUPPORTED`` are the function values that cannot be resolved when compiling."""
import numpy as np

from . import A, Case, helpers_mod, samplers

_u, _n = samplers("function_values")


# ------------------------------------------------------------ right-hand sides
def lorenz(y):
    return np.array([10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8.0 / 3.0 * y[2]])


def decay(y):
    return -0.7 * y + 0.1 * y * y


def rk4_step(rhs, y, dt):
    k1 = rhs(y)
    k2 = rhs(y + 0.5 * dt * k1)
    k3 = rhs(y + 0.5 * dt * k2)
    k4 = rhs(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(rhs, y0, dt, n):
    """A callee with a loop (joint mode) taking a function, forwarding it."""
    y = y0
    for _ in range(n):
        y = rk4_step(rhs, y, dt)
    return y


def lorenz_final(y0):
    y = integrate(lorenz, y0, 0.005, 4)
    return np.sum(y * y)


def lorenz_rk4_loop(y0):
    y = y0
    for _ in range(3):
        y = rk4_step(lorenz, y, 0.01)
    return np.sum(y ** 2)


def two_functions_one_helper(y0):
    """The same helper specialised on two functions in one program."""
    a = rk4_step(lorenz, y0, 0.01)
    b = rk4_step(decay, y0, 0.05)
    c = integrate(decay, a, 0.02, 2)
    return np.sum(a * b) + np.sum(c)


# ----------------------------------------------------------- gradient descent
def quad_objective(x):
    return (x - 1.5) ** 2 + 0.1 * x ** 4


def quad_derivative(x):
    return 2.0 * (x - 1.5) + 0.4 * x ** 3


def descend(f, df, x0, lr, n):
    x = x0
    for _ in range(n):
        x = x - lr * df(x)
    return f(x)


def descent_value(x0, lr):
    return descend(quad_objective, quad_derivative, x0, lr, 5)


def step_once(f, df, x, lr):
    return f(x - lr * df(x))


def descent_step_scalar(x0, lr):
    return step_once(quad_objective, quad_derivative, x0, lr) + x0 * lr


# ------------------------------------------------------------------ map helpers
def map_rows(fn, m):
    out = np.zeros(m.shape[0])
    for i in range(m.shape[0]):
        out[i] = fn(m[i])
    return out


def row_energy(v):
    return np.sum(v * v) + np.sum(np.sin(v))


def mapped_energy(m):
    return np.sum(map_rows(row_energy, m) ** 2)


def apply_twice(g, x):
    return g(g(x))


def smooth(x):
    return x / (1.0 + x * x) + 0.5 * x * x


def scalar_apply_twice(x):
    return apply_twice(smooth, x) * x


# ---------------------------------------------------------------------- lambdas
def lambda_local_called(y):
    f = lambda x: x * x  # noqa: E731
    return f(y) + f(y + 1.0)


def lambda_closure_called(x, k):
    scale = k * 2.0
    f = lambda v: scale * v * v  # noqa: E731  (reads the enclosing function's scale)
    return f(x) + f(k)


def lambda_to_helper(y):
    sq = lambda v: np.sum(v ** 2)  # noqa: E731
    return apply_twice_sum(sq, y)


def apply_twice_sum(h, v):
    return h(v) + h(2.0 * v)


def lambda_inline_to_helper(y0):
    y = rk4_step(lambda y: -0.5 * y + np.sin(y), y0, 0.1)
    return np.sum(y * y)


def nested_def_to_helper(y0):
    def rhs(y):
        return np.cos(y) - 0.3 * y
    y = integrate(rhs, y0, 0.05, 3)
    return np.sum(y)


def lambda_inline_called(x):
    return (lambda v: v * v * v)(x) + x


def nested_def_with_function_arg(x):
    def twice(g, v):
        return g(g(v))
    return twice(smooth, x) + twice(lambda t: t * t + 1.0, x)


# ----------------------------------------------- the differentiated function's own
def simulate(rhs, y0):
    y = y0
    for _ in range(3):
        y = rk4_step(rhs, y, 0.01)
    return np.sum(y * y)


def lorenz_simulate(rhs, y0):
    """The function argument forwarded through a helper with a loop (joint mode)."""
    return np.sum(integrate(rhs, y0, 0.01, 3))


def simulate_scalar(f, x, c):
    return f(x) * c + f(c)


_y3 = [np.array([1.0, 1.2, 0.9]), np.array([-0.5, 0.4, 1.3]), np.array([0.3, -1.1, 0.2])]

CASES = [
    Case(lorenz_final, 0, [(y,) for y in _y3]),
    Case(lorenz_rk4_loop, 0, [(y,) for y in _y3]),
    Case(two_functions_one_helper, 0, [(y,) for y in _y3]),
    Case(descent_value, (0, 1), [(0.3, 0.1), (2.0, 0.05), (-1.0, 0.02)]),
    Case(descent_step_scalar, (0, 1), [(0.3, 0.1), (2.0, 0.05)], sympy=True),
    Case(mapped_energy, 0, [(_n(3, 4),), (_n(2, 5),)]),
    Case(scalar_apply_twice, 0, [(0.3,), (1.7,), (-0.8,)], sympy=True),
    Case(lambda_local_called, 0, [(0.7,), (-1.3,)], sympy=True),
    Case(lambda_closure_called, (0, 1), [(0.7, 1.1), (-1.3, 0.4)], sympy=True),
    Case(lambda_to_helper, 0, [(_n(4),), (_n(6),)]),
    Case(lambda_inline_to_helper, 0, [(y,) for y in _y3]),
    Case(nested_def_to_helper, 0, [(y,) for y in _y3]),
    Case(lambda_inline_called, 0, [(0.4,), (-2.0,)], sympy=True),
    Case(nested_def_with_function_arg, 0, [(0.4,), (-1.2,)], sympy=True),
    Case(simulate, 1, [A(lorenz, y) for y in _y3] + [A(decay, y) for y in _y3]),
    Case(lorenz_simulate, 1, [A(lorenz, y) for y in _y3]),
]
# (the function argument is called directly: lowered only once specialised on it)
TOP_LEVEL = [Case(simulate_scalar, (1, 2), [A(smooth, 0.5, 1.5), A(quad_objective, -0.3, 0.8)])]


def forwards_through_a_nested_def(y0):
    """A nested def taking a function forwards it to a module helper (a def, and a lambda)."""
    def run(g, v):
        return integrate(g, v, 0.05, 2)
    a = run(decay, y0)
    b = run(lambda v: np.tanh(v) - v, y0)
    return np.sum(a * b)


CASES.append(Case(forwards_through_a_nested_def, 0, [(y,) for y in _y3]))


def other_module_function_and_helper(y0):
    """A function of another module passed (helpers_mod.decay_rhs reads its module's RATE),
    and a helper of another module taking this module's function."""
    a = rk4_step(helpers_mod.decay_rhs, y0, 0.1)
    b = helpers_mod.euler_with(lorenz, y0, 0.01)
    return np.sum(a * b)


def repeat_apply(f, x, n):
    """Recursive, specialised on f at every level."""
    if n == 0:
        return x
    return repeat_apply(f, f(x), n - 1)


def recursive_with_function(x):
    return repeat_apply(smooth, x, 3)


def keyword_function_argument(x0, lr):
    return descend(df=quad_derivative, f=quad_objective, x0=x0, lr=lr, n=3)


def lambda_with_default_to_helper(x):
    return apply_twice(lambda t, c=0.5: c * t * t + t, x)


CASES += [
    Case(other_module_function_and_helper, 0, [(y,) for y in _y3]),
    Case(recursive_with_function, 0, [(0.3,), (-1.1,)]),
    Case(keyword_function_argument, (0, 1), [(0.3, 0.1), (2.0, 0.05)]),
    Case(lambda_with_default_to_helper, 0, [(0.3,), (-1.1,)], sympy=True),
]


def nested_loop_function_to_inlined_helper(x):
    """A nested def with a loop (its own adjoint) passed to a small helper (inlined)."""
    def g(v):
        s = v
        for _ in range(2):
            s = s * 0.5 + np.sin(s)
        return s
    return apply_twice(g, x) + x * x


CASES.append(Case(nested_loop_function_to_inlined_helper, 0, [(0.4,), (-1.3,)]))
