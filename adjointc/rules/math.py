"""Rules for the `math` module (stub; filled in by the rules work)."""
import math

from . import defvjp

defvjp(math.sin, "x", x="g * math.cos(x)", result="float")
defvjp(math.cos, "x", x="-g * math.sin(x)", result="float")
defvjp(math.exp, "x", x="g * ans", result="float")
defvjp(math.log, "x", x="g / x", result="float")
