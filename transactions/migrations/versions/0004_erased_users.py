"""erased-user tombstones (account deletion)

Revision ID: transactions_0004
Revises: transactions_0003
"""

from alembic import op

from common.migration_ops import create_erased_users_table, drop_erased_users_table

revision = "transactions_0004"
down_revision = "transactions_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_erased_users_table(op)


def downgrade() -> None:
    drop_erased_users_table(op)
