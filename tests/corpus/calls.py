"""Whole programs: calls to user functions (same module, imported, nested, recursive,
in loops and branches), closures and module constants, methods and parameter
objects, custom rules (defvjp/nondiff), and NumPy breadth inside such programs.

``CASES`` use the corpus `Case` format (finite differences on 2+ inputs, SymPy
where scalar and straight-line). ``STRUCT_CASES`` differentiate with respect to a
structure (dataclass, plain object, dict, tuple, list) and are checked leaf by leaf
in tests/test_calls.py. Registrations (defvjp/nondiff) are global: they are made
here, at import, for functions that exist only in this module (and for
scipy.special.i0, which nothing else registers)."""
import math
import statistics
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.special as special

import adjointc
from corpus import helpers_mod
from corpus.helpers_mod import euler_step, flux, helper_with_lambda, rhs

from . import A, Case, samplers

_u, _n = samplers("calls")

DT = 0.01          # read by helpers at call time
GAIN = 1.5
WEIGHTS = (0.5, -1.25, 2.0)


# =========================================================== helpers, same module
def sq(x):
    return x * x


def smooth_abs(x, eps=1e-2):
    return math.sqrt(x * x + eps)


def damped(x, k=0.5, c=2.0):
    return math.exp(-k * x) * math.cos(c * x)


def poly3(x, a, b, c):
    return a * x ** 3 + b * x * x + c


def polar(x, y):
    r = math.sqrt(x * x + y * y)
    theta = math.atan2(y, x)
    return r, theta


def energy_scalar(x, v, k=1.0):
    return 0.5 * v * v + 0.5 * k * x * x


# -- scalar callers (straight-line: also checked with SymPy)
def calls_helper(x, y):
    return sq(x) * y + sq(y - x)


def calls_helper_twice_nested(x, y):
    return sq(sq(x) + y) - sq(x * y)


def calls_with_keywords(x, y):
    a = damped(x, c=y)
    b = damped(y, k=x)
    return a + b + damped(x)


def calls_with_positional_and_keyword(x, y):
    return poly3(x, 2.0, c=y, b=-1.5) + poly3(y, a=x, b=0.5, c=1.0)


def calls_with_literal_default(x):
    return smooth_abs(x) + smooth_abs(x - 1.0, eps=0.5)


def unpacks_tuple_result(x, y):
    r, theta = polar(x, y)
    return r * math.cos(theta) + r * r * theta


def tuple_result_indexed(x, y):
    p = polar(x, y)
    return p[0] * p[1]


def keyword_with_expression(x, v):
    return energy_scalar(x, v, k=GAIN * x) + energy_scalar(v, x)


# -- imported helpers
def imported_by_name(y, k):
    return np.sum(rhs(y, k) ** 2)


def imported_via_module(y, k):
    return np.sum(helpers_mod.rhs(y, k) * y)


def imported_module_attribute_and_default(y, k):
    z = helpers_mod.euler_step(y, k)
    z = euler_step(z, k, dt=0.05)
    return np.sum(z * z)


def imported_scalar_gaussian(x, mu, sigma):
    return helpers_mod.gaussian(x, mu, sigma) * x


# -- helpers in loops and branches
def rk4_step(y, h, k):
    k1 = rhs(y, k)
    k2 = rhs(y + 0.5 * h * k1, k)
    k3 = rhs(y + 0.5 * h * k2, k)
    k4 = helpers_mod.rhs(y + h * k3, k)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def rk4_integrate(y0, k, steps=8):
    y = y0.copy()
    for _ in range(steps):
        y = rk4_step(y, 0.1, k)
    return np.sum(y * y)


def rk4_scalar(y0, k, steps=5):
    y = y0
    for _ in range(steps):
        y = rk4_step(y, 0.2, k)
    return y


def burgers_stencil(u0, steps=3, dt=0.05):
    u = u0.copy()
    n = u.shape[0]
    F = np.zeros(n - 1)
    for _ in range(steps):
        for i in range(n - 1):
            F[i] = flux(u[i], u[i + 1])
        u[1:-1] = u[1:-1] - dt * (F[1:] - F[:-1])
    return np.sum(u * u)


def burgers_pointwise(u0, steps=3, dt=0.05):
    u = u0.copy()
    n = u.shape[0]
    for _ in range(steps):
        new = u.copy()
        for i in range(1, n - 1):
            new[i] = u[i] - dt * (helpers_mod.flux(u[i], u[i + 1]) - helpers_mod.flux(u[i - 1], u[i]))
        u = new.copy()
    return np.sum(u * u)


def helper_in_branches(x, y):
    if x > 0.0:
        z = damped(x, c=y)
    elif x > -1.0:
        z = sq(x) * y
    else:
        z = smooth_abs(x * y)
    return z + sq(y)


