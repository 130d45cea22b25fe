"""The configuration in force: tenant, client, deletion actions, filters, mappings.

Secrets (client secret, secret key, admin password) appear only as "set" / "not set"; URLs
that may embed credentials (database, Redis) are reduced to what they point at.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import make_url

from jobs.sync.context import sync_context
from mappings import MappingConfigError
from webapp.dashboard import bp
from webapp.dashboard.login import login_required

SECRETS = ("CLIENT_SECRET", "SECRET_KEY", "ADMIN_PASSWORD")
# Settings other parts add appear when present (a missing one is simply not listed).
SHOWN = ("TENANT_ID", "CLIENT_ID", "CLIENT_CERTIFICATE", "GRAPH_URL", "AUTHORITY_URL",
         "USER_DELETE_ACTION", "GROUP_DELETE_ACTION", "EXCLUDE_SERVICE_ACCOUNTS",
         "SERVICE_ACCOUNT_TYPES", "FILTER_GROUPS", "USER_MATCH", "MAPPINGS_DIR",
         "FULL_SYNC_CRON", "FULL_SYNC_CHUNK", "GRAPH_WRITES_PER_SECOND", "ADMIN_GROUP",
         "ADMIN_ROLE", "SCIM_AUDIENCE", "SCIM_ALLOWED_APPS", "TRUSTED_PROXIES")


def _database() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return "SQLite (embedded)"
    return f"{url.get_backend_name()} on {url.host or 'local socket'}/{url.database or ''}"


def _redis(settings: dict[str, Any]) -> str:
    raw = settings.get("REDIS_URL")
    if not raw:
        return "embedded (in-process)"
    parts = urlsplit(str(raw))  # host, port and database only: never the password
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}"


def _mappings() -> tuple[list[dict[str, str]], str | None]:
    try:
        engine = sync_context(current_app._get_current_object()  # type: ignore[attr-defined]
                              ).load_mappings()
    except MappingConfigError as exc:
        return [], f"{exc.mapping}: {exc.message}"
    return engine.describe(), None


@bp.get("config")
@login_required
def config_page() -> ResponseReturnValue:
    settings = current_app.config["SCIM2ENTRA"]
    mappings, mapping_error = _mappings()
    return render_template(
        "dashboard/config.html",
        shown=[(key, settings.get(key)) for key in SHOWN if key in settings],
        secrets=[(key, bool(settings.get(key))) for key in SECRETS],
        dry_run=current_app.config["DRY_RUN"], database=_database(), redis=_redis(settings),
        mappings=mappings, mapping_error=mapping_error)
