"""Loops: for over ranges, rows, enumerate and zip; while loops with counters and
data-dependent conditions; loop-carried state; break/continue; branches inside loops."""
import math

import numpy as np

from . import Case, samplers


def exp_taylor(x, n=12):
    term = 1.0
    total = 1.0
    for k in range(1, n):
        term = term * x / k
        total = total + term
    return total


def strided_range(x, start, stop, step):
    s = 0.0
    for k in range(start, stop, step):
        s = s + math.sin(k * x) / k
    return s


def reversed_range(x, n):
    p = 1.0
    for k in range(n, 0, -1):
        p = p * (x + k) / (k + 1.0)
    return p


def path_length(x, y):
    total = 0.0
    for i in range(x.shape[0] - 1):
        dx = x[i + 1] - x[i]
        dy = y[i + 1] - y[i]
        total = total + math.sqrt(dx * dx + dy * dy)
    return total


def nested_loops(A, w):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s = s + A[i, j] * w[j] * (i + 1)
    return s * s


def triangular_nested(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s += x[i] * x[j] / (1.0 + j)
    return s


def loop_over_rows(X, w):
    loss = 0.0
    for row in X:
        pred = np.dot(row, w)
        loss = loss + (pred - 1.0) ** 2
    return loss


def enumerate_weights(x):
    s = 0.0
    for i, v in enumerate(x):
        s += v * v * (i + 1)
    return s


def zip_pairs(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * math.exp(b)
    return s


def while_counter(x, n):
    i = 0
    y = x
    while i < n:
        y = 0.5 * y + math.sin(y)
        i += 1
    return y


def newton_sqrt(a):
    r = a
    while abs(r * r - a) > 1e-14 * a:
        r = 0.5 * (r + a / r)
    return r


def newton_cube_root_then_scale(a, c):
    r = 1.0 + a / 3.0
    it = 0
    while it < 50 and abs(r * r * r - a) > 1e-13 * a:
        r = r - (r * r * r - a) / (3.0 * r * r)
        it = it + 1
    return c * r + r * r


def interpolate_bisection(xs, ys, x):
    """Piecewise-linear interpolation; the interval is found by bisection."""
    lo = 0
    hi = xs.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] > x:
            hi = mid
        else:
            lo = mid
    t = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] * (1.0 - t) + ys[hi] * t


def logistic_map(x0, r, n):
    x = x0
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


def harmonic_oscillator(q0, p0, omega, dt, steps):
    q = q0
    p = p0
    for _ in range(steps):
        p = p - dt * omega * omega * q
        q = q + dt * p
    return q * q + p * p / (omega * omega)


def euler_decay(y0, k, steps=50):
    y = y0
    h = 1.0 / steps
    for _ in range(steps):
        y = y + h * (-k * y + math.sin(y))
    return y


def series_with_break(x):
    term = x
    total = 0.0
    for k in range(1, 200):
        total = total + term
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        if abs(term) < 1e-17:
            break
    return total


def skip_with_continue(x, n):
    s = 0.0
    for k in range(n):
        if k % 2 == 0:
            continue
        s = s + x ** k / k
    return s


def branches_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i]
        if v > 0.5:
            s = s + v * v
        elif v < -0.5:
            s = s - math.sin(v)
        else:
            s = s + 2.0 * v
    return s


def break_on_data(x, threshold):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
        if s > threshold:
            break
    return s


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def fixed_point_kepler(M, e):
    E = M
    dE = 1.0
    while abs(dE) > 1e-15:
        E_new = M + e * math.sin(E)
        dE = E_new - E
        E = E_new
    return E


def gradient_descent_steps(a, b, lr, steps):
    x = 0.0
    for _ in range(steps):
        g = 2.0 * a * (a * x - b)
        x = x - lr * g
    return x * x + a


def accumulate_arrays(X, w):
    acc = np.zeros(X.shape[1])
    for i in range(X.shape[0]):
        acc = acc + np.tanh(X[i] * w)
    return np.sum(acc * acc)


