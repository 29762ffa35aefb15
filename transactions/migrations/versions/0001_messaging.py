"""outbox and inbox tables

Revision ID: transactions_0001
Revises:
"""

from alembic import op

from common.migration_ops import create_messaging_tables, drop_messaging_tables

revision = "transactions_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
