"""erased-user tombstones (account deletion)

Revision ID: portfolio_0004
Revises: portfolio_0003
"""

from alembic import op

from common.migration_ops import create_erased_users_table, drop_erased_users_table

revision = "portfolio_0004"
down_revision = "portfolio_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_erased_users_table(op)


def downgrade() -> None:
    drop_erased_users_table(op)
