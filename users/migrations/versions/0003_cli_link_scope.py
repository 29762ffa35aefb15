"""the built-in nestegg-cli client may request accounts:link (linking a bank is a CLI flow)

Revision ID: users_0003
Revises: users_0002
"""

from alembic import op

revision = "users_0003"
down_revision = "users_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE oauth_clients SET scopes = scopes || '[\"accounts:link\"]'::jsonb "
        "WHERE client_id = 'nestegg-cli' AND NOT scopes ? 'accounts:link'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE oauth_clients SET scopes = scopes - 'accounts:link' WHERE client_id = 'nestegg-cli'"
    )
