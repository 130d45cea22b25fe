"""gunicorn for `scim2entra serve` (the same app as `gunicorn 'webapp:create_app()'`)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from webapp import create_app

        return create_app()


def serve_with_gunicorn(host: str, port: int, workers: int) -> None:
    # Sync workers: on two cores threads do not add throughput and with SQLite they fight
    # over the write lock (stack-facts.md, web ingress table).
    # No gunicorn access log: webapp/logs.py writes one JSON line per SCIM request.
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync"}).run()
