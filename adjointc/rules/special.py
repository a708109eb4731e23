"""Special functions: `math.lgamma`, `math.gamma`, and the digamma and trigamma helpers
their derivatives call (adjointc/rules/helpers/special.py, scipy-free).

lgamma' = digamma, gamma' = gamma * digamma, digamma' = trigamma: first and second
derivatives (grad of grad). Trigamma has no rule: a third derivative is a located
NoAdjointRule. (`math.erf`/`erfc` are in rules/math.py.)
"""
from __future__ import annotations

import math

from . import defjvp, defvjp
from .helpers.special import digamma, trigamma

defvjp(math.lgamma, "x", x="g * digamma(x)", result="float")
defvjp(math.gamma, "x", x="g * ans * digamma(x)", result="float")
defvjp(digamma, "x", name="digamma", x="g * trigamma(x)", result="elementwise")
defjvp("digamma", x="d * trigamma(x)")
