"""The baseline for bench/scim_ingress.py: parse JSON, insert one row, commit, answer 201.

The least any SCIM server on Flask-SQLAlchemy must do per POST; scim2entra's POST /Users is
measured against it in the same run.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareUser(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bench_bare_user"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(256), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


def create_bare_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["SCIM2ENTRA_DATABASE_URL"]
    db.init_app(app)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.post("/bare/Users")
    def create() -> Any:
        body = request.get_json(force=True)
        row = BareUser(id=str(uuid.uuid4()), user_name=body["userName"], data=body)
        db.session.add(row)
        db.session.commit()
        return jsonify({**body, "id": row.id}), 201

    return app
