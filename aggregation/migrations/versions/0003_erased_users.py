"""erased-user tombstones (account deletion)

Revision ID: aggregation_0003
Revises: aggregation_0002
"""

from alembic import op

from common.migration_ops import create_erased_users_table, drop_erased_users_table

revision = "aggregation_0003"
down_revision = "aggregation_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_erased_users_table(op)


def downgrade() -> None:
    drop_erased_users_table(op)
