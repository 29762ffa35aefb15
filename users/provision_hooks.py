"""Admin-only hardening of the users database, run by ``common.provision`` after migrations.

``harden(cursor, settings)`` (idempotent) hands the append-only ``audit_log`` table, its id
sequence and its trigger function to a NOLOGIN role ``<prefix>users_audit`` and leaves the
service role only SELECT and INSERT (plus USAGE on the sequence). The service can then add
audit rows but cannot change, delete, truncate or drop them, nor disable the trigger: that
takes the PostgreSQL admin (PCI DSS 10.3.2, ASVS 16.4.2).
"""

from __future__ import annotations

from psycopg2 import sql

AUDIT_TABLE = "audit_log"
AUDIT_SEQUENCE = "audit_log_id_seq"
AUDIT_FUNCTION = "audit_log_append_only()"


def audit_owner_role(settings) -> str:
    return f"{settings.db_prefix}users_audit"


def harden(cursor, settings) -> None:
    owner = sql.Identifier(audit_owner_role(settings))
    service = sql.Identifier(settings.database_role("users"))
    cursor.execute("SELECT to_regclass(%s)", (AUDIT_TABLE,))
    if cursor.fetchone()[0] is None:
        return  # migrations not applied yet: nothing to harden
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (audit_owner_role(settings),))
    if cursor.fetchone() is None:
        cursor.execute(
            sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(
                owner
            )
        )
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(owner))
    cursor.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(AUDIT_TABLE), owner))
    cursor.execute(sql.SQL("ALTER FUNCTION " + AUDIT_FUNCTION + " OWNER TO {}").format(owner))
    cursor.execute(
        sql.SQL("REVOKE ALL ON TABLE {} FROM PUBLIC, {}").format(
            sql.Identifier(AUDIT_TABLE), service
        )
    )
    cursor.execute(
        sql.SQL("GRANT SELECT, INSERT ON TABLE {} TO {}").format(
            sql.Identifier(AUDIT_TABLE), service
        )
    )
    cursor.execute(
        sql.SQL("REVOKE ALL ON SEQUENCE {} FROM PUBLIC, {}").format(
            sql.Identifier(AUDIT_SEQUENCE), service
        )
    )
    cursor.execute(
        sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(AUDIT_SEQUENCE), service)
    )
