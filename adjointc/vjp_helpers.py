"""Runtime helpers used by rule templates (owned by the rules work)."""
from __future__ import annotations

import numpy as np
