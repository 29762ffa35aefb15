"""categorization rules (the user's own, ordered) and the rule a transaction's category came from

Revision ID: transactions_0003
Revises: transactions_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "transactions_0003"
down_revision = "transactions_0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 4)


def upgrade() -> None:
    op.create_table(
        "categorization_rules",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category_detailed", sa.String(96), nullable=False),
        sa.Column("text_conditions", sa.Text()),
        sa.Column("amount_min", MONEY),
        sa.Column("amount_max", MONEY),
        sa.Column("account_ids", postgresql.JSONB(), nullable=False),
        sa.Column("direction", sa.String(3)),
        sa.Column("idempotency_key", sa.String(64)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_categorization_rules"),
        sa.UniqueConstraint(
            "user_id",
            "idempotency_key",
            name="uq_categorization_rules_user_id_idempotency_key",
        ),
        sa.CheckConstraint(
            "direction IS NULL OR direction IN ('in', 'out')",
            name="ck_categorization_rules_direction",
        ),
        sa.CheckConstraint(
            "(amount_min IS NULL OR amount_min >= 0) AND (amount_max IS NULL OR amount_max >= 0)"
            " AND (amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max)",
            name="ck_categorization_rules_amounts",
        ),
    )
    op.create_index(
        "ix_categorization_rules_user_position", "categorization_rules", ["user_id", "position"]
    )
    op.add_column("transactions", sa.Column("category_rule_id", sa.String(36)))
    op.create_foreign_key(
        "fk_transactions_category_rule_id_categorization_rules",
        "transactions",
        "categorization_rules",
        ["category_rule_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        "fk_transactions_category_rule_id_categorization_rules", "transactions", type_="foreignkey"
    )
    op.drop_column("transactions", "category_rule_id")
    op.drop_index("ix_categorization_rules_user_position", table_name="categorization_rules")
    op.drop_table("categorization_rules")
