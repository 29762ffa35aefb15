"""retirement goals: monthly withdrawal and years in retirement

Revision ID: portfolio_0003
Revises: portfolio_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "portfolio_0003"
down_revision = "portfolio_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "goals",
        sa.Column(
            "monthly_withdrawal",
            sa.Numeric(precision=24, scale=8),
            nullable=False,
            server_default="0",
        ),
    )
    op.add_column(
        "goals",
        sa.Column("retirement_years", sa.SmallInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("goals", "retirement_years")
    op.drop_column("goals", "monthly_withdrawal")
