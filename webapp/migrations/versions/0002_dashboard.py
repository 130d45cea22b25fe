"""dashboard: byte-order name indexes for the object lists (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:40:00

No tables: the dashboard reads the store. On SQLite the unique name indexes (BINARY order)
serve the lists already; PostgreSQL needs the same order in an index of its own
(bench/dashboard_lists.py).
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The lists sort, page (keyset) and prefix-search the name keys in byte order
        # (COLLATE "C"), as SQLite does: one index serves all three, LIKE 'abc%' becomes an
        # index range under any database collation (PostgreSQL docs 11.10 "Operator Classes
        # and Operator Families"), and the pages are the same on both dialects.
        op.execute('CREATE INDEX ix_scim_user_name_c ON scim_user (user_name_key COLLATE "C")')
        op.execute('CREATE INDEX ix_scim_group_name_c '
                   'ON scim_group (display_name_key COLLATE "C")')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_scim_group_name_c", table_name="scim_group")
        op.drop_index("ix_scim_user_name_c", table_name="scim_user")
