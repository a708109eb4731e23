"""The long profile: N random programs outside pytest (see the package docstring).

Every program is judged in both modes (oracle.judge: the gradient, then the jvp),
and at one point to second order (the HVP, and grad of grad vs SymPy for the
`sympy` family); the table counts forward mode's and second order's failures
separately too, and second-order refusals on rows of their own (the program's
outcome is then first order's).

Each worker process runs hypothesis' generator with its own seed (``seed * 1000 +
worker``), judges every program, shrinks its failures, and hands back counts and
findings; the parent prints the table, writes the findings and sets the exit status.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
from hypothesis import strategies as st

from .generator import ALL, SCALAR_STRAIGHT, Features, programs
from . import oracle
from .oracle import FAILURES, Outcome, judge
from .profiles import CI
from .shrink import shrink

TIMEOUT_S = 60


class Timeout(BaseException):
    """A program took longer than TIMEOUT_S (not an exception the oracle catches)."""


def _alarm(signum, frame):
    raise Timeout()


def _worker(args: tuple) -> dict[str, Any]:
    worker, count, seed, features, points, do_shrink, max_shrink = args
    counts: collections.Counter = collections.Counter()
    tags: collections.Counter = collections.Counter()
    findings: list[dict] = []
    signal.signal(signal.SIGALRM, _alarm)
    started = time.time()
    index = [0]

    # one program in ten is scalar and straight-line (also checked against SymPy)
    straight = SCALAR_STRAIGHT.replace(self_assign=features.self_assign, copies=features.copies)

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hseed(seed * 1000 + worker)
    @given(st.integers(0, 9).flatmap(lambda k: programs(straight if k == 0 else features)))
    def one(program):
        k = index[0]
        index[0] += 1
        counts["generated"] += 1
        tags.update(program.tags)
        signal.alarm(TIMEOUT_S)
        try:
            out = judge(program, seed=seed * 1_000_003 + worker * 100_003 + k, points=points)
        except Timeout:
            out = Outcome("timeout", f"> {TIMEOUT_S} s")
        finally:
            signal.alarm(0)
        counts[out.kind] += 1
        if out.kind == "refused":
            counts["refused:" + out.detail] += 1
        if out.kind == "crash":
            counts["crash:" + out.detail] += 1
        if out.failed:
            findings.append({"program": program, "outcome": out})
            if out.detail.startswith("jvp"):  # (forward mode's share of the failures)
                counts["forward:" + out.kind] += 1
            if out.detail.startswith(("hvp", "grad2")):  # (second order's share)
                counts["second:" + out.kind] += 1
        if "batched" in out.extra:  # (jacfwd judged: batched, per-column, refused:..., none)
            counts["batched:" + out.extra["batched"]] += 1
        if "second" in out.extra:  # (second order judged at one point: ok, refused:..., unlocated:...)
            counts["second:" + out.extra["second"]] += 1
        if "numba" in out.extra:  # (backend="numba" judged: compiled, fallback:printer/numba, n/a)
            counts["numba:" + out.extra["numba"]] += 1
        if out.failed and out.detail.startswith("numba"):
            counts["numba:" + out.kind] += 1
        if "checkpoint" in out.extra:  # (checkpoints=K vs store-all at one point: ok, refused:..., n/a)
            counts["ckpt:" + out.extra["checkpoint"]] += 1
        if out.failed and out.detail.startswith("ckpt"):
            counts["ckpt:" + out.kind] += 1
        if (k + 1) % 250 == 0:
            print(f"[worker {worker}] {k + 1}/{count} programs, {time.time() - started:.0f} s, "
                  f"{sum(counts[f] for f in FAILURES)} failing", file=sys.stderr, flush=True)

    one()
    shrunk = []
    for k, f in enumerate(findings):
        p, o = f["program"], f["outcome"]
        if do_shrink and k < max_shrink:
            signal.alarm(10 * TIMEOUT_S)
            try:
                p, o = shrink(p, o)
            except Timeout:
                pass
            finally:
                signal.alarm(0)
        shrunk.append({"shrunk": do_shrink and k < max_shrink, "source": p.source, "params": p.params, "kind": o.kind, "detail": o.detail,
                       "message": o.message, "point": o.point, "original": f["program"].source})
    return {"counts": counts, "tags": tags, "findings": shrunk}


def _write_findings(directory: str, findings: list[dict]) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    seen: dict[str, str] = {}
    paths = []
    import numpy as np
    for f in findings:
        if f["source"] in seen:
            continue
        name = f"{f['kind']}-{len(seen) + 1:03d}.py"
        if not f["shrunk"]:
            name = os.path.join("unshrunk", name)
            os.makedirs(os.path.join(directory, "unshrunk"), exist_ok=True)
        seen[f["source"]] = name
        point = ", ".join(np.array2string(v, separator=", ", precision=17) if isinstance(v, np.ndarray)
                          else repr(v) for v in f["point"])
        doc = (f'"""fuzz finding: {f["kind"]} ({f["detail"]})\n\nparams: {f["params"]}\n'
               f'point: ({point})\n\n{f["message"].strip()}\n"""\n').replace("\\", "\\\\")
        with open(os.path.join(directory, name), "w") as fh:
            fh.write(doc + f["source"])
            if f["source"] != f["original"]:
                fh.write("\n\n# the program as generated:\n" + "".join(f"# {line}\n" for line in f["original"].splitlines()))
        paths.append(name)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--findings", default="fuzz-findings")
    ap.add_argument("--profile", choices=("all", "ci"), default="all")
    ap.add_argument("--enable", action="append", default=[], choices=Features.names())
    ap.add_argument("--disable", action="append", default=[], choices=Features.names())
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--max-shrink", type=int, default=100, help="failures shrunk per worker")
    a = ap.parse_args(argv)
    features = (CI if a.profile == "ci" else ALL).replace(**{n: True for n in a.enable},
                                                          **{n: False for n in a.disable})
    own_cache = "ADJOINTC_CACHE_DIR" not in os.environ
    if own_cache:
        os.environ["ADJOINTC_CACHE_DIR"] = tempfile.mkdtemp(prefix="adjointc-fuzz-cache-")
    oracle.BASE = tempfile.mkdtemp(prefix="adjointc-fuzz-programs-")   # workers' program files
    started = time.time()
    shares = [a.programs // a.workers + (w < a.programs % a.workers) for w in range(a.workers)]
    jobs = [(w, shares[w], a.seed, features, a.points, not a.no_shrink, a.max_shrink)
            for w in range(a.workers) if shares[w]]
    try:
        if len(jobs) == 1:
            results = [_worker(jobs[0])]
        else:
            with mp.get_context("fork").Pool(len(jobs)) as pool:
                results = pool.map(_worker, jobs)
    finally:
        shutil.rmtree(oracle.BASE, ignore_errors=True)
        if own_cache:
            shutil.rmtree(os.environ["ADJOINTC_CACHE_DIR"], ignore_errors=True)
    counts: collections.Counter = collections.Counter()
    tags: collections.Counter = collections.Counter()
    findings: list[dict] = []
    for r in results:
        counts.update(r["counts"])
        tags.update(r["tags"])
        findings += r["findings"]
    print(f"\nadjointc differential fuzzer: seed {a.seed}, profile {a.profile}, "
          f"{time.time() - started:.0f} s")
    off = [n for n in Features.names() if not getattr(features, n)]
    print(f"families switched off: {', '.join(off) or 'none'}")
    rows = [("generated", counts["generated"]), ("accepted, correct", counts["ok"]),
            ("refused (AdjointcError)", counts["refused"])]
    rows += [(f"  {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items()) if k.startswith("refused:")]
    rows += [("skipped (no usable input point)", counts["skipped"]), ("timeout", counts["timeout"]),
             ("WRONG gradient", counts["wrong"]), ("WRONG value (value_and_grad)", counts["value"]),
             ("inputs MUTATED", counts["mutated"]), ("CRASH", counts["crash"])]
    rows += [(f"  forward mode (jvp): {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items())
             if k.startswith("forward:")]
    rows += [(f"  {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items()) if k.startswith("crash:")]
    rows += [(f"jacfwd vs grad (a quarter of programs): {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items())
             if k.startswith("batched:")]
    rows += [("second order (hvp, grad2) judged: correct", counts["second:ok"])]
    rows += [(f"  second order {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items())
             if k.startswith("second:") and k != "second:ok"]
    rows += [("checkpointed (checkpoints=K) == store-all", counts["ckpt:ok"])]
    rows += [(f"  checkpointing {k.split(':', 1)[1]}", v) for k, v in sorted(counts.items())
             if k.startswith("ckpt:") and k != "ckpt:ok"]
    rows += [(f"numba backend == NumPy (a quarter of programs): {k.split(':', 1)[1]}", v)
             for k, v in sorted(counts.items()) if k.startswith("numba:")]
    width = max(len(r[0]) for r in rows)
    for label, v in rows:
        print(f"  {label:<{width}}  {v:>7}")
    print("construct families drawn (programs): " +
          ", ".join(f"{k} {v}" for k, v in sorted(tags.items(), key=lambda kv: -kv[1])))
    failing = sum(counts[f] for f in FAILURES)
    if findings:
        names = _write_findings(a.findings, findings)
        print(f"{len(names)} distinct failing programs written to {a.findings}/ "
              f"(shrunk; those beyond --max-shrink per worker in {a.findings}/unshrunk/)")
    return 1 if failing else 0
