"""Path and query parameter types of the planning API, declared once so every route documents the same
identifier formats (the plan document's) and integer bounds (INTEGER columns): invalid input is a 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from planning.domain.document import CODE_PATTERN, ID_MAX_LENGTH, SLUG_PATTERN

INT32_MAX = 2**31 - 1

PlanId = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=ID_MAX_LENGTH, examples=["ii-2024-quar"])]
OrganisationCode = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=ID_MAX_LENGTH, examples=["ii"])]
ItemCode = Annotated[str, Path(pattern=CODE_PATTERN, max_length=ID_MAX_LENGTH, examples=["OE1"])]
VersionNumber = Annotated[int, Path(ge=1, le=INT32_MAX, description="Version number of the plan")]
VersionQuery = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="Version number (default: current)")]
