"""Configuration from SCIM2ENTRA_* environment variables (and a .env file), see CONTRACT.md."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

PREFIX = "SCIM2ENTRA_"

# Every variable of the contract, with its default (None = unset). Read once at start-up.
DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "SECRET_KEY": None,
    "TENANT_ID": None,
    "CLIENT_ID": None,
    "CLIENT_SECRET": None,
    "CLIENT_CERTIFICATE": None,
    "GRAPH_URL": "https://graph.microsoft.com/v1.0",
    "AUTHORITY_URL": "https://login.microsoftonline.com",
    "CA_BUNDLE": None,
    "DRY_RUN": None,
    "USER_DELETE_ACTION": "delete",
    "GROUP_DELETE_ACTION": "delete",
    "EXCLUDE_SERVICE_ACCOUNTS": "true",
    "SERVICE_ACCOUNT_TYPES": "service,serviceaccount,service account,service_account",
    "FILTER_GROUPS": None,
    "USER_MATCH": "mail,userPrincipalName",
    "MAPPINGS_DIR": None,
    "FULL_SYNC_CRON": "0 */4 * * *",
    "ADMIN_PASSWORD": None,
    # Additions of ours (not in the contract's table, safe defaults).
    # Entra sign-in: admins are members of this group (object id) or hold this app role.
    "ADMIN_GROUP": None,
    "ADMIN_ROLE": None,
    # SCIM with Entra-issued JWTs: accepted audiences (default api://<client id>, <client id>)
    # and the caller app ids (appid / azp) allowed (default: our own client id).
    "SCIM_AUDIENCE": None,
    "SCIM_ALLOWED_APPS": None,
    "MAX_BODY_BYTES": str(1024 * 1024),
    "BULK_MAX_OPERATIONS": "1000",
    "BULK_MAX_PAYLOAD_BYTES": str(4 * 1024 * 1024),
    "FILTER_MAX_RESULTS": "1000",
    "QUEUE_NAME": "scim2entra",
    "FULL_SYNC_CHUNK": "500",  # objects per full-sync chunk job
    "FULL_SYNC_LEASE": "120",  # seconds a full sync's lock lives without its jobs refreshing it
    # Dashboard: X-Forwarded-* are honoured from this many proxies in front (unset = none).
    "TRUSTED_PROXIES": None,
    "LOG_LEVEL": "INFO",
    "WORKER_HEARTBEAT_MAX_AGE": "60",
    # Graph: 3,000 writes / 150 s per app and tenant; one Redis bucket paces all workers.
    "GRAPH_WRITES_PER_SECOND": "20",
}

TRUE_WORDS = {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """A configuration value that cannot work; the message says which and why."""


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def as_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def read_environment() -> dict[str, Any]:
    """SCIM2ENTRA_* variables, after loading a .env file from the working directory if present."""
    try:
        from dotenv import load_dotenv

        load_dotenv(override=False)
    except ImportError:  # pragma: no cover - python-dotenv is a dependency
        pass
    return {key: os.environ.get(PREFIX + key, default) for key, default in DEFAULTS.items()}


def _instance_secret(instance: Path) -> str:
    """The generated secret key, kept in the instance folder so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _validate(settings: dict[str, Any]) -> None:
    if settings["USER_DELETE_ACTION"] not in {"delete", "suspend", "do_nothing"}:
        raise ConfigError(
            "SCIM2ENTRA_USER_DELETE_ACTION must be delete, suspend or do_nothing, "
            f"not {settings['USER_DELETE_ACTION']!r}"
        )
    if settings["GROUP_DELETE_ACTION"] not in {"delete", "do_nothing"}:
        raise ConfigError(
            "SCIM2ENTRA_GROUP_DELETE_ACTION must be delete or do_nothing, "
            f"not {settings['GROUP_DELETE_ACTION']!r}"
        )
    if not str(settings["AUTHORITY_URL"]).startswith("https://"):
        # azure-identity refuses a non-https authority (graph-facts.md).
        raise ConfigError("SCIM2ENTRA_AUTHORITY_URL must be an https:// URL")
    _positive_number(settings, "GRAPH_WRITES_PER_SECOND")
    _positive_number(settings, "FULL_SYNC_CHUNK")
    _positive_number(settings, "FULL_SYNC_LEASE")


def _positive_number(settings: dict[str, Any], key: str) -> None:
    try:
        ok = float(settings[key]) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"SCIM2ENTRA_{key} must be a positive number, not {settings[key]!r}")


def has_credentials(settings: dict[str, Any]) -> bool:
    return bool(
        settings.get("TENANT_ID")
        and settings.get("CLIENT_ID")
        and (settings.get("CLIENT_SECRET") or settings.get("CLIENT_CERTIFICATE"))
    )


def init_app(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill app.config: environment first, then the caller's overrides (tests)."""
    settings = read_environment()
    settings.update({k: v for k, v in (overrides or {}).items() if k in DEFAULTS})
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    _validate(settings)

    database_url = settings["DATABASE_URL"] or f"sqlite:///{instance / 'scim2entra.db'}"
    dry_run = settings["DRY_RUN"]
    app.config.update(
        SCIM2ENTRA=settings,
        SECRET_KEY=settings["SECRET_KEY"] or _instance_secret(instance),
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(database_url),
        MAX_CONTENT_LENGTH=int(settings["BULK_MAX_PAYLOAD_BYTES"]),
        DRY_RUN=as_bool(dry_run) if dry_run is not None else not has_credentials(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update({k: v for k, v in (overrides or {}).items() if k not in DEFAULTS})


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # The busy timeout lets concurrent writers wait for SQLite's one write lock.
        return {"connect_args": {"timeout": 30}}
    return {}  # disconnects: webapp/pool_ping.py (a ping after idle, not on every checkout)
