"""What grad/value_and_grad/vjp/check accept as the function to differentiate, and
the clear, located errors for what they refuse (issue 9: no silently wrong gradient).

Values that work are compared with central finite differences computed here (no
adjointc code involved); refusals assert the error class, its message, and that it
names this file and the line of the offending def.
"""
import functools
import math
import os
import statistics
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjointc
from adjointc import check, grad, value_and_grad, vjp
from adjointc.errors import (AdjointcError, GeneratedCodeError, InternalError, InvalidArgument,
                             TypeMismatch, UnsupportedFunction, UnsupportedSyntax)

HERE = os.path.basename(__file__)


def fd(f, args, i, h=1e-6):
    """Central difference of scalar f w.r.t. positional argument i (float or array)."""
    args = list(args)
    x = args[i]
    if isinstance(x, float):
        hi = h * max(1.0, abs(x))
        return (f(*args[:i], x + hi, *args[i + 1:]) - f(*args[:i], x - hi, *args[i + 1:])) / (2 * hi)
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        g.flat[k] = (f(*args[:i], x + e, *args[i + 1:]) - f(*args[:i], x - e, *args[i + 1:])) / (2 * h)
    return g


def def_line(fn) -> int:
    return fn.__code__.co_firstlineno


def assert_located(err: AdjointcError, fn, offset: int = 0) -> None:
    """The message names this file and the line of fn's def (or of the line `offset` below it)."""
    assert f"{HERE}:{def_line(fn) + offset}:" in str(err), str(err)


# ------------------------------------------------------------------ functions
def cube(x):
    return x * x * x


def two(x, y):
    return x * x * y + math.sin(y)


def vec(x):
    return np.sum(np.sin(x) * x)


# ------------------------------------------- 1. higher order: through every entry point


@pytest.mark.parametrize("make,at,expected", [
    (lambda: grad(grad(cube)), (2.0,), 12.0),                       # (x^3)'' = 6x
    (lambda: grad(grad(two, wrt=1), wrt=0), (1.5, 0.3), 3.0),       # d/dx d/dy = 2x
    (lambda: grad(wrt=0)(grad(cube)), (2.0,), 12.0),
    (lambda: value_and_grad(grad(cube)), (2.0,), (12.0, 12.0)),
    (lambda: grad(functools.partial(grad(two), 1.0)), (0.3,), 2.0),  # d/dy (2 x y) at x = 1
], ids=["grad_grad", "grad_grad_wrt", "decorator", "value_and_grad_of_grad", "partial_of_grad"])
def test_higher_order_entry_points(make, at, expected):
    got = make()(*at)
    assert np.allclose(got, expected, rtol=1e-12), (got, expected)


def test_vjp_of_a_gradient():
    value, pullback = vjp(grad(cube), 2.0)
    assert value == pytest.approx(12.0) and pullback(1.0) == pytest.approx(12.0)


def test_grad_of_value_and_grad_needs_a_scalar_output():
    with pytest.raises(TypeMismatch, match="scalar output"):
        grad(value_and_grad(cube))(2.0)


def test_check_of_a_gradient_is_refused_not_unwrapped():
    with pytest.raises(UnsupportedFunction, match="checking a second derivative is not supported yet") as e:
        check(grad(cube), 2.0)
    assert "already a gradient" in str(e.value) and "gradient=g" in e.value.hint
    assert_located(e.value, cube)


def test_check_of_a_gradient_object_via_gradient_argument():
    """The documented way to check a Gradient object: the function, and it as `gradient`."""
    g = grad(two, wrt=(0, 1))
    rep = check(two, 1.3, 0.4, wrt=(0, 1), gradient=g)
    assert rep.passed
    wrong = lambda x, y: (g(x, y)[0] * 1.001, g(x, y)[1])  # noqa: E731
    assert not check(two, 1.3, 0.4, wrt=(0, 1), gradient=wrong).passed


