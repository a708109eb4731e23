"""``python -m tests.fuzz``: the long profile (see tests/fuzz/__init__.py)."""
import sys

from .run import main

sys.exit(main())
