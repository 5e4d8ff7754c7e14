"""Hypothesis profiles of the rules suite: thorough by default, small and deterministic under `make mutate`.

Under mutation testing every mutant reruns the property tests that reach it; a derandomized, smaller run keeps a
mutant's verdict reproducible and the whole run within minutes (scripts/mutate.py selects the profile).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", max_examples=300, deadline=None)
settings.register_profile("mutate", max_examples=40, deadline=None, derandomize=True, database=None)
settings.load_profile(os.environ.get("METAS_HYPOTHESIS_PROFILE", "default"))
