"""Local credentials for `make run`: a random JWT secret and an admin API key, made on first run, kept in var/
with owner-only permissions. There is no default password."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def jwt_secret(var: Path) -> str:
    path = var / "jwt-secret"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def admin_api_key(var: Path) -> tuple[str, Path]:
    """The admin key (made once) and the file of key hashes the gateway loads."""
    key_path = var / "admin-api-key"
    keys_file = var / "api-keys.json"
    if not key_path.exists():
        write_private(key_path, "metas_" + secrets.token_urlsafe(32))
    key = key_path.read_text().strip()
    digest = hashlib.sha256(key.encode()).hexdigest()
    entries = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    entries[digest] = {"sub": "local-admin", "roles": ["admin"], "units": []}
    write_private(keys_file, json.dumps(entries, indent=2))
    return key, keys_file
