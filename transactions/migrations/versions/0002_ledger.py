"""ledger, splits, category corrections, budgets and budget alerts

Revision ID: transactions_0002
Revises: transactions_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "transactions_0002"
down_revision = "transactions_0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 4)


def _timestamps():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("item_id", sa.String(100)),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("provider_transaction_id", sa.String(100)),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("iso_currency_code", sa.String(3), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("authorized_date", sa.Date()),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("local_hour", sa.SmallInteger()),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("payment_channel", sa.String(16), nullable=False),
        sa.Column("category_primary", sa.String(64)),
        sa.Column("category_detailed", sa.String(96)),
        sa.Column("category_source", sa.String(12), nullable=False),
        sa.Column("category_confidence", sa.Numeric(5, 4)),
        sa.Column("provider_category", sa.String(96)),
        sa.Column("merchant_tag", sa.String(32)),
        sa.Column("country_tag", sa.String(32)),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("search_tokens", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("tags", postgresql.JSONB(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("is_split", sa.Boolean(), nullable=False),
        sa.Column("anomaly_score", sa.Numeric(5, 4)),
        sa.Column("anomaly_reasons", postgresql.JSONB()),
        sa.Column("anomaly_status", sa.String(10), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_transactions"),
        sa.UniqueConstraint(
            "user_id",
            "provider_transaction_id",
            name="uq_transactions_user_id_provider_transaction_id",
        ),
        sa.CheckConstraint("source IN ('provider', 'manual')", name="ck_transactions_source"),
    )
    op.create_index("ix_transactions_user_date", "transactions", ["user_id", "date", "id"])
    op.create_index("ix_transactions_user_amount", "transactions", ["user_id", "amount", "id"])
    op.create_index("ix_transactions_user_account", "transactions", ["user_id", "account_id"])
    op.create_index("ix_transactions_user_merchant", "transactions", ["user_id", "merchant_tag"])
    op.create_index(
        "ix_transactions_search", "transactions", ["search_tokens"], postgresql_using="gin"
    )
    op.create_table(
        "transaction_splits",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("category_primary", sa.String(64)),
        sa.Column("category_detailed", sa.String(96)),
        sa.PrimaryKeyConstraint("id", name="pk_transaction_splits"),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            ondelete="CASCADE",
            name="fk_transaction_splits_transaction_id_transactions",
        ),
    )
    op.create_index(
        "ix_transaction_splits_transaction_id", "transaction_splits", ["transaction_id"]
    )
    op.create_table(
        "category_corrections",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("merchant_tag", sa.String(32), nullable=False),
        sa.Column("merchant_key", sa.Text(), nullable=False),
        sa.Column("category_detailed", sa.String(96), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_category_corrections"),
        sa.UniqueConstraint(
            "user_id", "merchant_tag", name="uq_category_corrections_user_id_merchant_tag"
        ),
    )
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(96), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rollover", sa.Boolean(), nullable=False),
        sa.Column("start_month", sa.Date(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_budgets"),
        sa.UniqueConstraint(
            "user_id", "category", "currency", name="uq_budgets_user_id_category_currency"
        ),
        sa.CheckConstraint("amount > 0", name="ck_budgets_positive"),
    )
    op.create_index("ix_budgets_user_id", "budgets", ["user_id"])
    op.create_table(
        "budget_alerts",
        sa.Column("budget_id", sa.String(36), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("budget_id", "month", "threshold", name="pk_budget_alerts"),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["budgets.id"],
            ondelete="CASCADE",
            name="fk_budget_alerts_budget_id_budgets",
        ),
    )


def downgrade() -> None:
    op.drop_table("budget_alerts")
    op.drop_index("ix_budgets_user_id", table_name="budgets")
    op.drop_table("budgets")
    op.drop_table("category_corrections")
    op.drop_index("ix_transaction_splits_transaction_id", table_name="transaction_splits")
    op.drop_table("transaction_splits")
    for name in (
        "ix_transactions_search",
        "ix_transactions_user_merchant",
        "ix_transactions_user_account",
        "ix_transactions_user_amount",
        "ix_transactions_user_date",
    ):
        op.drop_index(name, table_name="transactions")
    op.drop_table("transactions")
