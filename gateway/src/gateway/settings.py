"""Gateway settings (env prefix METAS_GATEWAY_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr

from metas_kit.settings import ServiceSettings, service_config

UPSTREAMS = ("planning", "execution", "scoring", "budget", "accounts")


class GatewaySettings(ServiceSettings):
    model_config = service_config("GATEWAY")

    planning_url: str = "http://127.0.0.1:8001"
    execution_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    budget_url: str = "http://127.0.0.1:8004"
    accounts_url: str = "http://127.0.0.1:8005"
    # Every path outside /api/ goes to the web console; with console_enabled false those paths are 404.
    console_url: str = "http://127.0.0.1:8006"
    console_enabled: bool = True
    # Whole-request budget per upstream call; connect is kept short so a dead upstream fails fast.
    upstream_timeout_seconds: float = 10.0
    upstream_connect_timeout_seconds: float = 1.0
    max_connections_per_upstream: int = 200
    # A PEM bundle trusted for https upstream URLs (an internal CA); unset: the system's trust store. Hostnames are
    # checked either way.
    upstream_ca_file: Path | None = None
    # Retries only for idempotent requests (safe methods, or a write carrying an Idempotency-Key).
    retries: int = 2
    retry_backoff_seconds: float = 0.05
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 5.0
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    max_body_bytes: int = 8 * 1024 * 1024
    # Evidence uploads (POST /api/execution/v1/plans/…/registrations/…/…/evidence: the body IS the file) may be as
    # large as execution accepts (METAS_EXECUTION_EVIDENCE_MAX_BYTES, 20 MiB by default; keep the two equal);
    # every other route keeps max_body_bytes.
    evidence_max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    # JSON object {"<sha256 of key>": {"sub": ..., "roles": [...], "units": [...]}}; keys are never stored plain.
    api_keys: dict[str, dict[str, object]] = Field(default_factory=dict)
    api_keys_file: str | None = None
    # Peers (addresses or CIDR blocks) whose X-Forwarded-For / X-Forwarded-Proto are believed (the console, a
    # load balancer): the client address used for throttling is then the one they name.
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # Session checks are cached this long (sign-out is immediate; a disable elsewhere takes effect within it).
    session_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    # Lifetime of the session cookie: accounts' absolute session lifetime (METAS_ACCOUNTS_SESSION_ABSOLUTE_SECONDS).
    session_absolute_seconds: int = 12 * 3600
    # Failed authentications per client address: a bucket of this many, refilled one per refill period.
    auth_failure_burst: int = Field(default=20, ge=1)
    auth_failure_refill_seconds: float = Field(default=15.0, gt=0)

    # OpenID Connect sign-in (off unless an issuer is set): the client registered at the provider, the
    # callback URL registered with it (https://<host>/api/auth/oidc/callback), the claim naming the person and
    # the claim whose values map to grants: {"<claim value>": [{"role", "org", "units"}, …]}.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None
    oidc_scopes: str = "openid email profile"
    oidc_username_claim: str = "preferred_username"
    oidc_grants_claim: str = "groups"
    oidc_grant_map: dict[str, list[dict[str, object]]] = Field(default_factory=dict)
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "PS256", "ES256", "EdDSA"])

    # The merged OpenAPI document and /docs: for authenticated callers unless made public (or switched off with
    # METAS_GATEWAY_DOCS_ENABLED=false).
    docs_public: bool = False
    # Peers allowed to read the gateway's own /metrics (Prometheus on the internal network).
    metrics_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )

    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url") for name in UPSTREAMS}


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