# --------------------------------------------- 5. methods and other callables
class Model:
    scale = 2.5

    def __init__(self, c, w):
        self.c = c
        self.w = w  # an array field

    def energy(self, x, y):
        return self.c * x * y * y + np.sum(self.w * x)

    def calls_method(self, x):
        return self.energy(x, 2.0) * x

    @classmethod
    def by_class(cls, x, y):
        return cls.scale * x * math.exp(y)

    @staticmethod
    def static(x):
        return 3.0 * x ** 4

    def sets_field(self, x):
        self.c = x * 2.0
        return self.c * x


    def norm2(self, x):
        return np.sum(self.w * x * x) * self.c


class Potential:
    """A callable object (so adjointc types it as an opaque object: fields read at run time)."""

    def __init__(self, c):
        self.c = c

    def __call__(self, x, y):
        return self.c * math.sin(x) * y


MODEL = Model(1.5, np.array([0.5, -1.0]))
POTENTIAL = Potential(1.5)


@pytest.mark.parametrize("x,y", [(2.0, 3.0), (-0.7, 0.4), (1.1, -2.2)])
def test_bound_method_binds_self_and_counts_wrt_in_the_bound_signature(x, y):
    f = MODEL.energy
    gx = grad(f)(x, y)  # wrt=0 is x, not self
    np.testing.assert_allclose(gx, fd(f, (x, y), 0), rtol=1e-7)
    gx2, gy = grad(f, wrt=(0, 1))(x, y)
    np.testing.assert_allclose((gx2, gy), (fd(f, (x, y), 0), fd(f, (x, y), 1)), rtol=1e-7)
    assert grad(f, wrt="y")(x, y) == pytest.approx(fd(f, (x, y), 1), rel=1e-7)
    assert grad(f, wrt=-1)(x, y) == pytest.approx(gy, rel=1e-12)
    v, g = value_and_grad(f)(x, y)
    assert v == pytest.approx(f(x, y)) and g == pytest.approx(gx)
    assert grad(f, wrt=1)(x, y=y) == pytest.approx(gy)


def test_bound_method_errors_count_visible_parameters():
    with pytest.raises(InvalidArgument, match=r"out of range: energy takes 2 parameters \(x, y\)"):
        grad(MODEL.energy, wrt=2)
    with pytest.raises(InvalidArgument, match="not a parameter"):
        grad(MODEL.energy, wrt="self")


@pytest.mark.parametrize("x", [2.0, -0.3])
def test_method_calling_another_method(x):
    f = MODEL.calls_method
    assert grad(f)(x) == pytest.approx(fd(f, (x,), 0), rel=1e-7)


@pytest.mark.parametrize("x,y", [(2.0, 0.3), (-1.5, -0.4)])
def test_classmethod_binds_cls(x, y):
    for f in (Model.by_class, MODEL.by_class):
        gx, gy = grad(f, wrt=(0, 1))(x, y)
        np.testing.assert_allclose((gx, gy), (fd(f, (x, y), 0), fd(f, (x, y), 1)), rtol=1e-7)


@pytest.mark.parametrize("x", [1.3, -0.8])
def test_staticmethod_through_class_and_instance(x):
    for f in (Model.static, MODEL.static, Model.__dict__["static"]):
        assert grad(f)(x) == pytest.approx(12.0 * x ** 3, rel=1e-12)


def test_method_with_array_argument():
    f = MODEL.norm2
    for x in (np.array([0.3, -1.2]), np.array([2.0, 0.5])):
        np.testing.assert_allclose(grad(f)(x), fd(f, (x,), 0), rtol=1e-7)


def test_unbound_function_differentiates_self_fields():
    """`grad(Model.energy, wrt=0)` differentiates with respect to the object's fields."""
    m = Model(1.5, np.array([0.5, -1.0]))
    g = grad(Model.energy, wrt=0)(m, 2.0, 3.0)
    assert isinstance(g, Model)
    assert g.c == pytest.approx(2.0 * 9.0)
    np.testing.assert_allclose(g.w, [2.0, 2.0])


