"""scim2entra web application: create_app() reads like the table of contents."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `test_config` overrides environment settings (tests, `run`)."""
    # The instance folder holds the SQLite file and the generated secret key.
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "SCIM2ENTRA_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_path=instance, instance_relative_config=True)

    from webapp import config

    config.init_app(app, test_config)

    from webapp import store

    store.init_app(app)

    from jobs import dispatcher, queue

    queue.init_app(app)
    dispatcher.init_app(app)  # enqueues after commit, off the request thread

    from scim.blueprint import bp as scim_bp

    app.register_blueprint(scim_bp)

    from webapp import health

    app.register_blueprint(health.bp)

    from webapp import logs, metrics

    logs.init_app(app)
    app.register_blueprint(metrics.bp)

    from webapp import dashboard

    dashboard.init_app(app)

    from webapp import auth_oidc

    auth_oidc.init_app(app)  # Entra sign-in, when set up

    from webapp import cli

    cli.init_app(app)
    return app