def running_max_loop(x):
    m = x[0]
    for i in range(1, x.shape[0]):
        m = max(m, x[i])
    return m * m


def nested_while_for(x, n):
    total = 0.0
    i = 0
    while i < n:
        for j in range(i + 1):
            total = total + x ** j / (j + 1.0)
        i = i + 1
    return total


def odd_powers_reassigned_index(x):
    s = 0.0
    for i in range(3):
        j = i * 2
        i = j + 1
        s = s + x ** i
    return s


def loop_index_shadows_variable(x):
    i = 10.0 * x
    for i in range(3):
        x = x * 1.5
    return i * x


_u, _n = samplers(__name__)


def thomas_solve(a, b, c, d):
    """Tridiagonal solve; back substitution with `reversed(range(...))`."""
    n = d.shape[0]
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        m = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / m
        dp[i] = (d[i] - a[i] * dp[i - 1]) / m
    x = np.zeros(n)
    x[n - 1] = dp[n - 1]
    for i in reversed(range(n - 1)):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return np.sum(x * x)


def horner_reversed(x, n=4):
    s = 0.0
    for i in reversed(range(1, n)):
        s = s * x + i
    return s


CASES = [
    Case(thomas_solve, (0, 1, 2, 3), [(np.array([0.0, 0.3, -0.2, 0.5]), np.array([4.0, 3.5, 4.2, 3.9]),
                                       np.array([0.4, -0.1, 0.6, 0.0]), np.array([1.0, -2.0, 0.5, 0.3])),
                                      (np.array([0.0, 0.1, 0.2]), np.array([3.0, 3.3, 2.9]),
                                       np.array([0.5, 0.2, 0.0]), np.array([0.7, 0.1, -1.2]))]),
    Case(horner_reversed, 0, [(0.7,), (-1.3, 6)]),
    Case(exp_taylor, 0, [(_u(-1, 1),), (_u(-2, 2), 20)]),
    Case(strided_range, 0, [(_u(-1, 1), 1, 10, 3), (_u(-1, 1), 2, 9, 2), (0.4, 5, 1, -1)]),
    Case(reversed_range, 0, [(_u(0, 1), 5), (_u(-0.5, 0.5), 3)]),
    Case(path_length, (0, 1), [(_n(5), _n(5)), (_n(3), _n(3))]),
    Case(nested_loops, (0, 1), [(_n(2, 3), _n(3)), (_n(3, 2), _n(2))]),
    Case(triangular_nested, 0, [(_n(4),), (_n(6),)]),
    Case(loop_over_rows, (0, 1), [(_n(4, 3), _n(3)), (_n(2, 2), _n(2))]),
    Case(enumerate_weights, 0, [(_n(4),), (_n(7),)]),
    Case(zip_pairs, (0, 1), [(_n(4), _n(4)), (_n(3), _n(5))]),
    Case(while_counter, 0, [(_u(-1, 1), 5), (_u(0, 2), 12)]),
    Case(newton_sqrt, 0, [(_u(0.5, 4),), (_u(10, 100),)], rtol=1e-6),
    Case(newton_cube_root_then_scale, (0, 1), [(_u(0.5, 4), _u(-1, 1)), (_u(5, 30), _u(-1, 1))], rtol=1e-6),
    Case(interpolate_bisection, ("ys", "x"), [(np.linspace(0, 1, 9), _n(9), 0.37),
                                              (np.array([0.0, 0.2, 0.5, 1.1, 2.0]), _n(5), 1.6)]),
    Case(logistic_map, (0, 1), [(_u(0.2, 0.8), _u(2.5, 3.2), 6), (_u(0.2, 0.8), _u(1.5, 2.5), 10)]),
    Case(harmonic_oscillator, (0, 1, 2, 3), [(1.0, 0.0, 2.0, 0.01, 20), (_u(-1, 1), _u(-1, 1), _u(0.5, 2), 0.05, 7)]),
    Case(euler_decay, (0, 1), [(_u(0, 2), _u(0, 2)), (_u(-1, 1), _u(0, 2), 10)]),
    Case(series_with_break, 0, [(_u(-1, 1),), (_u(1, 3),)]),
    Case(skip_with_continue, 0, [(_u(0.2, 1), 7), (_u(-1, -0.2), 10)]),
    Case(branches_in_loop, 0, [(np.array([0.9, -0.8, 0.1, 1.4, -0.2]),), (np.array([-1.2, 0.3, 0.7]),)]),
    Case(break_on_data, 0, [(np.array([0.5, 1.0, -1.5, 2.0, 0.3]), 3.0), (np.array([0.1, 0.2, 0.1]), 10.0)]),
    Case(horner, (0, 1), [(_n(4), _u(-1, 1)), (_n(6), _u(-2, 2))]),
    Case(fixed_point_kepler, (0, 1), [(_u(0, 3), _u(0, 0.5)), (_u(3, 6), _u(0, 0.3))], rtol=1e-6),
    Case(gradient_descent_steps, (0, 1, 2), [(_u(0.5, 1), _u(-1, 1), 0.1, 10), (_u(1, 2), _u(-1, 1), 0.05, 4)]),
    Case(accumulate_arrays, (0, 1), [(_n(3, 2), _n(2)), (_n(2, 4), _n(4))]),
    Case(running_max_loop, 0, [(np.array([0.3, 1.2, -0.5, 0.9]),), (np.array([-2.0, -0.4, -1.0]),)]),
    Case(odd_powers_reassigned_index, 0, [(_u(0.5, 1),), (_u(-1, -0.5),)]),
    Case(loop_index_shadows_variable, 0, [(_u(0.5, 1),), (_u(-1, -0.5),)]),
    Case(nested_while_for, 0, [(_u(0, 1), 3), (_u(-1, 0), 5)]),
]


