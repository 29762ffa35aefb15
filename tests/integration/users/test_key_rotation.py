"""The users' encrypted columns are registered for ``nestegg keys rotate`` and the rewrap SQL
runs against the real tables (without rotating the shared test keyring)."""

import pytest

from common.crypto import get_key_provider, rotate_and_rewrap
from common.crypto.registry import registered_encrypted_columns
from common.crypto.sql_source import SqlAlchemyRewrapSource

pytestmark = pytest.mark.integration


def test_users_columns_are_registered_and_rewrappable(users_engine, register, rpc, tokens):
    import users.models  # noqa: F401 - registers on import

    profile, _ = register(ssn="123-45-6789", phone="+15550100009")
    rpc.set_risk_profile(
        tokens(profile["id"]),
        {
            "horizon_years": 5,
            "loss_tolerance": "hold",
            "income_stability": "stable",
            "experience": "some",
        },
    )
    entries = {
        e.table: e
        for e in registered_encrypted_columns()
        if e.database_url_env == "NESTEGG_USERS_DATABASE_URL"
    }
    assert set(entries["users"].columns) == {
        "email",
        "name",
        "phone",
        "date_of_birth",
        "address",
        "ssn",
        "totp_secret",
        "totp_pending_secret",
    }
    assert (
        entries["risk_profiles"].columns == ("answers",)
        and entries["risk_profiles"].pk == "user_id"
    )
    sources = [
        SqlAlchemyRewrapSource(users_engine, e.table, e.pk, e.columns) for e in entries.values()
    ]
    report = rotate_and_rewrap(get_key_provider(), sources, rotate=False)
    assert report.remaining == 0 and report.rewrapped == 0  # everything is at the current KEK
