"""Settings of the identity layer (environment variables, local defaults).

| variable | default | meaning |
|---|---|---|
| ``NESTEGG_ACCESS_TOKEN_TTL`` | 900 | access token lifetime in seconds (at most 900) |
| ``NESTEGG_AUTH_CODE_TTL`` | 600 | authorization code lifetime (at most 600) |
| ``NESTEGG_REFRESH_ABSOLUTE_TTL`` | 2592000 | refresh chains end this long after sign-in |
| ``NESTEGG_SESSION_STATE_TTL`` | 30 | cache of ``sessions_valid_after`` (s) |
| ``NESTEGG_STEP_UP_SECONDS`` | 600 | how recent a second factor must be for step-up routes |
| ``NESTEGG_RATELIMIT_STORAGE_URI`` | ``settings.redis_url`` | flask-limiter storage |
| ``NESTEGG_RATELIMIT_ENABLED`` | true | switch rate limits off (benchmarks only) |
| ``NESTEGG_LIMIT_LOGIN`` | 10/minute;60/hour | sign-in form posts per client IP |
| ``NESTEGG_LIMIT_TOKEN`` | 60/minute | ``/oauth/token`` and ``/oauth/revoke`` per client IP |
| ``NESTEGG_LIMIT_REGISTER`` / ``_RESET`` | 5/minute;30/hour | registration, password reset per IP |
| ``NESTEGG_LIMIT_MFA`` | 10/minute | MFA, password change, export per user |
| ``NESTEGG_LIMIT_USER`` | 300/minute | other identity routes per user |
"""

from __future__ import annotations

from dataclasses import dataclass

from common.config import env, env_int

MAX_ACCESS_TTL = 900
MAX_CODE_TTL = 600


@dataclass(frozen=True)
class AuthConfig:
    access_ttl: int = 900
    code_ttl: int = 600
    refresh_absolute_ttl: int = 30 * 24 * 3600
    session_state_ttl: int = 30
    step_up_seconds: int = 600
    login_state_ttl: int = 600
    ratelimit_storage_uri: str | None = None  # None: settings.redis_url
    ratelimit_enabled: bool = True
    ratelimit_key_prefix: str = "nestegg-rl"
    login_limit: str = "10/minute;60/hour"
    token_limit: str = "60/minute"  # noqa: S105 - a rate, not a secret
    register_limit: str = "5/minute;30/hour"
    reset_limit: str = "5/minute;30/hour"
    mfa_limit: str = "10/minute"
    api_user_limit: str = "300/minute"

    def __post_init__(self):
        if not 1 <= self.access_ttl <= MAX_ACCESS_TTL:
            raise ValueError(f"access token lifetime must be 1..{MAX_ACCESS_TTL} s")
        if not 1 <= self.code_ttl <= MAX_CODE_TTL:
            raise ValueError(f"authorization code lifetime must be 1..{MAX_CODE_TTL} s")
        for name in ("refresh_absolute_ttl", "step_up_seconds", "login_state_ttl"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.session_state_ttl < 0:
            raise ValueError("session_state_ttl must not be negative")


def load_auth_config() -> AuthConfig:
    enabled = (env("NESTEGG_RATELIMIT_ENABLED", "true") or "true").strip().lower()
    if enabled not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"NESTEGG_RATELIMIT_ENABLED must be true or false, got {enabled!r}")
    return AuthConfig(
        access_ttl=env_int("NESTEGG_ACCESS_TOKEN_TTL", 900),
        code_ttl=env_int("NESTEGG_AUTH_CODE_TTL", 600),
        refresh_absolute_ttl=env_int("NESTEGG_REFRESH_ABSOLUTE_TTL", 30 * 24 * 3600),
        session_state_ttl=env_int("NESTEGG_SESSION_STATE_TTL", 30),
        step_up_seconds=env_int("NESTEGG_STEP_UP_SECONDS", 600),
        login_state_ttl=env_int("NESTEGG_LOGIN_STATE_TTL", 600),
        ratelimit_storage_uri=env("NESTEGG_RATELIMIT_STORAGE_URI"),
        ratelimit_enabled=enabled in ("1", "true", "yes", "on"),
        login_limit=env("NESTEGG_LIMIT_LOGIN", "10/minute;60/hour"),
        token_limit=env("NESTEGG_LIMIT_TOKEN", "60/minute"),
        register_limit=env("NESTEGG_LIMIT_REGISTER", "5/minute;30/hour"),
        reset_limit=env("NESTEGG_LIMIT_RESET", "5/minute;30/hour"),
        mfa_limit=env("NESTEGG_LIMIT_MFA", "10/minute"),
        api_user_limit=env("NESTEGG_LIMIT_USER", "300/minute"),
    )