# Nested helper functions (inlined where they are called; they may read the enclosing variables)
def nested_rhs_euler(x, k, n=6):
    def rhs(u):
        return -k * u + math.sin(u)

    def step(u, dt=0.1):
        v = u + dt * rhs(u)
        return v
    for _ in range(n):
        x = step(x)
    return x


def nested_flux_stencil(u0, c):
    def flux(u):
        f = np.zeros_like(u)
        for i in range(1, u.shape[0]):
            f[i] = c * (u[i] - u[i - 1])
        return f
    u = u0.copy()
    for _ in range(3):
        u = u - 0.1 * flux(u)
    return np.sum(u * u)


def nested_early_return(x):
    def clipped(t):
        if t > 1.0:
            return 1.0 + 0.1 * (t - 1.0)
        return t * t
    return clipped(x) + clipped(2.0 * x)


CASES += [
    Case(nested_rhs_euler, (0, 1), [(0.5, 0.3), (-1.2, 0.8)]),
    Case(nested_flux_stencil, (0, 1), [(_n(5), 0.4), (_n(7), -0.3)]),
    Case(nested_early_return, 0, [(0.3,), (0.8,), (1.4,)]),
]


# ---- `return` inside loops that sit inside ifs, and in consecutive loops (issue 9).
# The inputs of each case take every path (each return, and falling through); SymPy
# checks the path taken, finite differences its neighbourhood.
def return_in_loop_in_if(x, y):
    s = x * y
    if y > 0.0:
        for i in range(4):
            s = s * x + y
            if s > 3.0:
                return s * 2.0
    s = s + math.sin(x)
    return s * y


def return_in_loop_in_nested_ifs(x, y):
    s = x
    if x > 0.0:
        if y > 0.0:
            for i in range(5):
                s = s + y * s
                if s > 2.0:
                    return s * y
        s = s * 2.0
    return s + x


def return_in_loop_in_if_in_loop(x, y):
    s = x
    for i in range(3):
        if y > 0.0:
            for j in range(3):
                s = s * y + x
                if s > 4.0:
                    return s
        s = s + 1.0
    return s * 3.0


