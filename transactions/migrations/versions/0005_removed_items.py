"""tombstones of disconnected banks (item_removed)

Revision ID: transactions_0005
Revises: transactions_0004
"""

from alembic import op

from common.migration_ops import create_removed_items_table, drop_removed_items_table

revision = "transactions_0005"
down_revision = "transactions_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_removed_items_table(op)


def downgrade() -> None:
    drop_removed_items_table(op)
