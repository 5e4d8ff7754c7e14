"""Account administration (admins): list, create, disable, reset a password, grants — through the gateway's
accounts API."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