def return_in_while_in_if_with_continue_and_break(x, y):
    s = x
    k = 0
    if x > 0.5:
        while k < 5:
            k = k + 1
            if k % 2 == 0:
                continue
            s = s * y
            if s > 1.5:
                if y > 1.0:
                    return s * x
                break
    return s + y * x


def return_in_else_in_loop(x, y):
    s = y
    for i in range(4):
        if s < 2.0:
            s = s + x * y
        else:
            return s * s
    return s * x


def returns_in_loops_in_both_arms(x, y):
    s = x * 1.0
    if y > 1.0:
        for i in range(3):
            s = s * y
            if s > 2.0:
                return s
    else:
        for i in range(3):
            s = s + y
            if s > 1.5:
                return s * x
    return s + 1.0


def return_in_loop_in_elif(x, y):
    s = x
    if x > 0.0:
        for i in range(3):
            s = s * y
            if s > 1.0:
                return math.sin(s)
    elif x < -0.5:
        return x * y
    return s * s


def two_loops_with_returns(x, y):
    s = x
    for i in range(3):
        s = s * y
        if s > 2.0:
            return s + x
    t = s + y
    for j in range(3):
        t = t * x
        if t > 5.0:
            return t * s
    return t - s


def two_loops_with_returns_rebinding_parameters(x, y):
    for i in range(3):
        x = x * y
        if x > 2.0:
            return x
    for i in range(3):
        y = y * x
        if y > 2.0:
            return y
    return x + y


def two_whiles_with_returns(x, y):
    s = x
    k = 0
    while k < 4:
        k = k + 1
        s = s * y
        if s > 2.0:
            return s * x
    k = 0
    while k < 3:
        k = k + 1
        s = s + x * x
        if s > 3.0:
            return s * y
    return s


def two_loops_with_returns_in_a_loop(x, y):
    s = x
    for k in range(2):
        for i in range(3):
            s = s * y
            if s > 3.0:
                return s
        for j in range(2):
            s = s + x
            if s > 2.5:
                return s * x
        s = s * 0.5
    return s


def loops_with_return_break_and_continue(x, y):
    s = 0.0
    for i in range(6):
        if i == 1:
            continue
        s = s + x * y
        if s > 2.0:
            break
        if s < -1.0:
            return s * s
    t = s
    for j in range(3):
        t = t * x
        if t > 4.0:
            return t + s
        if t < -4.0:
            break
    return t * y


def nested_helper_returning_from_a_loop_in_an_if(x, y):
    def first_big(a, b):
        s = a
        if b > 0.0:
            for i in range(4):
                s = s * b + a
                if s > 2.0:
                    return s * 2.0
        return s - a
    return first_big(x, y) * x + first_big(y, x)


CASES += [
    Case(return_in_loop_in_if, (0, 1), [(0.9, 1.2), (0.9, -1.2), (0.3, 0.8), (1.1, 1.9)], sympy=True),
    Case(return_in_loop_in_nested_ifs, (0, 1), [(0.9, 1.2), (0.9, -1.2), (0.3, 0.8), (-0.7, 1.3)],
         sympy=True),
    Case(return_in_loop_in_if_in_loop, (0, 1), [(0.9, 1.2), (0.9, -1.2), (0.3, 0.8), (1.1, 1.9)], sympy=True),
    Case(return_in_while_in_if_with_continue_and_break, (0, 1),
         [(0.9, 1.2), (2.0, 0.9), (0.9, -1.2), (0.3, 0.8)], sympy=True),
    Case(return_in_else_in_loop, (0, 1), [(0.9, 1.2), (0.9, -1.2), (0.3, 0.8)], sympy=True),
    Case(returns_in_loops_in_both_arms, (0, 1), [(0.9, 1.2), (1.5, 0.55), (1.1, 1.9), (0.2, 0.3)],
         sympy=True),
    Case(return_in_loop_in_elif, (0, 1), [(0.9, 1.2), (1.5, 0.55), (-0.7, 1.3), (-0.3, 0.6)], sympy=True),
    Case(two_loops_with_returns, (0, 1), [(0.9, 1.2), (1.1, 1.9), (2.0, 0.5)], sympy=True),
    Case(two_loops_with_returns_rebinding_parameters, (0, 1), [(0.9, 1.2), (1.5, 0.55), (1.1, 1.9)],
         sympy=True),
    Case(two_whiles_with_returns, (0, 1), [(0.9, 1.2), (0.3, 0.8), (1.1, 1.9)], sympy=True),
    Case(two_loops_with_returns_in_a_loop, (0, 1), [(0.9, 1.2), (0.9, -1.2), (1.1, 1.9)], sympy=True),
    Case(loops_with_return_break_and_continue, (0, 1), [(0.9, 1.2), (0.9, -1.2), (1.5, 0.55)], sympy=True),
    Case(nested_helper_returning_from_a_loop_in_an_if, (0, 1), [(0.9, 1.2), (0.3, 0.5), (-0.5, 1.0)],
         sympy=True),
]


