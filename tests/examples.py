"""How many examples the property tests try: all of them in `make test` (and CI), a
fifth in `make test-quick` (RECTIFY_TEST_QUICK=1), the edit loop, as Hypothesis'
settings profiles are meant to be used."""

from __future__ import annotations

import os

from hypothesis import settings

QUICK = os.environ.get("RECTIFY_TEST_QUICK") == "1"
QUICK_SHARE = 5
QUICK_FLOOR = 20

settings.register_profile("quick", max_examples=QUICK_FLOOR)
if QUICK:
    settings.load_profile("quick")


def examples(n: int) -> int:
    """`n` examples, or a fifth of them (at least QUICK_FLOOR) in the quick run."""
    return max(QUICK_FLOOR, n // QUICK_SHARE) if QUICK else n
