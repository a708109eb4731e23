"""Transform time.

    python benchmarks/compile_time.py
        cold transform vs cache-hit load time of the main example (heat), each
        measured in a fresh process around the first gradient call (median of runs)
    python benchmarks/compile_time.py --scaling [--sizes 100,300,1000] [--shapes stencil,loop] [--cpu] [--repeat 3]
        transform time against function size: for each shape, a generated function of
        N statements is differentiated (fresh cache, after a warm-up transform; the least
        of `--repeat` transforms), and the table shows, per size, the seconds of the
        transform proper (compiler.transform: source -> generated text) and of the whole
        first call (that, and compiling, caching and loading the generated module), each
        with the ratio of the largest size to the smallest (issue 10's target: 1,000
        statements in under 1 s, at most 15x the time of 100). `--cpu`: CPU time of this
        process instead of wall time (steadier
        on a shared machine). `--profile SHAPE:N` prints the cProfile of one transform;
        `--stages SHAPE:N` the CPU time of each pass and stage of one transform.
    python benchmarks/compile_time.py --instructions loop:1000[,stencil:1000]
        the machine instructions of one first call of each (counted by valgrind's
        callgrind, which must be installed: `apt-get install valgrind`; ~100x slower
        than a plain run): a measure of the transform's cost that does not move with
        the machine's load, where the time of the same code moves by up to 2x within a
        day on a shared machine. The count is the run's less that of a run doing
        only the warm-up (imports, rule templates).

Shapes (seeded, so every run differentiates the same functions):
    scalar    straight-line scalar code, each statement reading an earlier one
    stencil   array code: in-place stencil updates of u, rebinding u, reductions
    loop      one `for` loop whose body holds the N statements of `stencil`
    branches  `stencil` statements under if/else pairs nested up to three deep
"""
import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import heat
u0 = np.linspace(0.0, 1.0, 64); k = 0.2
t0 = time.perf_counter()
heat.heat(u0, k)                       # first call: transform or cache load, then run
t1 = time.perf_counter()
heat.heat(u0, k)                       # second call: run only
t2 = time.perf_counter()
print((t1 - t0) - (t2 - t1))
'''


def main(runs: int = 5) -> None:
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, ADJOINTC_CACHE_DIR=cache)
            run = lambda: float(subprocess.run([sys.executable, "-c", CHILD, examples], env=env,  # noqa: E731
                                               capture_output=True, text=True, check=True).stdout)
            cold.append(run())
            warm.append(run())
    print(f"heat example, median of {runs} fresh processes:")
    print(f"  cold (parse + transform + codegen + write cache): {statistics.median(cold) * 1e3:.1f} ms")
    print(f"  cache hit (read + verify + compile + load):       {statistics.median(warm) * 1e3:.1f} ms")


# ------------------------------------------------------------------ scaling
_STENCIL = ["s = s + np.sum(u * y)", "u = np.sin(u) * y", "u[1:-1] = u[1:-1] + 0.1 * (u[2:] - u[:-2])",
            "v = u * u", "s = s * 0.5 + np.sum(v)"]


def _scalar(n: int, rng: random.Random) -> list[str]:
    lines = ["def f(x, y):", "    a0 = x * y"]
    for i in range(1, n):
        j = rng.randrange(i)
        op = rng.choice(["a{j} * x", "np.sin(a{j})", "a{j} + y", "a{j} * a{j}", "np.exp(-a{j})"])
        lines.append(f"    a{i} = " + op.format(j=j))
    return lines + [f"    return a{n - 1} + a{n // 2}"]


def _stencil(n: int, rng: random.Random) -> list[str]:
    body = [f"    {rng.choice(_STENCIL)}" for _ in range(n)]
    return ["def f(x, y):", "    s = 0.0", "    u = x.copy()"] + body + ["    return s + np.sum(u)"]


def _loop(n: int, rng: random.Random) -> list[str]:
    body = [f"        {rng.choice(_STENCIL)}" for _ in range(n)]
    return (["def f(x, y):", "    s = 0.0", "    u = x.copy()", "    for k in range(3):"] + body
            + ["    return s + np.sum(u)"])


def _branches(n: int, rng: random.Random) -> list[str]:
    lines = ["def f(x, y):", "    s = 0.0", "    u = x.copy()"]
    count = 0

    def block(depth: int, budget: int) -> None:
        nonlocal count
        indent = "    " * (depth + 1)
        while budget > 0:
            if depth < 3 and budget >= 8 and rng.random() < 0.3:
                half = budget // 2
                lines.append(f"{indent}if np.sum(u) > {rng.uniform(-1.0, 1.0):.2f}:")
                block(depth + 1, half // 2)
                lines.append(f"{indent}else:")
                block(depth + 1, half - half // 2)
                count += 1
                budget -= half + 1
            else:
                lines.append(f"{indent}{rng.choice(_STENCIL)}")
                count += 1
                budget -= 1
    block(0, n)
    return lines + ["    return s + np.sum(u)"]


SHAPES = {"scalar": (_scalar, "0.3, 0.7"), "stencil": (_stencil, "np.ones(5), np.ones(5)"),
          "loop": (_loop, "np.ones(5), np.ones(5)"), "branches": (_branches, "np.ones(5), np.ones(5)")}


def _function(shape: str, n: int, directory: str):
    """The generated function `f` of `shape` with `n` statements, imported from its own file."""
    make, _ = SHAPES[shape]
    path = os.path.join(directory, f"scaling_{shape}_{n}.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("import numpy as np\n\n\n" + "\n".join(make(n, random.Random(0))) + "\n")
    spec = importlib.util.spec_from_file_location(f"scaling_{shape}_{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def _transform_seconds(shape: str, n: int, directory: str, profile: bool = False, clock=time.perf_counter,
                       spent: list | None = None) -> float:
    """The first call's cost (transform, compiling and caching the generated module,
    less one run of it); `spent`, if given, gets the time in compiler.transform alone
    (source -> generated text) appended."""
    import numpy as np
    import adjointc
    from adjointc import compiler
    f = _function(shape, n, directory)
    args = eval(f"({SHAPES[shape][1]},)", {"np": np})
    g = adjointc.grad(f, wrt=0)
    t0 = clock()
    if profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.runcall(g, *args)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    elif spent is not None:
        transform = compiler.transform

        def timed(*a, **k):
            t = clock()
            try:
                return transform(*a, **k)
            finally:
                spent.append(clock() - t)
        compiler.transform = timed
        try:
            g(*args)
        finally:
            compiler.transform = transform
    else:
        g(*args)
    t1 = clock()
    g(*args)  # (running the adjoint once is not transform time)
    return (t1 - t0) - (clock() - t1)


def stages(shape: str, n: int, directory: str) -> None:
    """CPU seconds of each pass of PIPELINE and of the stages around it in one transform
    (a pass's time includes the type inference it is the first to ask for)."""
    import collections
    from adjointc import compiler, passes
    spent: collections.Counter = collections.Counter()

    def timed(label: str, f):
        def run(*a, **k):
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[label] += time.process_time() - t
        return run
    call = passes.Pass.__call__
    passes.Pass.__call__ = lambda self, prog: timed(f"pass {self.name}", call)(self, prog)
    saved = [(compiler, "returning_lowered", "libcst -> IR (frontend)"), (compiler, "transform", "transform, in all")]
    saved = [(m, a, getattr(m, a), label) for m, a, label in saved]
    for m, a, f, label in saved:
        setattr(m, a, timed(label, f))
    try:
        total = _transform_seconds(shape, n, directory, clock=time.process_time)
    finally:
        passes.Pass.__call__ = call
        for m, a, f, _ in saved:
            setattr(m, a, f)
    print(f"{shape}:{n}, CPU s: the first call {total:.3f}")
    for label, t in spent.most_common():
        print(f"  {label:<28}{t:7.3f}")


def _child(spec: str) -> None:
    """The process `instructions` counts: the warm-up, then (N > 0) one first call."""
    shape, n = spec.split(":")
    with tempfile.TemporaryDirectory() as work:
        os.environ["ADJOINTC_CACHE_DIR"] = os.path.join(work, "warm-up")
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        _transform_seconds("stencil", 10, work)
        if int(n):
            os.environ["ADJOINTC_CACHE_DIR"] = os.path.join(work, "cache")
            _transform_seconds(shape, int(n), work)


def instructions(specs: list[str]) -> None:
    """Instructions of one first call of each SHAPE:N (see the module docstring)."""
    import re
    import shutil
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")

    def counted(spec: str) -> int:
        env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1")
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                              os.path.abspath(__file__), "--child", spec], env=env, capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode or not found:
            sys.exit(f"valgrind run of {spec} failed:\n{run.stderr[-2000:]}")
        return int(found.group(1))
    base = counted("stencil:0")
    for spec in specs:
        print(f"{spec}: {(counted(spec) - base) / 1e9:.3f} G instructions (a first call, and one run)", flush=True)


def scaling(shapes: list[str], sizes: list[int], profile: str | None = None, stage: str | None = None,
            cpu: bool = False, repeat: int = 3) -> None:
    with tempfile.TemporaryDirectory() as work:
        os.environ["ADJOINTC_CACHE_DIR"] = os.path.join(work, "cache")
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        _transform_seconds("stencil", 10, work)  # warm-up: imports, rule templates
        if profile:
            shape, n = profile.split(":")
            print(f"{shape} {n}: {_transform_seconds(shape, int(n), work, profile=True):.3f} s")
            return
        if stage:
            shape, n = stage.split(":")
            stages(shape, int(n), work)
            return
        clock = time.process_time if cpu else time.perf_counter
        print(f"{'CPU' if cpu else 'wall'} time (s) by function size, the least of {repeat} transforms; "
              f"ratio = {sizes[-1]} / {sizes[0]} statements. transform: compiler.transform, source -> "
              f"generated text; first call: that, compiling and caching the generated module")
        print(f"{'shape':<10}" + "".join(f"{'transform ' + str(n):>16}" for n in sizes) + f"{'ratio':>7}"
              + "".join(f"{'first call ' + str(n):>17}" for n in sizes) + f"{'ratio':>7}")
        runs = iter(range(10 ** 6))

        def fresh(shape: str, n: int) -> tuple[float, float]:  # (its own cache: a transform, never a hit)
            os.environ["ADJOINTC_CACHE_DIR"] = os.path.join(work, f"cache{next(runs)}")
            spent: list = []
            first = _transform_seconds(shape, n, work, clock=clock, spent=spent)
            return sum(spent), first
        for shape in shapes:
            cells = [[fresh(shape, n) for _ in range(repeat)] for n in sizes]
            tr = [min(c[0] for c in cell) for cell in cells]
            fc = [min(c[1] for c in cell) for cell in cells]
            print(f"{shape:<10}" + "".join(f"{t:16.3f}" for t in tr) + f"{tr[-1] / tr[0]:7.1f}"
                  + "".join(f"{t:17.3f}" for t in fc) + f"{fc[-1] / fc[0]:7.1f}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scaling", action="store_true", help="transform time against function size")
    ap.add_argument("--sizes", default="100,300,1000")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--profile", default=None, metavar="SHAPE:N", help="profile one transform (with --scaling)")
    ap.add_argument("--stages", default=None, metavar="SHAPE:N", help="CPU time per pass of one transform "
                    "(with --scaling)")
    ap.add_argument("--cpu", action="store_true", help="CPU time instead of wall time (with --scaling)")
    ap.add_argument("--repeat", type=int, default=3, help="each size: the least of this many transforms "
                    "(with --scaling; a shared machine's noise only ever adds time)")
    ap.add_argument("--instructions", default=None, metavar="SHAPE:N[,SHAPE:N]",
                    help="machine instructions of one first call of each (needs valgrind)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(a.child)
    elif a.instructions:
        instructions(a.instructions.split(","))
    elif a.scaling:
        scaling(a.shapes.split(","), [int(n) for n in a.sizes.split(",")], a.profile, a.stages, a.cpu, a.repeat)
    else:
        main()