# ---- crashes found by the fuzzer (issue 9)
def kalman_covariance_unused_after_loop(x0, A, Q):
    x = x0 * 1.0
    P = Q * 1.0
    loss = 0.0
    for k in range(3):
        x = A @ x
        loss = loss + np.sum(x * x) + np.trace(P)
        P = A @ P @ A.T + Q
    return loss


def kalman_covariance_never_read(x0, A, Q):
    x = x0 * 1.0
    P = np.eye(2)
    loss = 0.0
    for k in range(3):
        x = A @ x
        loss = loss + np.sum(x * x)
        P = A @ P @ A.T + Q
    return loss


def nested_lists_built_in_loops(x, y):
    rows = []
    for i in range(x.shape[0]):
        row = []
        for j in range(y.shape[0]):
            row.append(x[i] * y[j])
        rows.append(row)
    return np.sum(np.array(rows) ** 2)


def nested_lists_read_back(x):
    rows = []
    for i in range(3):
        row = []
        for j in range(2):
            row.append(x[i] * (j + 1.0))
        rows.append(row)
    s = 0.0
    for i in range(3):
        s = s + rows[i][0] * rows[i][1]
    return s


_A2 = np.array([[0.9, 0.1], [-0.2, 0.8]])
_Q2 = np.array([[0.1, 0.0], [0.02, 0.2]])
CASES += [
    Case(kalman_covariance_unused_after_loop, (0, 1, 2),
         [(np.array([1.0, -0.5]), _A2, _Q2), (_n(2), _A2.T, _Q2 * 2.0)]),
    Case(kalman_covariance_never_read, (0, 1), [(np.array([1.0, -0.5]), _A2, _Q2), (_n(2), _A2.T, _Q2)]),
    Case(nested_lists_built_in_loops, (0, 1), [(_n(3), _n(2)), (_n(2), _n(4))]),
    Case(nested_lists_read_back, 0, [(_n(3),), (_n(4),)]),
]


# ---- found by a scalar fuzzer (issue 9)
def parameter_rebound_by_loop_invariant_statement(x, y):
    s = 0.0
    for i in range(3):
        s = s + x * x
        x = math.sin(y)
    return s


def return_after_parameter_rebound_in_loop(x, y):
    s = 0.0
    for i in range(4):
        s = x * x
        if s > 1.0:
            x = math.sin(y)
            return math.exp(0.3 * s)
    return x + s


def return_from_loop_in_if_then_more_in_the_trip(x, y):
    s = x * 1.0
    t = 1.0
    for i in range(2):
        if y > 0.5:
            for j in range(2):
                if s > 1.0:
                    return s * s
                s = s * y
        if t > -0.3:
            for k in range(3):
                t = t * 0.5
                continue
            if x > 0.5:
                return y + t
        s = s + t * x
    return x + y * s


