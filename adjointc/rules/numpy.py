"""Rules for NumPy (stub; filled in by the rules work)."""
import numpy as np

from . import defvjp

defvjp(np.sin, "x", x="g * np.cos(x)")
defvjp(np.cos, "x", x="-g * np.sin(x)")
defvjp(np.exp, "x", x="g * ans")
defvjp(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False",
       a="unreduce(g, a, axis, keepdims)", result="reduce")
defvjp(np.copy, "a", a="g", result="same")