def test_method_assigning_self_field_is_refused_with_its_line():
    with pytest.raises(UnsupportedSyntax, match="assignment to an attribute") as e:
        grad(MODEL.sets_field)(2.0)
    assert f"{HERE}:{def_line(Model.sets_field) + 1}:" in str(e.value)


@pytest.mark.parametrize("x,y", [(0.5, 3.0), (2.0, -1.0)])
def test_callable_object_differentiates_its_call(x, y):
    gx, gy = grad(POTENTIAL, wrt=(0, 1))(x, y)
    np.testing.assert_allclose((gx, gy), (fd(POTENTIAL, (x, y), 0), fd(POTENTIAL, (x, y), 1)), rtol=1e-7)
    assert grad(POTENTIAL)(x, y) == pytest.approx(gx)
    assert grad(POTENTIAL, wrt="y")(x, y) == pytest.approx(gy)


def test_gradient_attributes_of_wrapped_callables():
    g = grad(MODEL.energy)
    assert g.__wrapped__ == MODEL.energy and g.primal is Model.energy
    assert g.__name__ == "energy"
    assert grad(cube).primal is cube and grad(cube).__wrapped__ is cube


# ------------------------------------------------ partial, lru_cache, wraps
def power_law(a, x, k=2.0):
    return a * x ** k


@pytest.mark.parametrize("x", [0.7, 3.0])
def test_partial_binds_its_arguments_and_counts_wrt_in_its_signature(x):
    p = functools.partial(power_law, 2.0)  # p(x, k=2.0)
    assert grad(p)(x) == pytest.approx(fd(p, (x,), 0), rel=1e-7)
    dk = fd(lambda k: p(x, k), (2.0,), 0)
    assert grad(p, wrt=1)(x) == pytest.approx(dk, rel=1e-7)  # position 1 of p's signature is k
    assert grad(p, wrt="k")(x) == pytest.approx(dk, rel=1e-7)
    with pytest.raises(InvalidArgument, match="not a parameter"):
        grad(p, wrt="a")  # bound by the partial: a constant


@pytest.mark.parametrize("a,x", [(2.0, 3.0), (-0.5, 1.2)])
def test_partial_keywords_are_defaults_the_caller_may_override(a, x):
    pk = functools.partial(power_law, k=3.0)
    f = lambda a, x, k=3.0: pk(a, x, k=k)  # noqa: E731
    assert grad(pk)(a, x) == pytest.approx(fd(pk, (a, x), 0), rel=1e-7)
    assert grad(pk, wrt=1)(a, x) == pytest.approx(fd(pk, (a, x), 1), rel=1e-7)
    assert grad(pk, wrt=1)(a, x, k=1.5) == pytest.approx(fd(lambda a, x: f(a, x, 1.5), (a, x), 1), rel=1e-7)
    assert grad(pk, wrt="k")(a, x) == pytest.approx(fd(lambda k: pk(a, x, k=k), (3.0,), 0), rel=1e-7)


def test_partial_of_a_bound_method_and_nested_partials():
    p = functools.partial(MODEL.energy, 2.0)  # energy(self=MODEL, x=2.0, y)
    for y in (0.3, -1.7):
        assert grad(p)(y) == pytest.approx(fd(p, (y,), 0), rel=1e-7)
    pp = functools.partial(functools.partial(power_law, 1.5), k=2.5)
    assert grad(pp)(1.3) == pytest.approx(fd(pp, (1.3,), 0), rel=1e-7)


def test_vjp_of_a_partial_and_of_a_method():
    p = functools.partial(power_law, 2.0)
    value, pull = vjp(p, 3.0)
    assert value == pytest.approx(18.0) and pull(1.0) == pytest.approx(fd(p, (3.0,), 0), rel=1e-7)
    value, pull = vjp(MODEL.energy, 2.0, 3.0, wrt=1)
    assert value == pytest.approx(MODEL.energy(2.0, 3.0))
    assert pull(2.0) == pytest.approx(2.0 * fd(MODEL.energy, (2.0, 3.0), 1), rel=1e-7)


@functools.lru_cache(maxsize=None)
def cached(x):
    return x * math.exp(x)