CASES += [
    Case(parameter_rebound_by_loop_invariant_statement, (0, 1), [(1.38, 0.2), (-0.6, 1.1)], sympy=True),
    Case(return_after_parameter_rebound_in_loop, (0, 1), [(1.38, 0.2), (0.5, 0.7), (-1.2, 0.4)], sympy=True),
    Case(return_from_loop_in_if_then_more_in_the_trip, (0, 1),
         [(-0.09, 1.89), (0.9, 1.2), (0.7, 0.3), (-0.5, 0.2)], sympy=True),
]


# ---- the symbolic zero 0.0 (an adjoint not reached on this path or trip) meeting a
# template that needs its shape: found by an array fuzzer (issue 9)
def kalman_covariance_reset_in_a_branch(x0, A, Q, c):
    x = x0 * 1.0
    P = Q * 1.0
    loss = 0.0
    for k in range(3):
        x = A @ x
        loss = loss + np.sum(x * x) + np.trace(P) * c
        P = A @ P @ A.T + Q
        if c > 0.5:
            P = Q * 2.0
    return loss


def cumsum_rebound_in_a_branch(x, c):
    u = x * 1.0
    v = x * 2.0
    w = np.tanh(x)
    for i in range(3):
        w = np.cumsum(w) * 0.3
        if c > 0.5:
            return np.sum(u * w)
        else:
            w = v / (1.0 + v * v)
    return np.sum(u * v) + np.sum(w) * c


def stencil_then_return_from_a_loop(x, c):
    u = x * 1.0
    v = x * 2.0
    w = np.tanh(x)
    u[1:-1] = u[1:-1] + 0.1 * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    u *= c
    for i in range(3):
        if c > 0.0:
            return np.sum(w * v)
    return np.sum(u * v)


def shape_ops_reset_in_a_branch(x, A, c):
    P = A * 1.0
    loss = 0.0
    for k in range(3):
        loss = loss + np.sum(P * x)
        Y = np.reshape(P, (4,)).reshape((2, 2)) + np.einsum("ij,jk->ik", P, A)
        Y = Y + np.concatenate([P[:1], P[1:]], axis=0) + np.stack([P[0], P[1]])
        Y = Y + np.linalg.solve(A + 2.0 * np.eye(2), P) + np.tile(P[0], (2, 1))
        P = (Y - np.mean(Y, axis=0, keepdims=True)) * 0.1 + np.flip(np.diag(np.diag(P)), 0)
        if c > 0.5:
            P = A * 2.0
    return loss


_A2b = np.array([[0.9, 0.1], [-0.2, 0.8]])
CASES += [
    Case(kalman_covariance_reset_in_a_branch, (0, 1, 2, 3),
         [(np.array([1.0, -0.5]), _A2, _Q2, 0.7), (np.array([1.0, -0.5]), _A2, _Q2, 0.3)]),
    Case(cumsum_rebound_in_a_branch, (0, 1), [(_n(5), 0.27), (_n(5), 0.8)]),
    Case(stencil_then_return_from_a_loop, (0, 1), [(_n(5), 0.16), (_n(6), -0.4)]),
    Case(shape_ops_reset_in_a_branch, (0, 1), [(_n(2, 2), _A2b, 0.7), (_n(2, 2), _A2b, 0.2)]),
]


def concatenated_list_grows(x, n=3):
    """A list concatenated with an array, then appended to: its adjoint comes back
    from the concatenation as an array and is added to the list's own (was dropped)."""
    L = [x[0] * 1.0]
    s = 0.0
    for _ in range(n):
        y = np.concatenate((x, L))
        s = s + np.sum(y * y)
        L.append(x[1] * 0.5)
    return s


def list_as_array_and_by_index(x, c):
    L = [x[0] * c, x[1] + c]
    t = np.sum(np.array(L) * x[:2]) + L[0] * L[1]
    return t + np.dot(np.asarray(L), np.asarray(L))


CASES += [
    Case(concatenated_list_grows, 0, [(np.array([0.3, -0.6, 1.2]),), (_n(4), 5)]),
    Case(list_as_array_and_by_index, (0, 1), [(_n(3), 0.7), (_n(2), -1.3)]),
]
