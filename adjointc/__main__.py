"""Command line.

    python -m adjointc show FILE.py:FUNCTION --args "np.ones(8), 0.1" [--wrt x,k]
        print the generated adjoint of FUNCTION for those argument types
    python -m adjointc cache info | clear
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

import numpy as np

from . import cache
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
    show.add_argument("--args", required=True, help="Python expression for the arguments (np is numpy)")
    show.add_argument("--wrt", default=None, help="comma-separated parameter names (default: the first)")
    c = sub.add_parser("cache", help="inspect or clear the disk cache")
    c.add_argument("action", choices=["info", "clear"])
    a = p.parse_args(argv)
    if a.cmd == "show":
        fn, module = _load(a.target)
        args = eval(f"({a.args},)", {"np": np, **vars(module)})  # the user's own expression
        wrt = tuple(a.wrt.split(",")) if a.wrt else None
        print(grad(fn, wrt=wrt).source_for(*args))
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