@functools.cache
def cached_sum(x, k):
    return k * np.sum(x * x)


def test_lru_cache_differentiates_the_pure_function_it_memoises():
    for x in (0.5, -1.0):
        assert grad(cached)(x) == pytest.approx(fd(cached, (x,), 0), rel=1e-7)
    x = np.array([0.5, -2.0])  # (unhashable: the memo could not even be consulted)
    np.testing.assert_allclose(grad(cached_sum)(x, 3.0), fd(cached_sum.__wrapped__, (x, 3.0), 0), rtol=1e-7)
    assert check(cached, 0.3).passed


def doubled(f):
    @functools.wraps(f)
    def wrapper(x):
        return 2.0 * f(x) + x
    return wrapper


@doubled
def decorated(x):
    return x * x * x


@pytest.mark.parametrize("x", [0.5, -2.0])
def test_wraps_decorator_is_differentiated_as_written_not_unwrapped(x):
    """A functools.wraps wrapper computes something else than its __wrapped__:
    differentiating the wrapped function would be silently wrong."""
    assert grad(decorated)(x) == pytest.approx(fd(decorated, (x,), 0), rel=1e-7)
    assert grad(decorated)(x) == pytest.approx(6.0 * x * x + 1.0, rel=1e-12)


def test_editing_a_decorator_invalidates_the_disk_cache(tmp_path):
    """The cache key holds the wrapper's own source (not only its __wrapped__'s):
    a second process after an edit of the decorator gets the new gradient."""
    mod = tmp_path / "decomod.py"
    body = textwrap.dedent("""
        import functools
        def scaled(f):
            @functools.wraps(f)
            def w(x):
                return FACTOR * f(x)
            return w
        @scaled
        def sq(x):
            return x * x
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.path.dirname(os.path.dirname(
        os.path.abspath(adjointc.__file__)))]), ADJOINTC_CACHE_DIR=str(tmp_path / "cache"))
    run = [sys.executable, "-c", "import adjointc, decomod; print(adjointc.grad(decomod.sq)(3.0))"]
    outs = []
    for factor in ("2.0", "5.0"):
        mod.write_text(body.replace("FACTOR", factor))
        outs.append(float(subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout))
    assert outs == [12.0, 30.0]


# ------------------------------------------- builtins, library code, classes
@pytest.mark.parametrize("fn,name", [(math.sin, "math.sin"), (np.sin, "np.sin"), (abs, "abs"),
                                     (np.linalg.norm, "numpy.linalg.norm"), (statistics.mean, "statistics.mean"),
                                     (np.ndarray.sum, "ndarray.sum")])
def test_builtins_and_library_functions_are_refused_with_a_wrapping_hint(fn, name):
    with pytest.raises(UnsupportedFunction, match="adjointc|cannot read") as e:
        grad(fn)
    assert f"def f(x): return {name}(x)" in str(e.value)


def test_the_hinted_wrapping_works():
    def f(x):
        return math.sin(x)

    def g(x):
        return np.sum(np.sin(x))
    assert grad(f)(0.4) == pytest.approx(math.cos(0.4), rel=1e-12)
    np.testing.assert_allclose(grad(g)(np.array([0.1, 2.0])), np.cos([0.1, 2.0]), rtol=1e-12)
    assert grad(lambda x: math.sin(x))(0.4) == pytest.approx(math.cos(0.4), rel=1e-12)


def test_a_class_and_a_non_callable_are_refused():
    with pytest.raises(UnsupportedFunction, match="a class cannot be differentiated"):
        grad(Model)
    with pytest.raises(InvalidArgument, match="expects a function"):
        grad(3.0)


# ------------------------------------------------------------ 11. wrt misuse
@pytest.mark.parametrize("wrt,match", [
    (True, "is a bool"), (False, "is a bool"), (np.bool_(True), "is a bool"), ((0, True), "is a bool"),
    ((), "nothing to differentiate"), ([], "nothing to differentiate"),
    (1.5, "positions \\(int\\) or names \\(str\\)"), ((0, 1.0), "positions"), ({0}, "positions"),
    (2, "out of range"), (-3, "out of range"), ("z", "not a parameter"), ((0, "x"), "twice"),
])
def test_bad_wrt_is_refused_with_a_located_error(wrt, match):
    for make in (grad, value_and_grad):
        with pytest.raises(InvalidArgument, match=match) as e:
            make(two, wrt=wrt)
        assert_located(e.value, two)
    with pytest.raises(InvalidArgument, match=match):
        vjp(two, 1.0, 2.0, wrt=wrt)


def test_bad_wrt_is_still_a_value_or_type_error():
    """InvalidArgument is also the ValueError/TypeError Python code expects for misuse."""
    with pytest.raises(TypeError):
        grad(two, wrt=1.5)
    with pytest.raises(ValueError):
        grad(two, wrt=())


def test_numpy_integer_wrt_is_a_position():
    assert grad(two, wrt=np.int64(1))(1.5, 0.3) == pytest.approx(fd(two, (1.5, 0.3), 1), rel=1e-7)


# --------------------------------------------------- outputs that are not scalars
def returns_none(x):
    y = x * 2.0  # noqa: F841
    return None


def none_on_one_branch(x):
    return None if x < 0 else x * x


def falls_off_the_end(x):
    r = x * 2.0
    if x > 0:
        return r


def falls_off_after_loop(x):
    for i in range(3):
        if x > i:
            return x * i


def returns_tuple(x):
    return x, x * 2.0


def returns_list(x):
    return [x * 3.0]


def returns_bool(x):
    return x > 0.0


def returns_complex(x):
    return x * 1j


def test_none_output_is_refused_at_run_time():
    for f in (returns_none, none_on_one_branch):
        with pytest.raises(TypeMismatch, match="returned None at these inputs") as e:
            grad(f)(-1.0)
        assert_located(e.value, f)
    with pytest.raises(TypeMismatch, match="returned None"):
        value_and_grad(returns_none)(1.0)
    with pytest.raises(TypeMismatch, match="returned None"):
        vjp(returns_none, 1.0)
    # the branch that returns a value is differentiated
    assert grad(none_on_one_branch)(1.5) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("f", [falls_off_the_end, falls_off_after_loop])
def test_a_path_without_return_is_refused_statically(f):
    """On that path Python returns None; the adjoint would return the last value."""
    for x in (1.0, -1.0):
        with pytest.raises(UnsupportedSyntax, match="end of its body without a return") as e:
            grad(f)(x)
        assert_located(e.value, f)


@pytest.mark.parametrize("f,what", [(returns_tuple, "a tuple of 2 values"), (returns_list, "a list of 1 values"),
                                    (returns_bool, "a bool")])
def test_non_scalar_output_is_a_type_mismatch(f, what):
    for make in (grad, value_and_grad):
        with pytest.raises(TypeMismatch, match=f"needs a scalar output, got {what}") as e:
            make(f)(2.0)
        assert_located(e.value, f)
        assert "vjp" in str(e.value)


def test_complex_output_is_refused():
    """Complex intermediates are differentiated (tests/test_complex_fft.py); a complex
    output is not a real loss: grad refuses it, as JAX does without holomorphic=True."""
    for make in (grad, value_and_grad):
        with pytest.raises(TypeMismatch, match="needs a scalar output, got a complex number") as e:
            make(returns_complex)(2.0)
        assert_located(e.value, returns_complex)


def test_tuple_output_still_works_through_vjp():
    value, pull = vjp(returns_tuple, 2.0)
    assert value == (2.0, 4.0)
    assert pull((1.0, 1.0)) == pytest.approx(3.0)
    with pytest.raises(TypeMismatch, match="tuple/list of 2 values"):
        pull(1.0)


def test_vjp_cotangent_must_match_the_output_shape():
    value, pull = vjp(lambda_free_vec, np.array([0.1, 0.2, 0.3]))
    with pytest.raises(TypeMismatch, match=r"has shape \(2,\), the output has shape \(3,\)"):
        pull(np.ones(2))
    np.testing.assert_allclose(pull(np.ones(3)), np.cos([0.1, 0.2, 0.3]), rtol=1e-12)


def lambda_free_vec(x):
    return np.sin(x)


# ------------------------------------------------------------ def forms
async def async_square(x):
    return x * x


def generator(x):
    yield x * x


async def async_generator(x):
    yield x * x


@pytest.mark.parametrize("f,what", [(async_square, "async def"), (generator, "generator functions"),
                                    (async_generator, "async generators")])
def test_function_kinds_without_a_plain_body_are_refused_at_grad_time(f, what):
    for make in (grad, value_and_grad, lambda f: vjp(f, 1.0)):
        with pytest.raises(UnsupportedSyntax, match=f"does not support {what}") as e:
            make(f)
        assert_located(e.value, f)


def calls_async_helper(x):
    y = async_square(x)
    return y


def test_calling_an_async_helper_is_refused():
    with pytest.raises(UnsupportedSyntax, match="async def") as e:
        grad(calls_async_helper)(2.0)
    assert_located(e.value, async_square)


def one_line(x): return x * x * x  # noqa: E704


def one_line_suite(x, y): z = x * y; return z * z + x  # noqa: E702,E704


def one_line_blocks(x, n=3):
    s = 0.0
    for i in range(n): s = s + x * i  # noqa: E701
    if x > 0: s = s * x  # noqa: E701
    else: s = s - x  # noqa: E701
    while n > 0: n = n - 1; s = s + x * x  # noqa: E701,E702
    return s


@pytest.mark.parametrize("x", [0.7, -1.3])
def test_one_line_defs_and_suites(x):
    assert grad(one_line)(x) == pytest.approx(3 * x * x, rel=1e-12)
    gx, gy = grad(one_line_suite, wrt=(0, 1))(x, 0.4)
    np.testing.assert_allclose((gx, gy), (fd(one_line_suite, (x, 0.4), 0), fd(one_line_suite, (x, 0.4), 1)),
                               rtol=1e-7)
    assert grad(one_line_blocks)(x) == pytest.approx(fd(one_line_blocks, (x,), 0), rel=1e-7)


# ------------------------------------------------- adjointc.check, twice
def test_check_is_the_function_after_any_number_of_calls():
    import adjointc.check as module  # noqa: F401  (the submodule stays importable)
    from adjointc.check import numeric_gradient
    assert callable(numeric_gradient)
    for _ in range(3):
        assert callable(adjointc.check) and adjointc.check(cube, 1.7).passed


def test_check_twice_in_a_fresh_process(tmp_path):
    (tmp_path / "twice.py").write_text("def f(x):\n    return x * x * x\n")
    code = ("import adjointc, twice\n"
            "for x in (1.0, 2.0, 3.0):\n"
            "    assert adjointc.check(twice.f, x).passed\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.path.dirname(os.path.dirname(
        os.path.abspath(adjointc.__file__)))]), ADJOINTC_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# ---------------------------------- exceptions in generated code and the transform
def sine_product(x):
    y = np.sin(x)
    return np.sum(y * x)


class _RaisingNumpy:
    """numpy, except that `name` raises (planted in the generated module only)."""

    def __init__(self, name):
        self.name = name

    def __getattr__(self, attr):
        if attr == self.name:
            def boom(*a, **k):
                raise FloatingPointError(f"planted failure in np.{attr}")
            return boom
        return getattr(np, attr)


def test_exception_in_the_backward_sweep_names_the_users_line(monkeypatch):
    """The failing generated line is mapped to the `# line N` comment above it."""
    g = grad(sine_product)
    x = np.array([0.2, 1.0])
    c = g.compiled_for(x)
    monkeypatch.setitem(c.fn.__globals__, "np", _RaisingNumpy("cos"))  # only the adjoint uses cos
    with pytest.raises(GeneratedCodeError) as e:
        g(x)
    msg = str(e.value)
    assert f"{HERE}:{def_line(sine_product) + 1}:" in msg  # y = np.sin(x)
    assert "FloatingPointError: planted failure in np.cos" in msg and "in the adjoint of this line" in msg
    assert "bug in adjointc" in msg and c.path in msg
    assert isinstance(e.value.__cause__, FloatingPointError)
    assert isinstance(e.value, adjointc.AdjointcBug)  # a bug to count, not a refusal


def test_exception_in_the_forward_sweep_names_the_function(monkeypatch):
    g = grad(sine_product)
    x = np.array([0.2, 1.0])
    c = g.compiled_for(x)
    monkeypatch.setitem(c.fn.__globals__, "np", _RaisingNumpy("sin"))
    with pytest.raises(GeneratedCodeError, match="in the forward sweep") as e:
        g(x)
    assert_located(e.value, sine_product)
    assert isinstance(e.value.__cause__, FloatingPointError)


def mismatched(x, A):
    return np.sum(A @ x)




def test_the_functions_own_exception_is_not_mislabelled():
    """If the function raises at these inputs itself, that exception (with a note) is
    what the caller sees: not an adjointc bug report."""
    with pytest.raises(ValueError, match="matmul") as e:
        grad(mismatched)(np.ones(2), np.ones((2, 3)))
    assert not isinstance(e.value, AdjointcError)
    assert any("itself raises this at these inputs" in n for n in e.value.__notes__)
    with pytest.raises(ValueError, match="matmul"):
        value_and_grad(mismatched)(np.ones(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match="matmul"):
        vjp(mismatched, np.ones(2), np.ones((2, 3)))


def fresh_for_internal_error(x):
    return x * 4.0


def test_a_bug_in_the_transform_is_an_internal_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(tmp_path))  # (a miss: the transform runs)

    def broken(*a, **k):
        raise KeyError("planted bug")
    monkeypatch.setattr(adjointc.passes, "run", broken)
    with pytest.raises(InternalError, match="adjointc failed while differentiating fresh_for_internal_error: "
                                            "KeyError") as e:
        grad(fresh_for_internal_error)(2.0)
    assert_located(e.value, fresh_for_internal_error)
    assert "bug in adjointc" in str(e.value) and isinstance(e.value.__cause__, KeyError)
    assert isinstance(e.value, adjointc.AdjointcBug)
    monkeypatch.undo()
    assert grad(fresh_for_internal_error)(2.0) == 4.0


def returns_from_while_true(x):
    y = x
    k = 0
    while True:
        y = y * 0.5 + x
        k = k + 1
        if k > 3:
            return y * y


def test_a_while_true_loop_that_returns_does_not_fall_through():
    for x in (1.0, -0.4):
        assert grad(returns_from_while_true)(x) == pytest.approx(fd(returns_from_while_true, (x,), 0), rel=1e-7)


def timed(f):
    @functools.wraps(f)
    def timing_wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return timing_wrapper


@timed
def timed_square(x):
    return x * x


def calls_timed(x):
    return timed_square(x) + x


def test_a_star_args_wrapper_is_refused_with_the_way_out():
    """adjointc cannot read what a *args wrapper computes: refused (never replaced by
    its __wrapped__, which a scaling wrapper would make silently wrong)."""
    for f, x in ((timed_square, 1.5), (calls_timed, 1.5)):
        with pytest.raises(UnsupportedSyntax, match="decorator's wrapper") as e:
            grad(f)(x)
        assert "timed_square.__wrapped__" in str(e.value)
        assert f"{HERE}:{def_line(timed(cube)) + 1}:" in str(e.value)  # (the def, after @wraps)
    assert grad(timed_square.__wrapped__)(1.5) == pytest.approx(3.0, rel=1e-12)


# ------------------------------------------------------------------ lambdas
twice, thrice = (lambda x: x * x * 2.0), (lambda x: x * x * 3.0)  # two lambdas, one line
spread = lambda x, y=2.0: (x *  # noqa: E731
                           np.sin(y) * x)
K = 1.7


@pytest.mark.parametrize("x", [0.6, -1.4])
def test_lambdas_are_differentiated(x):
    assert grad(twice)(x) == pytest.approx(4.0 * x, rel=1e-12)
    assert grad(thrice)(x) == pytest.approx(6.0 * x, rel=1e-12)  # (not the other lambda of its line)
    gx, gy = grad(spread, wrt=(0, 1))(x)
    np.testing.assert_allclose((gx, gy), (fd(spread, (x, 2.0), 0), fd(spread, (x, 2.0), 1)), rtol=1e-7)
    assert grad(spread, wrt="y")(x, y=0.3) == pytest.approx(fd(lambda y: spread(x, y), (0.3,), 0), rel=1e-7)
    closure = lambda x: K * math.exp(x)  # noqa: E731
    assert grad(closure)(x) == pytest.approx(K * math.exp(x), rel=1e-12)
    v, g = value_and_grad(lambda x: np.sum(np.tanh(x)))(np.array([x, 0.5]))
    np.testing.assert_allclose(g, 1.0 - np.tanh([x, 0.5]) ** 2, rtol=1e-12)
    value, pull = vjp(lambda x: np.sin(x) * x, np.array([x, 0.2]))
    np.testing.assert_allclose(pull(np.ones(2)), fd(lambda x: float(np.sum(np.sin(x) * x)), (np.array([x, 0.2]),), 0),
                               rtol=1e-7)
    assert check(lambda x: x ** 3, x).passed


def test_lambda_adjoint_is_named_by_its_place():
    g = grad(twice)
    src = g.source_for(1.0)
    line = twice.__code__.co_firstlineno
    assert f"def lambda_{line}_" in src and f"{HERE}:{line}" in src
    assert g.source_for(1.0) == src  # deterministic
    assert grad(twice).source_for(1.0) != grad(thrice).source_for(1.0)


def test_two_lambdas_of_one_line_never_share_a_cache_entry(tmp_path):
    (tmp_path / "lams.py").write_text("a, b = (lambda x: x * 2.0), (lambda x: x * 3.0)\n")
    code = "import adjointc, lams; print(adjointc.grad(lams.a)(1.0), adjointc.grad(lams.b)(1.0))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.path.dirname(os.path.dirname(
        os.path.abspath(adjointc.__file__)))]), ADJOINTC_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # a miss, then hits from the disk cache
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["2.0", "3.0"]


lambda_helper = lambda t: t * t  # noqa: E731


def calls_a_lambda(x):
    return lambda_helper(x) + x


def test_unsupported_constructs_in_lambdas_and_lambda_helpers_are_located():
    with pytest.raises(UnsupportedSyntax, match="f-strings") as e:
        grad(lambda x: len(f"{x}") * x)(1.0)
    assert f"{HERE}:" in str(e.value)
    # (a list comprehension in a lambda is a loop of its own: adjointc/comprehensions.py)
    assert grad(lambda x: [x * x for _ in range(2)][0] * 3.0)(1.5) == pytest.approx(9.0, rel=1e-12)


def test_a_module_level_lambda_is_called_like_a_def():
    """(adjointc/funcvals.py's issue: lambdas are function values like defs)"""
    for x in (1.0, -0.7, 2.5):
        assert grad(calls_a_lambda)(x) == pytest.approx(2.0 * x + 1.0, rel=1e-12)


straße = 2.0; after_unicode = lambda x: straße * x * x  # noqa: E702,E731  (columns: bytes vs characters)


def test_lambda_after_non_ascii_text_on_its_line():
    assert grad(after_unicode)(1.5) == pytest.approx(2.0 * 2.0 * 1.5, rel=1e-12)


def make_scaled_square(k):
    return lambda x: k * x * x


def test_lambdas_from_one_factory_read_their_own_closure():
    """Same code, same name and cache entry: the closure value is read at call time."""
    for k in (2.0, 5.0, -1.5):
        assert grad(make_scaled_square(k))(1.5) == pytest.approx(3.0 * k, rel=1e-12)
