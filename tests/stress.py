"""How hard the long tests push: gently in `make test`, longer and harder in `make stress`
(BIBBLA_STRESS=1), which CI also runs."""

from __future__ import annotations

import os

STRESS = os.environ.get("BIBBLA_STRESS", "").lower() in ("1", "true", "yes")


def scaled(normal: int, stress: int) -> int:
    return stress if STRESS else normal
