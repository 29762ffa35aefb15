"""identity: users, recovery codes, password resets, login challenges, risk profiles,
OAuth clients (with the built-in nestegg-cli client) and the append-only audit log

Revision ID: users_0002
Revises: users_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "users_0002"
down_revision = "users_0001"
branch_labels = None
depends_on = None

CLI_SCOPES = [
    "openid",
    "offline_access",
    "profile:read",
    "profile:write",
    "accounts:read",
    "accounts:write",
    "transactions:read",
    "transactions:write",
    "portfolio:read",
    "portfolio:write",
    "advice:read",
    "advice:write",
    "notifications:read",
    "notifications:write",
]


def _ts(name, **kwargs):
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def _now(name):
    return _ts(name, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email_bidx", sa.String(64), nullable=False),
        sa.Column("email", sa.Text()),
        sa.Column("name", sa.Text()),
        sa.Column("phone", sa.Text()),
        sa.Column("date_of_birth", sa.Text()),
        sa.Column("address", sa.Text()),
        sa.Column("ssn", sa.Text()),
        sa.Column("role", sa.String(20), server_default="user", nullable=False),
        sa.Column("password_hash", sa.String(80)),
        _ts("password_changed_at"),
        sa.Column("mfa_enabled", sa.Boolean(), server_default="false", nullable=False),
        _ts("mfa_enabled_at"),
        sa.Column("totp_secret", sa.Text()),
        sa.Column("totp_pending_secret", sa.Text()),
        sa.Column("totp_last_step", sa.BigInteger()),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        _ts("locked_until"),
        _ts("sessions_valid_after"),
        _ts("deleted_at"),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email_bidx", name="uq_users_email_bidx"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("code_hmac", sa.String(64), nullable=False),
        _now("created_at"),
        _ts("used_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_recovery_codes_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
        sa.UniqueConstraint("code_hmac", name="uq_recovery_codes_code_hmac"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_password_resets_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_password_resets"),
        sa.UniqueConstraint("token_hash", name="uq_password_resets_token_hash"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
        sa.Column("failed_codes", sa.SmallInteger(), server_default="0", nullable=False),
        _ts("closed_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_login_challenges_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_login_challenges"),
        sa.UniqueConstraint("token_hash", name="uq_login_challenges_token_hash"),
    )
    op.create_index("ix_login_challenges_user_id", "login_challenges", ["user_id"])
    op.create_table(
        "risk_profiles",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("tolerance", sa.SmallInteger(), nullable=False),
        sa.Column("risk_score", sa.SmallInteger(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_risk_profiles_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_risk_profiles"),
    )
    oauth_clients = op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(80)),
        sa.Column("redirect_uris", postgresql.JSONB(), nullable=False),
        sa.Column("scopes", postgresql.JSONB(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("client_id", name="pk_oauth_clients"),
    )
    op.bulk_insert(
        oauth_clients,
        [
            {
                "client_id": "nestegg-cli",
                "name": "Nestegg command line",
                "secret_hash": None,
                "redirect_uris": ["http://127.0.0.1/callback"],
                "scopes": CLI_SCOPES,
                "public": True,
                "first_party": True,
            }
        ],
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        _now("at"),
        sa.Column("user_id", sa.String(36)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("client_id", sa.String(64)),
        sa.Column(
            "details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_user_id_at", "audit_log", ["user_id", "at"])
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    # After users.provision_hooks.harden the audit table belongs to a NOLOGIN role, so only
    # the PostgreSQL admin can drop it (deliberately: the service role cannot erase the log).
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("oauth_clients")
    op.drop_table("risk_profiles")
    op.drop_index("ix_login_challenges_user_id", table_name="login_challenges")
    op.drop_table("login_challenges")
    op.drop_index("ix_password_resets_user_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("users")
