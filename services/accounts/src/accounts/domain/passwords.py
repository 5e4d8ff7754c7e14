"""argon2id password hashes. Verification of an unknown or disabled account runs against a dummy hash of the
same cost, so the time a refusal takes does not tell whether the account exists."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
# argon2 hashes any length, but a megabyte "password" would only cost us CPU.
MAX_PASSWORD_LENGTH = 256


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
        self.dummy = self.hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; with ``stored=None`` burns the same time and says False."""
        try:
            self.hasher.verify(stored or self.dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored is not None

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def password_problems(password: str, username: str) -> list[str]:
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == username.lower():
        problems.append("not the username")
    if password and len(set(password)) < 4:
        problems.append("at least 4 different characters")
    return problems
