"""Flask extensions, created unbound here and bound in create_app() (flaskr's pattern)."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Rows stay readable after commit: a SCIM write answers with the row it just committed, and
# expiring it would cost one more SELECT per request.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
