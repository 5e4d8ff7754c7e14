"""Local people for `make run`: an admin and one demo account per role of the seed plans, each with a random
password made on first run, printed once and kept (owner-only) in var/local-accounts.json."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from metas_dev.credentials import write_private
from metas_kit.auth import Grant, Principal, issue_token


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    grants: tuple[dict[str, Any], ...]
    locale: str = "pt-PT"


def _grant(role: str, org: str = "*", units: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"role": role, "org": org, "units": list(units)}


# The seed plans: ipsm (Acordo 2014, unit DS among others) and ii (QUAR 2024, unit DAS among others; it also
# owns the PRR budget).
PEOPLE = (
    Person("admin", "Local administrator", (_grant("admin"),), "en"),
    Person("ds.registrar", "Registrar of DS (IPSM)", (_grant("registrar", "ipsm", ("DS",)),)),
    Person("das.registrar", "Registrar of DAS (II)", (_grant("registrar", "ii", ("DAS",)),)),
    Person("certifier", "Certifier (IPSM and II)", (_grant("certifier", "ipsm"), _grant("certifier", "ii"))),
    Person("planner", "Planner (IPSM and II)", (_grant("planner", "ipsm"), _grant("planner", "ii")), "pt-BR"),
    Person("budget", "Budget officer (II)", (_grant("budget", "ii"),)),
    Person("viewer", "Viewer (IPSM and II)", (_grant("viewer", "ipsm"), _grant("viewer", "ii")), "en"),
    Person("auditor", "Auditor (IPSM and II)", (_grant("auditor", "ipsm"), _grant("auditor", "ii"))),
)


def ensure_people(accounts_url: str, secret: str, var: Path) -> dict[str, str]:
    """Creates the accounts that do not exist yet; returns {username: password} of those just made."""
    store = var / "local-accounts.json"
    known: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    token = issue_token(Principal("make-run", grants=[Grant("admin")]), secret, ttl_seconds=300)
    made: dict[str, str] = {}
    with httpx.Client(base_url=accounts_url, headers={"authorization": f"Bearer {token}"}, timeout=30) as client:
        for person in PEOPLE:
            found = client.get(f"/v1/accounts/{person.username}")
            if found.status_code == 200:
                continue
            password = secrets.token_urlsafe(12)
            resp = client.post(
                "/v1/accounts",
                json={
                    "username": person.username,
                    "display_name": person.display_name,
                    "email": f"{person.username}@metas.localhost",
                    "locale": person.locale,
                    "password": password,
                    "grants": list(person.grants),
                },
            )
            if resp.status_code != 201:
                raise RuntimeError(f"creating the account {person.username} failed: {resp.status_code} {resp.text}")
            made[person.username] = password
    if made:
        known.update(made)
        write_private(store, json.dumps(known, indent=2) + "\n")
    return made
