"""Command line.

    python -m adjointc show FILE.py:FUNCTION --args "np.ones(8), 0.1" [--wrt x,k]
        print the generated adjoint of FUNCTION for those argument types
    python -m adjointc show FILE.py:FUNCTION --args "..." --list-passes
        print the names of the compiler's passes, in order (adjointc.passes.PIPELINE)
    python -m adjointc show FILE.py:FUNCTION --args "..." --after NAME
        print the IR after the pass NAME (the primal IR as lowered after `lower`,
        structured after `normalize`; the adjoint IR from `reverse` on) and the
        facts attached so far; ADJOINTC_DUMP=1 prints the
        IR after every pass that changed it
    python -m adjointc cache info | clear
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

import numpy as np

from . import cache, passes, printer
from .api import grad


def _load(spec: str):
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"expected FILE.py:FUNCTION, got {spec!r}")
    mod_spec = importlib.util.spec_from_file_location("_adjointc_target", path)
    if mod_spec is None or mod_spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules["_adjointc_target"] = module
    mod_spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if fn is None:
        raise SystemExit(f"{path} has no function {name!r}")
    return getattr(fn, "primal", fn), module


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="adjointc", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show", help="print the generated adjoint of a function")
    show.add_argument("target", help="FILE.py:FUNCTION")
    show.add_argument("--args", help="Python expression for the arguments (np is numpy)")
    show.add_argument("--wrt", default=None, help="comma-separated parameter names (default: the first)")
    show.add_argument("--list-passes", action="store_true", help="print the pipeline's pass names")
    show.add_argument("--after", metavar="NAME", choices=passes.names(),
                      help="print the IR after this pass instead of the generated adjoint")
    c = sub.add_parser("cache", help="inspect or clear the disk cache")
    c.add_argument("action", choices=["info", "clear"])
    a = p.parse_args(argv)
    if a.cmd == "show":
        if a.list_passes:
            print("\n".join(passes.names()))
            return 0
        if a.args is None:
            p.error("show needs --args (the arguments the adjoint is specialised on)")
        fn, module = _load(a.target)
        args = eval(f"({a.args},)", {"np": np, **vars(module)})  # the user's own expression
        wrt = tuple(a.wrt.split(",")) if a.wrt else None
        g = grad(fn, wrt=wrt)
        if a.after:
            prog = g.program_after(a.after, *args)
            ir = prog.ir
            print(f"# {ir.name}({', '.join(q.name for q in ir.params)}) after {a.after}")
            for fact in ("mutated", "active", "adjoints"):  # (the facts attached so far)
                if getattr(prog, fact):
                    print(f"# {fact}: {', '.join(sorted(getattr(prog, fact)))}")
            print(printer.block(ir.body))
            return 0
        print(g.source_for(*args))
        return 0
    if a.action == "info":
        entries = cache.entries()
        size = sum(e.stat().st_size for e in entries)
        print(f"{cache.cache_dir()}: {len(entries)} entries, {size / 1024:.1f} KiB")
    else:
        print(f"removed {cache.clear()} entries from {cache.cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
