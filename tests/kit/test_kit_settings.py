"""Settings refuse a JWT secret anyone could guess, so a misconfigured service does not start open."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from metas_kit.settings import ServiceSettings


@pytest.mark.parametrize(
    ("secret", "environment", "message"),
    [
        ("short", "development", "at least 32 characters"),
        ("REPLACE-with-at-least-32-random-bytes", "production", "placeholder"),
        ("dev-only-insecure-jwt-secret-change-me", "production", "development placeholder"),
    ],
)
def test_weak_secrets_are_refused(secret: str, environment: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceSettings(jwt_secret=secret, environment=environment)
    with pytest.raises(ValidationError, match=message):
        GatewaySettings(jwt_secret=secret, environment=environment)


def test_strong_or_development_secrets_are_accepted() -> None:
    assert ServiceSettings(jwt_secret="x" * 32).jwt_secret is not None
    # docker-compose's default is tolerated for a development stack only.
    dev = ServiceSettings(jwt_secret="dev-only-insecure-jwt-secret-change-me", environment="development")
    assert dev.environment == "development"


def test_secret_comes_from_the_unprefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAS_JWT_SECRET", "y" * 40)
    assert GatewaySettings().jwt_secret is not None
    assert GatewaySettings().jwt_secret.get_secret_value() == "y" * 40  # type: ignore[union-attr]
