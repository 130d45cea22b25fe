"""The Flask app a job runs in: the worker's own when it has one, else one built on demand."""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def bind(app: Flask) -> None:
    """Called by a worker at start so jobs in any thread find the worker's app."""
    global _app
    _app = app


def job_app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    global _app
    if _app is None:
        from webapp import create_app

        _app = create_app()
    return _app
