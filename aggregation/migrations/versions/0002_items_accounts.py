"""items, accounts, balance snapshots, imported transaction ids

Revision ID: aggregation_0002
Revises: aggregation_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "aggregation_0002"
down_revision = "aggregation_0001"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_item_id", sa.String(255), nullable=False),
        sa.Column("institution_id", sa.String(64)),
        sa.Column("institution_name", sa.String(200)),
        sa.Column("access_token", sa.Text()),
        sa.Column("cursor", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="healthy"),
        sa.Column("error_code", sa.String(80)),
        sa.Column("error_message", sa.String(500)),
        sa.Column("error_at", sa.DateTime(timezone=True)),
        sa.Column("sync_requested_at", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_synced_at", sa.DateTime(timezone=True)),
        sa.Column("last_sync_ms", sa.Integer()),
        sa.Column("sync_sequence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("transactions_last_sync", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("transactions_total", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("investments_through", sa.Date()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint(
            "provider", "provider_item_id", name="uq_items_provider_provider_item_id"
        ),
    )
    op.create_index("ix_items_user_id", "items", ["user_id"])
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("provider_account_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("official_name", sa.String(200)),
        sa.Column("mask", sa.String(8)),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("subtype", sa.String(64)),
        sa.Column("iso_currency_code", sa.String(16)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_accounts_item_id_items", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "item_id", "provider_account_id", name="uq_accounts_item_id_provider_account_id"
        ),
    )
    op.create_index("ix_accounts_item_id", "accounts", ["item_id"])
    op.create_index("ix_accounts_user_id", "accounts", ["user_id"])
    op.create_table(
        "balance_snapshots",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("current", sa.Numeric(20, 4)),
        sa.Column("available", sa.Numeric(20, 4)),
        sa.Column("limit", sa.Numeric(20, 4)),
        sa.Column("iso_currency_code", sa.String(16)),
        sa.PrimaryKeyConstraint("id", name="pk_balance_snapshots"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_balance_snapshots_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_balance_snapshots_account_id", "balance_snapshots", ["account_id"])
    op.create_table(
        "imported_transactions",
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "transaction_id", name="pk_imported_transactions"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_imported_transactions_account_id_accounts",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("imported_transactions")
    op.drop_index("ix_balance_snapshots_account_id", table_name="balance_snapshots")
    op.drop_table("balance_snapshots")
    op.drop_index("ix_accounts_user_id", table_name="accounts")
    op.drop_index("ix_accounts_item_id", table_name="accounts")
    op.drop_table("accounts")
    op.drop_index("ix_items_user_id", table_name="items")
    op.drop_table("items")