def helper_in_loop_with_branch(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s = s + sq(x[i]) * w
        else:
            s = s + smooth_abs(x[i], eps=0.1) * w
    return s


def helper_decides_loop_exit(x):
    total = 0.0
    for k in range(1, 20):
        term = damped(x, k=0.1 * k)
        if abs(term) < 1e-3:
            break
        total = total + term / k
    return total


# -- helpers that loop, mutate local arrays, return tuples
def laplacian(u):
    out = np.zeros_like(u)
    out[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
    return out


def filled_by_loop(x, n):
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i % x.shape[0]] * (i + 1.0)
    return out


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def moments(x):
    m = np.mean(x)
    v = np.mean((x - m) ** 2)
    return m, v


def scale_in_place(u, c):
    """A helper that mutates its argument (common in legacy code) and returns a reduction."""
    u *= c
    return np.sum(u)


def helper_mutates_argument(u0, c):
    u = u0.copy()
    s = scale_in_place(u, c)
    return s


def helper_mutates_parameter(u0, c):
    """The helper scales the caller's own argument in place (the gradient must not)."""
    s = scale_in_place(u0, c)
    return s * c


def set_boundary(u, value):
    u[0] = value
    u[-1] = value
    return u[1] * value


def helper_sets_boundary_of_argument(u0, c):
    u = u0.copy()
    s = set_boundary(u, c)
    return s * np.sum(u * u)


def overwrite_first(v, c):
    v[0] = c
    return v


def helper_returns_its_mutated_argument(x, c):
    u = x * 1.0
    y = overwrite_first(u, c)
    return np.sum(y * u)


def apply_bc(u, left):
    u[0] = left
    u[-1] = 0.0
    return u


def heat_with_boundary_helper(u0, k, left):
    u = u0.copy()
    for _ in range(3):
        u[1:-1] = u[1:-1] + k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = apply_bc(u, left)
    return np.sum(u * u)


def set_ends(u, left, right):
    """Boundary conditions in place, returning nothing: the legacy style."""
    u[0] = left
    u[-1] = right


def heat_with_bc_statement(u0, k, left):
    u = u0.copy()
    for _ in range(3):
        set_ends(u, left, -left)
        u[1:-1] = u[1:-1] + k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def relax_interior(v, w):
    """Modifies (a view passed as) its argument and also reads it."""
    v *= w
    v += 0.1 * v * v


def relax_view_of_state(u0, w):
    u = u0 * 1.0
    relax_interior(u[1:-1], w)
    return np.sum(np.sin(u))


def scale_then_set(u, c):
    """Passes its own parameter on to helpers that modify it: it modifies it too."""
    s = scale_in_place(u, c)
    set_ends(u, s, c)
    return s


def two_levels_of_mutation(u0, c):
    u = u0.copy()
    total = scale_then_set(u, c)
    return total * np.sum(u ** 3)


def copies_before_modifying(u, c):
    """Rebinds the name to a copy first: the caller's array is not modified."""
    u = u.copy()
    u[0] = c
    return np.sum(u * u)


def caller_keeps_its_array(u0, c):
    u = u0 * 2.0
    a = copies_before_modifying(u, c)
    return a + np.sum(u * c)


def keyword_mutating_call(u0, c):
    u = u0 * 1.0
    s = scale_in_place(c=c, u=u)
    return s + np.sum(u * u0)


def modifies_in_branch(u, c):
    if c > 0.0:
        u[0] = c * u[0]
    else:
        u *= c
    return 0.0


def mutation_in_branch_and_loop(u0, c):
    u = u0 * 1.0
    for i in range(3):
        modifies_in_branch(u, c - i)
    return np.sum(u ** 2)


class Integrator:
    """A parameter object whose method advances a state array in place."""

    def __init__(self, dt):
        self.dt = dt

    def advance(self, u, k):
        u[1:-1] = u[1:-1] + self.dt * k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        return np.sum(u)


def method_modifies_argument_with(integ, u0, k):
    u = u0 * 1.0
    mass = 0.0
    for _ in range(2):
        mass = mass + integ.advance(u, k)
    return mass + np.sum(u * u)


def laplacian_filled(u):
    """Allocate, fill the interior in place, return: the commonest helper shape."""
    r = np.zeros_like(u)
    r[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
    return r


def adams_bashforth2(u0, dt):
    u = u0.copy()
    f_prev = laplacian_filled(u)
    for _ in range(4):
        f = laplacian_filled(u)
        u = u + dt * (1.5 * f - 0.5 * f_prev)
        f_prev = f
    return np.sum(u ** 2)


def three_level_scheme(u0):
    """Leapfrog-like: the previous level is carried through the loop."""
    prev = u0
    cur = 1.5 * u0
    for _ in range(3):
        nxt = np.concatenate(([0.0], cur[1:] - prev[:-1]))
        prev = cur
        cur = nxt
    return np.sum(cur ** 2)


def accumulate_square(x):
    s = 0.0
    s += x * x
    return s


def scalar_accumulator_helper(x, y):
    """An inlined helper's augmented float local stays a float."""
    return accumulate_square(x) * 3.0 + accumulate_square(y) * x


def doubled(u):
    r = u * 1.0
    r += u
    return r


def augmented_array_result(u, c):
    a = doubled(u)
    b = a
    return np.sum(b * u * c)


def bump(x, d):
    """Rebinds its scalar parameter: the caller's variable must not change."""
    x += d
    t = x * x
    return t


def scalar_param_rebound(x, d):
    t = bump(x, d) + x
    return t * bump(t, x)


def shift_window(u, k):
    """Returns a view of its argument (not modified)."""
    return u[k:]


def view_result_in_caller(u0, c):
    u = u0 * c
    w = shift_window(u, 1)
    return np.sum(w * w) + np.sum(shift_window(w, 1) * c)


def diffuse(u0, kappa, steps=4):
    u = u0.copy()
    for _ in range(steps):
        u = u + kappa * laplacian(u)
    return np.sum(u ** 2)


def uses_filled_helper(x, w):
    y = filled_by_loop(x, 5)
    return np.sum(np.sin(y) * w)


def uses_horner(coeffs, x):
    return horner(coeffs, x) ** 2 + horner(coeffs, 0.5 * x)


def uses_moments(x):
    m, v = moments(x)
    return m * m + v


def moments_in_loop(X):
    s = 0.0
    for row in X:
        m, v = moments(row)
        s = s + m * v
    return s


# -- several levels deep: loss -> simulate -> step -> rhs
def oscillator_rhs(state, omega):
    return np.array([state[1], -omega * omega * state[0] - 0.1 * state[1]])


def leapfrog_step(state, omega, h):
    return state + h * oscillator_rhs(state + 0.5 * h * oscillator_rhs(state, omega), omega)


def simulate(state0, omega, steps):
    s = state0.copy()
    for _ in range(steps):
        s = leapfrog_step(s, omega, DT * 10.0)
    return s


def deep_loss(state0, omega, target):
    final = simulate(state0, omega, 6)
    return np.sum((final - target) ** 2)


def deep_scalar_chain(x, y):
    return level1(x, y) * x


def level1(x, y):
    return level2(x * y, y) + x


def level2(a, b):
    return level3(a + b) * b


def level3(c):
    return math.sin(c) + sq(c)


# -- recursion with data-independent depth
def power(x, n):
    if n == 0:
        return 1.0
    if n % 2 == 0:
        half = power(x, n // 2)
        return half * half
    return x * power(x, n - 1)


def uses_power(x, y):
    return power(x, 5) + power(y, 2) * power(x, 3)


def tree_sum(x, depth):
    if depth == 0:
        return np.sum(x * x)
    half = x.shape[0] // 2
    return tree_sum(x[:half], depth - 1) + 2.0 * tree_sum(x[half:], depth - 1)


def uses_tree_sum(x):
    return tree_sum(x, 3)


def factorial_like(x, n):
    if n <= 1:
        return x
    return (x + n) * factorial_like(x, n - 1)


# ============================================== closures and module constants
def make_decay(rate):
    def decay(y0, steps):
        y = y0
        for _ in range(steps):
            y = y - DT * rate * y + DT * sq(y) * 0.1
        return y
    return decay


decay_fast = make_decay(3.0)
decay_slow = make_decay(0.5)


def make_model(scale, offset):
    def model(x, w):
        return np.sum((scale * np.tanh(w * x) + offset) ** 2)
    return model


tanh_model = make_model(1.7, -0.3)


def explicit_euler(y, k):
    """Module constant DT read inside a helper."""
    return y + DT * rhs(y, k)


def integrate_with_constant(y0, k):
    y = y0
    for _ in range(10):
        y = explicit_euler(y, k)
    return np.sum(y * y)


def weighted_by_global_tuple(x):
    return WEIGHTS[0] * sq(x) + WEIGHTS[1] * x + WEIGHTS[2]


def uses_global_read_in_other_module(y):
    z = helpers_mod.decay_rhs(y)
    return np.sum(z * y)


# ================================================================ objects
class Spring:
    """A plain object holding parameters."""

    def __init__(self, k, c, name="spring"):
        self.k = k
        self.c = c
        self.name = name

    def force(self, x):
        return -self.k * x - self.c * x ** 3

    def potential(self, x):
        return 0.5 * self.k * x * x + 0.25 * self.c * x ** 4

    def step(self, x, v, h):
        v = v + h * self.force(x)
        return x + h * v, v


@dataclass
class Params:
    k: float
    w: np.ndarray
    n: int = 3
    label: str = "p"

    def predict(self, x):
        return self.k * np.tanh(self.w * x)


@dataclass
class Inner:
    a: float
    b: np.ndarray


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray


def spring_energy(spring, x):
    return spring.potential(x) + spring.force(x) * x


def spring_trajectory(spring, x0, v0):
    x, v = x0, v0
    for _ in range(10):
        v = v + 0.05 * spring.force(x)
        x = x + 0.05 * v
    return x * x + v * v


def spring_symplectic(spring, x0, v0):
    x, v = x0, v0
    for _ in range(8):
        x, v = spring.step(x, v, 0.1)
    return x * x + 0.5 * v * v


def params_predict_loss(params, x, y):
    pred = params.predict(x)
    return np.sum((pred - y) ** 2)


def params_loss(params, x):
    s = 0.0
    for i in range(params.n):
        s = s + params.k * np.sum(params.w * x ** i)
    return s * s


def dict_loss(p, x):
    return np.sum((p["a"] * x + p["b"]) ** 2) + p["c"] * np.sum(p["w"] * x)


def tuple_loss(p, x):
    a, w = p
    return np.sum(np.sin(a * x) * w)


def list_loss(p, x):
    return p[0] * np.sum(x * p[1]) + p[2] ** 2


def mlp_loss(weights, x):
    h = x
    for W in weights:
        h = np.tanh(W @ h)
    return np.sum(h * h)


def _dict_term(p, x):
    return p["a"] * np.sum(p["w"] * x)


def dict_passed_to_helper_in_loop(p, x):
    s = 0.0
    for i in range(3):
        s = s + _dict_term(p, x * (i + 1.0)) ** 2
    return s


def _layer(W, h):
    return np.tanh(W @ h)


def layers_through_helper(weights, x):
    h = x
    for W in weights:
        h = _layer(W, h)
    return np.sum(h * h)


def _penalty(p, x):
    return p.k * np.sum(p.w * p.w) * x[0]


def struct_passed_to_helper(p, x):
    return _penalty(p, x) + np.sum(p.predict(x))


def dict_of_tuple_loss(p, x):
    a, b = p["t"]
    return a * np.sum(b) * x + p["s"] * x * x


def dict_of_dataclass_loss(p, x):
    s = p["spring"]
    return s.potential(x - p["x0"])


def tuple_of_dataclasses_loss(p, x):
    first, second = p
    return first.a * np.sum(first.b * x) + second.a * np.sum(np.exp(second.b * x))


def gain_times(u):
    return GAIN * u


def caller_shadows_global(x, GAIN):
    """The helper's GAIN is the module constant, not the caller's parameter."""
    return np.sum(gain_times(x) * GAIN)


def poly_bundles(ds, x):
    """Coefficient tuples of different lengths in a list of dicts."""
    tot = 0.0
    for d in ds:
        for k in range(len(d["c"])):
            tot = tot + d["c"][k] * x ** k
    return tot


def _recur_dict(p, x, n):
    if n == 0:
        return x
    return _recur_dict(p, p["k"] * np.sin(x), n - 1)


def recursive_dict_helper(p, x):
    return np.sum(_recur_dict(p, x, 3))


def _split(p):
    return p["a"], p["b"] * 2.0


def helper_splits_dict(p, x):
    a, b = _split(p)
    return np.sum(a * x + b)


@dataclass
class Normalised:
    """A constructor that normalises and validates: gradients must not go through it."""
    w: np.ndarray
    k: float

    def __post_init__(self):
        if self.k <= 0:
            raise ValueError("k must be positive")
        self.w = self.w / np.sum(self.w)


def normalised_loss(m, x):
    return np.sum(m.w * x * x) * m.k


class Pair(NamedTuple):
    a: float
    v: np.ndarray


def named_tuple_loss(p, x):
    return p[0] * np.sum(p[1] * x)


def dict_layers_loss(layers, x):
    """A list of dicts of arrays: each layer's weights under names."""
    h = x
    for layer in layers:
        h = np.tanh(layer["W"] @ h + layer["b"])
    return np.sum(h * h)


def _apply_layer(layer, h):
    return np.tanh(layer.W @ h + layer.b)


def dataclass_layers_through_helper(layers, x):
    h = x
    for layer in layers:
        h = _apply_layer(layer, h)
    return np.sum(h ** 2)


@dataclass
class Model:
    spring: Spring
    offsets: tuple
    scale: float


def nested_dataclass_loss(m, x):
    lo, hi = m.offsets
    return m.scale * m.spring.potential(x - lo) + m.spring.k * hi


def object_loss(spring, x):
    return spring.potential(x) ** 2 + spring.k * spring.c


def small_dataclass_loss(p, x):
    return p.a * np.sum(np.exp(p.b * x))


# ================================================================= custom rules
adjointc.defvjp(special.i0, "x", x="g * special.i1(x)", namespace={"special": special})


def besseli0_loss(x):
    return np.sum(special.i0(x) * x)


def besseli0_scalar(x, y):
    return special.i0(x * y) + x


def my_solve(A, b):
    """A user's own solver through LU factors, with a hand-written adjoint (below)."""
    lu, piv = scipy.linalg.lu_factor(A)
    return scipy.linalg.lu_solve((lu, piv), b)


adjointc.defvjp(my_solve, "A, b",
                A="-np.outer(np.linalg.solve(A.T, g), ans)",
                b="np.linalg.solve(A.T, g)")


def solve_loss(A, b):
    x = my_solve(A, b)
    return np.sum(x * x) + x[0]


def _jitter(x):
    """A perturbation adjointc must treat as a constant (e.g. a noise draw)."""
    return 0.1 * np.sin(3.0 * x)


adjointc.nondiff(_jitter)


def noisy_loss(x, w):
    y = x + _jitter(x)
    return np.sum((y * w) ** 2)


def _noisy_energy(x):
    return np.sum((x + _jitter(x)) ** 2)


def nondiff_inside_helper(x):
    return _noisy_energy(2.0 * x)


def noisy_loss_frozen(x, w, noise):
    """Reference for noisy_loss: the jitter as an input (held fixed by finite differences)."""
    y = x + noise
    return np.sum((y * w) ** 2)


def _diagnostic(x):
    return float(np.max(np.abs(x)))


adjointc.nondiff(_diagnostic)


def loss_with_diagnostics(x, k):
    y = np.tanh(k * x)
    peak = _diagnostic(y)
    print("calls.loss_with_diagnostics: peak", peak)
    return np.sum(y * y) + 0.0 * peak


# ==================================================== NumPy breadth in programs
def linear_algebra(A, b):
    x = np.linalg.solve(A, b)
    Ai = np.linalg.inv(A)
    return np.sum(x * x) + np.trace(Ai) + np.linalg.det(A) + np.linalg.norm(b)


def logdet_loss(A):
    S = A @ A.T + np.eye(A.shape[0])
    sign, logdet = np.linalg.slogdet(S)
    return sign * logdet + np.sum(np.diag(S))


def cumulative(x):
    c = np.cumsum(x)
    p = np.cumprod(1.0 + 0.1 * x)
    d = np.diff(x * x)
    return np.sum(c * c) + np.sum(p) + np.sum(d * d)


def sorted_weights(x, w):
    s = np.sort(x)
    return np.sum(s * w)


def interp_loss(fp, x):
    xp = np.linspace(0.0, 1.0, fp.shape[0])
    return np.sum(np.interp(x, xp, fp) ** 2)


def elementwise_more(x, y):
    a = np.exp2(x) + np.log2(1.0 + x * x)
    b = np.sinc(x) * np.logaddexp(x, y)
    return np.sum(a * b)


def triangular_parts(M):
    L = np.tril(M)
    U = np.triu(M, 1)
    return np.sum(L * L) + np.sum(U * np.flip(M, 0)) + np.trace(M @ L)


def shifted(u):
    r = np.roll(u, 1)
    p = np.pad(u, 2)
    return np.sum(u * r) + np.sum(p[1:] * p[:-1] * 0.5) + np.sum(np.flip(u) * u)


def tiled(x, w):
    t = np.tile(x, 3)
    r = np.repeat(x, 2)
    return np.sum(t * w) + np.sum(r * r)


def broadcasting_shapes(x, M):
    b = np.broadcast_to(x, M.shape)
    e = np.expand_dims(x, 0)
    s = np.squeeze(e, axis=0)
    return np.sum(b * M) + np.sum(e * e) + np.sum(s ** 3)


def take_and_einsum(A, B, c):
    t = np.take(c, np.array([2, 0, 1, 2]))
    e = np.einsum("ij,jk,k->i", A, B, c)
    return np.sum(e * e) + np.sum(t * t)


def nondiff_ops(x):
    y = np.floor(x) * x + np.round(x) * x ** 2
    z = np.sign(x) * x
    return np.sum(y + z) + x[np.argmax(x)] ** 2


def only_nondiff(x):
    """Every path to the output goes through a piecewise-constant function: gradient exactly 0."""
    k = np.argmax(x)
    return np.sum(np.floor(x) * np.sign(x)) + np.round(x[k]) + sq(np.sign(x[0]))


def linalg_in_helper_loop(A, b):
    x = b.copy()
    for _ in range(3):
        x = my_solve(A, x) + 0.1 * b
    return np.sum(x ** 2)


# ======================================== errors (the marked line is reported)
def log_gamma_without_rule(x):
    y = x * x + 1.0
    z = special.gammaln(y)  # <- unsupported
    return z * x


def fmean_without_rule(x, y):
    m = statistics.fmean([x, y])  # <- unsupported
    return m * m


def _log_beta(a, b):
    s = a + b
    return special.gammaln(a) + special.gammaln(b) - special.gammaln(s)  # <- unsupported


def no_rule_inside_helper(a, b):
    return _log_beta(a * a + 1.0, b) * 2.0


def helper_with_unsupported_syntax(x):
    return helper_with_lambda(x) + 1.0


def module_helper_with_unsupported_syntax(x):
    return helpers_mod.helper_with_lambda(x * 2.0)


def modify_and_rebind(u, c):
    u[0] = c  # <- unsupported
    u = u * 2.0
    return np.sum(u)


def calls_modify_and_rebind(u0, c):
    u = u0 * 1.0
    return modify_and_rebind(u, c)


def interior_view(u):
    return u[1:-1]


def view_then_modify(u0, c):
    u = u0 * 1.0
    inner = interior_view(u)  # <- unsupported
    u[2] = c
    return np.sum(inner * inner)


def same_array_twice(u0, c):
    u = u0 * 1.0
    s = add_into(u, u, c)  # <- unsupported
    return s


def add_into(out, a, c):
    for _ in range(2):  # (a loop: called, not inlined)
        out += c * a
    return np.sum(out)


def set_first_read_other(out, v, c):
    out[0] = c
    return np.sum(v * v)


def view_of_modified_argument(u0, c):
    """`u[:2]` sees the helper's write into `u`."""
    u = u0 * 1.0
    s = set_first_read_other(u, u[:2], c)  # <- unsupported
    return s + np.sum(u)


def head3(u):
    return u[:3]


def modifies_viewing_result(u0, c):
    u = u0 * 1.0
    v = head3(u)  # <- unsupported
    v[0] = c
    return np.sum(u * u)


def modifies_field_through_helper(p, c):
    s = scale_in_place(p.w, c)  # <- unsupported
    return s + np.sum(p.w)


def modifies_field_alias(p, c):
    v = p.w  # <- unsupported
    v[0] = c
    return np.sum(p.w * p.w)


def modifies_chained_view(u0, w):
    u = u0 * 1.0
    relax_interior(u[1:][::2], w)  # <- unsupported
    return np.sum(u * u)


def appends_then_modifies(x, c):
    buf = np.zeros(x.shape[0])
    out = []
    for i in range(2):
        set_ends(buf, c + i, c)
        out.append(buf)  # <- unsupported
    return np.sum(np.stack(out) * x)


def set_key(p, c):
    p["a"] = c  # <- unsupported
    return c


def modifies_dict_argument(x, p, c):
    set_key(p, c)
    return p["a"] * x


def mutation_visible_through_alias(u0, c):
    """`v` is the same array as `u`: the helper's change shows through both."""
    u = u0 * 1.0
    v = u  # <- unsupported
    set_ends(u, c, c * c)
    return np.sum(v * u0)


def read_before_and_after(u0, c):
    """`u[1:]` is read before the call on the same line, and used after it."""
    u = u0 * 1.0
    y = np.sum(u[1:] * scale_in_place(u, c))  # <- unsupported
    return y + np.sum(u)


def modify_and_return(p):
    p[0] -= 0.5
    return p


def returned_alias_modified_later(x, a):
    """`v = h(u)` returns the u it modified: v is u, so the later modification of u shows
    through v (refused: adjointc cannot follow an in-place update through an alias)."""
    u = x * 2.0
    v = modify_and_return(u)  # <- unsupported
    for _ in range(2):
        a = a + np.sum(v)
        modify_and_return(u)
    return a


# (function, args, error class, the function holding the line marked `# <- unsupported`)
ERROR_CASES = [
    (log_gamma_without_rule, (1.3,), adjointc.NoAdjointRule, log_gamma_without_rule),
    (fmean_without_rule, (1.3, 0.2), adjointc.NoAdjointRule, fmean_without_rule),
    (no_rule_inside_helper, (1.3, 0.7), adjointc.NoAdjointRule, _log_beta),
    (helper_with_unsupported_syntax, (0.4,), adjointc.UnsupportedSyntax, helper_with_lambda),
    (module_helper_with_unsupported_syntax, (0.4,), adjointc.UnsupportedSyntax, helper_with_lambda),
    (calls_modify_and_rebind, (np.ones(3), 0.5), adjointc.UnsupportedSyntax, modify_and_rebind),
    (view_then_modify, (np.ones(4), 0.5), adjointc.AliasingError, view_then_modify),
    (same_array_twice, (np.ones(3), 0.5), adjointc.AliasingError, same_array_twice),
    (modifies_dict_argument, (0.3, {"a": 1.0}, 0.5), adjointc.UnsupportedSyntax, set_key),
    (read_before_and_after, (np.ones(3), 0.5), adjointc.AliasingError, read_before_and_after),
    (view_of_modified_argument, (np.ones(3), 0.5), adjointc.AliasingError, view_of_modified_argument),
    (modifies_viewing_result, (np.ones(4), 0.5), adjointc.AliasingError, modifies_viewing_result),
    (modifies_field_through_helper, (Params(1.0, np.ones(3)), 0.5), adjointc.AliasingError,
     modifies_field_through_helper),
    (modifies_field_alias, (Params(1.0, np.ones(3)), 0.5), adjointc.AliasingError, modifies_field_alias),
    (modifies_chained_view, (np.ones(5), 0.5), adjointc.AliasingError, modifies_chained_view),
    (appends_then_modifies, (np.ones(3), 0.5), adjointc.AliasingError, appends_then_modifies),
    (returned_alias_modified_later, (np.ones(3), 0.5), adjointc.AliasingError, returned_alias_modified_later),
    (mutation_visible_through_alias, (np.ones(3), 0.5), adjointc.AliasingError, mutation_visible_through_alias),
]


# ================================================================== cases
def _spd(n):
    M = _n(n, n)
    return M @ M.T / n + np.eye(n) * 2.0


def _pairs(count, lo1, hi1, lo2, hi2):
    return [(_u(lo1, hi1), _u(lo2, hi2)) for _ in range(count)]


CASES = [
    # same-module helpers, keywords, defaults, tuples
    Case(calls_helper, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(calls_helper_twice_nested, (0, 1), _pairs(3, -1.5, 1.5, -1.5, 1.5), sympy=True),
    Case(calls_with_keywords, (0, 1), _pairs(3, -1, 1, -1, 1), sympy=True),
    Case(calls_with_positional_and_keyword, (0, 1), _pairs(3, -2, 2, -2, 2), sympy=True),
    Case(calls_with_literal_default, 0, [(_u(-2, 2),), (_u(-2, 2),)], sympy=True),
    Case(unpacks_tuple_result, (0, 1), _pairs(3, 0.5, 2, 0.5, 2), sympy=True),
    Case(tuple_result_indexed, (0, 1), _pairs(3, 0.5, 2, -2, -0.5), sympy=True),
    Case(keyword_with_expression, (0, 1), _pairs(3, -1, 1, -1, 1), sympy=True),
    # imported helpers
    Case(imported_by_name, (0, 1), [(_n(5), _u(0.5, 2)), (_n(3), _u(0.5, 2)), (_u(-1, 1), _u(0.5, 2))]),
    Case(imported_via_module, (0, 1), [(_n(4), _u(0.5, 2)), (_n(2, 3), _u(0.5, 2))]),
    Case(imported_module_attribute_and_default, (0, 1), [(_n(4), _u(0.5, 2)), (_n(6), _u(0.1, 1))]),
    Case(imported_scalar_gaussian, (0, 1, 2), [(_u(-1, 1), _u(-1, 1), _u(0.5, 2)),
                                               (_u(-1, 1), _u(-1, 1), _u(0.5, 2))], sympy=True),
    # helpers in loops and branches
    Case(rk4_integrate, (0, 1), [(_n(4), _u(0.5, 2)), A(_n(3), _u(0.1, 1), steps=3)]),
    Case(rk4_scalar, (0, 1), [(_u(-1, 1), _u(0.5, 2)), (_u(1, 2), _u(0.1, 1), 2)]),
    Case(burgers_stencil, 0, [(np.sin(np.linspace(0, 3, 7)) + 0.1,), (_n(5), 2, 0.02)]),
    Case(burgers_pointwise, 0, [(np.cos(np.linspace(0, 3, 6)) + 0.2,), (_n(5), 2, 0.02)]),
    Case(helper_in_branches, (0, 1), [(_u(0.2, 2), _u(-1, 1)), (_u(-0.9, -0.1), _u(-1, 1)),
                                      (_u(-3, -1.2), _u(0.5, 1))]),
    Case(helper_in_loop_with_branch, (0, 1), [(np.array([0.5, -0.4, 1.2, -2.0]), _u(0.5, 2)),
                                              (np.array([-0.3, 0.8]), _u(-1, 1))]),
    Case(helper_decides_loop_exit, 0, [(_u(0.2, 1),), (_u(2, 4),)]),
    # helpers that loop, mutate local arrays, return tuples
    Case(helper_mutates_argument, (0, 1), [(_n(3), 1.5), (_n(4), -0.7)]),
    Case(helper_mutates_parameter, (0, 1), [(_n(3), 1.5), (_n(4), -0.7)]),
    Case(helper_sets_boundary_of_argument, (0, 1), [(_n(3), 1.5), (_n(5), -0.7)]),
    Case(helper_returns_its_mutated_argument, (0, 1), [(_n(3), 1.5), (_n(4), -0.7)]),
    Case(heat_with_boundary_helper, (0, 1, 2), [(_n(6), 0.2, 0.3), (_n(4), 0.1, -1.0)]),
    Case(scalar_accumulator_helper, (0, 1), _pairs(3, -1.5, 1.5, -1.5, 1.5), sympy=True),
    Case(augmented_array_result, (0, 1), [(_n(4), 0.7), (_n(2), -1.2)]),
    Case(adams_bashforth2, (0, 1), [(_n(6), 0.1), (_n(4), 0.05)]),
    Case(three_level_scheme, 0, [(_n(4),), (_n(6),)]),
    Case(caller_shadows_global, (0, 1), [(_n(4), 0.8), (_n(2), -1.3)]),
    Case(scalar_param_rebound, (0, 1), _pairs(3, -1, 1, -1, 1), sympy=True),
    Case(view_result_in_caller, (0, 1), [(_n(5), 0.7), (_n(3), -1.3)]),
    Case(heat_with_bc_statement, (0, 1, 2), [(_n(6), 0.2, 0.3), (_n(4), 0.1, -1.0)]),
    Case(relax_view_of_state, (0, 1), [(_n(5), 0.7), (_n(4), _n(2))]),
    Case(two_levels_of_mutation, (0, 1), [(_n(4), 0.8), (_n(3), -1.2)]),
    Case(caller_keeps_its_array, (0, 1), [(_n(4), 0.8), (_n(3), -1.2)]),
    Case(keyword_mutating_call, (0, 1), [(_n(4), 0.8), (_n(3), -1.2)]),
    Case(mutation_in_branch_and_loop, (0, 1), [(_n(4), 0.5), (_n(3), 2.5), (_n(3), 1.5)]),
    Case(method_modifies_argument_with, (1, 2), [(Integrator(0.1), _n(5), 0.8), (Integrator(0.3), _n(4), 0.3)]),
    Case(diffuse, (0, 1), [(_n(6), 0.2), A(_n(8), 0.1, steps=2)]),
    Case(uses_filled_helper, (0, 1), [(_n(3), _n(5)), (_n(5), _n(5))]),
    Case(uses_horner, (0, 1), [(_n(4), _u(-1, 1)), (_n(2), _u(-2, 2))]),
    Case(uses_moments, 0, [(_n(5),), (_n(2),)]),
    Case(moments_in_loop, 0, [(_n(3, 4),), (_n(2, 2),)]),
    # several levels deep
    Case(deep_loss, (0, 1, 2), [(_n(2), _u(0.5, 2), _n(2)), (_n(2), _u(1, 3), _n(2))]),
    Case(deep_scalar_chain, (0, 1), _pairs(3, -1, 1, -1, 1), sympy=True),
    # recursion
    Case(uses_power, (0, 1), _pairs(3, -1.5, 1.5, -1.5, 1.5), sympy=True),
    Case(tree_sum, 0, [(_n(8), 3), (_n(5), 2)]),
    Case(uses_tree_sum, 0, [(_n(8),), (_n(11),)]),
    Case(factorial_like, 0, [(_u(-1, 1), 4), (_u(1, 2), 6)]),
    # closures and module constants
    Case(decay_fast, 0, [(_u(0.5, 2), 10), (_u(-1, 1), 3)]),
    Case(decay_slow, 0, [(_u(0.5, 2), 10), (_u(-1, 1), 3)]),
    Case(tanh_model, (0, 1), [(_n(4), _n(4)), (_n(3), _u(-1, 1))]),
    Case(integrate_with_constant, (0, 1), [(_n(4), _u(0.5, 2)), (_u(-1, 1), _u(0.5, 2))]),
    Case(weighted_by_global_tuple, 0, [(_u(-2, 2),), (_u(-2, 2),)], sympy=True),
    Case(uses_global_read_in_other_module, 0, [(_n(4),), (_n(2, 2),)]),
    # methods of parameter objects, differentiated w.r.t. the other inputs
    Case(spring_energy, 1, [(Spring(2.0, 0.3), _u(-1, 1)), (Spring(0.5, 1.5), _u(-2, 2))]),
    Case(spring_trajectory, (1, 2), [(Spring(2.0, 0.3), _u(-1, 1), _u(-1, 1)),
                                     (Spring(0.5, 1.5), _u(-1, 1), _u(-1, 1))]),
    Case(spring_symplectic, (1, 2), [(Spring(2.0, 0.3), _u(-1, 1), _u(-1, 1)),
                                     (Spring(0.5, 1.5), _u(-1, 1), _u(-1, 1))]),
    Case(params_predict_loss, (1, 2), [(Params(1.3, _n(4)), _n(4), _n(4)),
                                       (Params(-0.4, _n(2), n=2), _n(2), _n(2))]),
    # custom rules
    Case(besseli0_loss, 0, [(_n(4),), (np.abs(_n(3)) + 1.0,)]),
    Case(besseli0_scalar, (0, 1), _pairs(3, -1.5, 1.5, -1.5, 1.5)),
    Case(solve_loss, (0, 1), [(_spd(3), _n(3)), (_spd(4) + 0.3 * _n(4, 4), _n(4))]),
    Case(linalg_in_helper_loop, (0, 1), [(_spd(3), _n(3)), (_spd(2), _n(2))]),
    Case(loss_with_diagnostics, (0, 1), [(_n(4), _u(0.5, 2)), (_n(3), _u(-1, 1))]),
    # NumPy breadth
    Case(linear_algebra, (0, 1), [(_spd(3), _n(3)), (_spd(4) + 0.2 * _n(4, 4), _n(4))]),
    Case(logdet_loss, 0, [(_n(3, 3),), (_n(2, 4),)]),
    Case(cumulative, 0, [(_n(5),), (_n(3),)]),
    Case(sorted_weights, (0, 1), [(_n(5), _n(5)), (_n(3), _n(3))]),
    Case(interp_loss, (0, 1), [(_n(5), np.array([0.05, 0.3, 0.61, 0.9])), (_n(3), np.array([0.2, 0.7]))]),
    Case(elementwise_more, (0, 1), [(_n(4), _n(4)), (_n(3), _n(3))]),
    Case(triangular_parts, 0, [(_n(3, 3),), (_n(4, 4),)]),
    Case(shifted, 0, [(_n(5),), (_n(3),)]),
    Case(tiled, (0, 1), [(_n(3), _n(9)), (_n(2), _n(6))]),
    Case(broadcasting_shapes, (0, 1), [(_n(3), _n(2, 3)), (_n(4), _n(3, 4))]),
    Case(take_and_einsum, (0, 1, 2), [(_n(2, 3), _n(3, 3), _n(3)), (_n(4, 3), _n(3, 3), _n(3))]),
    Case(nondiff_ops, 0, [(np.array([0.3, -1.7, 2.2, 0.8]),), (np.array([-0.6, 1.3, 0.1]),)]),
]


# ============================================ structures (checked leaf by leaf)


STRUCT_CASES = [
    Case(params_loss, "params", [(Params(0.7, _n(3), n=3, label="a"), _n(3)),
                                 (Params(-1.2, _n(2), n=2, label="b"), _n(2))]),
    Case(params_predict_loss, "params", [(Params(1.3, _n(4)), _n(4), _n(4)),
                                         (Params(-0.4, _n(2), n=2), _n(2), _n(2))]),
    Case(params_loss, ("params", "x"), [(Params(0.3, _n(4), n=2, label="c"), _n(4)),
                                        (Params(1.1, _n(2), n=4), _n(2))]),
    Case(object_loss, "spring", [(Spring(2.0, 0.3, name="s1"), _u(-1, 1)), (Spring(0.5, 1.5), _u(-2, 2))]),
    Case(spring_trajectory, "spring", [(Spring(2.0, 0.3), _u(-1, 1), _u(-1, 1)),
                                       (Spring(0.5, 1.5), _u(-1, 1), _u(-1, 1))]),
    Case(spring_symplectic, "spring", [(Spring(2.0, 0.3), _u(-1, 1), _u(-1, 1)),
                                       (Spring(0.5, 1.5, name="soft"), _u(-1, 1), _u(-1, 1))]),
    Case(struct_passed_to_helper, "p", [(Params(0.8, _n(3)), _n(3)), (Params(-0.5, _n(2), n=1), _n(2))]),
    Case(dict_loss, "p", [({"a": 0.5, "b": _n(3), "c": -1.0, "w": _n(3)}, _n(3)),
                          ({"a": -1.5, "b": _n(2), "c": 2.0, "w": _n(2)}, _n(2))]),
    Case(tuple_loss, "p", [((0.8, _n(4)), _n(4)), ((-1.1, _n(2)), _n(2))]),
    Case(list_loss, "p", [([0.8, _n(4), 1.5], _n(4)), ([-2.0, _n(2), 0.1], _n(2))]),
    Case(small_dataclass_loss, "p", [(Inner(0.5, _n(3)), _n(3)), (Inner(-0.2, _n(4)), _n(4))]),
    Case(mlp_loss, "weights", [([_n(3, 3), _n(2, 3)], _n(3)), ([_n(2, 4)], _n(4))]),
    Case(dict_passed_to_helper_in_loop, "p", [({"a": 0.5, "w": _n(2)}, _n(2)), ({"a": -1.3, "w": _n(4)}, _n(4))]),
    Case(layers_through_helper, "weights", [([_n(3, 2), _n(1, 3)], _n(2)), ([_n(2, 2)], _n(2))]),
    Case(mlp_loss, ("weights", "x"), [([_n(3, 2), _n(3, 3)], _n(2)), ([_n(1, 2)], _n(2))]),
    Case(dict_of_tuple_loss, "p", [({"t": (1.5, _n(2)), "s": 0.3}, 0.4), ({"t": (-0.5, _n(3)), "s": 1.0}, 1.2)]),
    Case(dict_of_dataclass_loss, "p", [({"spring": Spring(2.0, 0.3), "x0": 0.5}, 0.4),
                                       ({"spring": Spring(0.7, 1.0), "x0": -0.2}, 1.1)]),
    Case(tuple_of_dataclasses_loss, "p", [((Inner(0.5, _n(2)), Inner(1.5, _n(2))), _n(2)),
                                          ((Inner(-0.5, _n(3)), Inner(0.2, _n(3))), _n(3))]),
    Case(dict_layers_loss, "layers", [([{"W": _n(3, 2), "b": _n(3)}, {"W": _n(1, 3), "b": _n(1)}], _n(2)),
                                      ([{"W": _n(2, 2), "b": _n(2)}], _n(2))]),
    Case(dict_layers_loss, ("layers", "x"), [([{"W": _n(2, 3), "b": _n(2)}, {"W": _n(2, 2), "b": _n(2)}], _n(3)),
                                             ([{"W": _n(1, 2), "b": _n(1)}], _n(2))]),
    Case(dataclass_layers_through_helper, "layers", [([Layer(_n(3, 2), _n(3)), Layer(_n(2, 3), _n(2))], _n(2)),
                                                     ([Layer(_n(2, 2), _n(2))], _n(2))]),
    Case(poly_bundles, "ds", [([{"c": (0.5, 1.2)}, {"c": (0.1, 0.2, 0.3)}], 0.7),
                              ([{"c": (1.0,)}, {"c": (0.3, -0.4)}], -0.6)]),
    Case(recursive_dict_helper, ("p", "x"), [({"k": 0.8}, _n(3)), ({"k": -1.3}, _n(2))]),
    Case(helper_splits_dict, ("p", "x"), [({"a": _n(3), "b": 0.4}, _n(3)), ({"a": _n(2), "b": -1.0}, _n(2))]),
    Case(named_tuple_loss, "p", [(Pair(0.5, _n(3)), _n(3)), (Pair(-1.5, _n(2)), _n(2))]),
    Case(normalised_loss, "m", [(Normalised(np.array([1.0, 2.0, 3.0]), 0.5), _n(3)),
                                (Normalised(np.array([0.5, 0.25]), 2.0), _n(2))]),
    Case(nested_dataclass_loss, "m", [(Model(Spring(2.0, 0.3), (0.2, -0.4), 1.5), 0.7),
                                      (Model(Spring(0.6, 1.1, name="s"), (-0.1, 0.9), -0.5), 1.3)]),
    Case(nested_dataclass_loss, ("m", "x"), [(Model(Spring(1.0, 0.5), (0.3, 0.1), 2.0), -0.6),
                                             (Model(Spring(0.4, 0.2), (-0.3, 0.5), 0.7), 0.9)]),
]
