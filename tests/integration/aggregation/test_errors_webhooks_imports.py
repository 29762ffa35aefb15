"""Item errors and repair, mutation during pagination, signed webhooks, and file imports."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from sqlalchemy import select

from common.errors import Unauthenticated, ValidationFailed

pytestmark = pytest.mark.integration


def _token(provisioned, item_id):
    from aggregation.models import Item
    from aggregation.sync_store import token_context
    from common.crypto import FieldCipher, get_key_provider
    from common.db import make_engine, make_session_factory

    engine = make_engine(provisioned.database_url("aggregation"), pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            item = session.scalars(select(Item).where(Item.id == item_id)).one()
            return FieldCipher(get_key_provider()).decrypt(
                item.access_token, ctx=token_context(item.id)
            )
    finally:
        engine.dispose()


def test_login_required_marks_the_item_emits_item_error_and_repair_restores_health(
    aggregation, probe, user, helpers, admin, sandbox, provisioned
):
    alice = user()
    item = helpers.link(aggregation, alice.token, "ins_109510")
    assert helpers.sync_now(aggregation, alice.token, item["item_id"])["status"] == "synced"
    token = _token(provisioned, item["item_id"])
    requests.post(
        sandbox.base_url + "/sandbox/item/reset_login",
        json={"access_token": token},
        timeout=10,
        headers={"PLAID-CLIENT-ID": sandbox.client_id, "PLAID-SECRET": sandbox.secret},
    ).raise_for_status()
    failed = helpers.sync_now(aggregation, alice.token, item["item_id"])
    assert failed["status"] == "failed" and failed["error_code"] == "ITEM_LOGIN_REQUIRED"
    listed = next(i for i in aggregation.list_items(alice.token) if i["item_id"] == item["item_id"])
    assert listed["status"] == "login_required"
    assert listed["health"]["last_error"]["code"] == "ITEM_LOGIN_REQUIRED"
    assert helpers.wait_until(lambda: probe.events(item["item_id"], "item_error"))
    # a second failure with the same code does not repeat the event
    helpers.sync_now(aggregation, alice.token, item["item_id"])

    repair = aggregation.create_link_token(alice.token, {"item_id": item["item_id"]})
    assert repair["update_mode"] is True
    status, body = admin("/sandbox/admin/item/repair", link_token=repair["link_token"])
    assert status == 200 and body["repaired"] is True
    assert helpers.sync_now(aggregation, alice.token, item["item_id"])["status"] == "synced"
    listed = next(i for i in aggregation.list_items(alice.token) if i["item_id"] == item["item_id"])
    assert listed["status"] == "healthy" and listed["health"]["last_error"] is None
    assert len(probe.events(item["item_id"], "item_error")) == 1


def test_mutation_during_pagination_restarts_the_run(
    aggregation, probe, user, helpers, admin, provisioned
):
    alice = user()
    item = helpers.link(aggregation, alice.token, "ins_109511")
    token = _token(provisioned, item["item_id"])
    admin("/sandbox/admin/transactions/fail_next_sync_page", access_token=token)
    # refresh may race the timer; whichever run meets the armed failure restarts
    result = helpers.sync_now(aggregation, alice.token, item["item_id"])
    assert result["status"] in ("synced", "busy")
    metrics = aggregation.metrics()
    assert helpers.wait_until(lambda: len(probe.transactions(item["item_id"])) > 2000, 60), metrics
    ids = probe.transactions(item["item_id"])
    events = probe.events(item["item_id"], "transactions_synced")
    assert sum(size for *_, size in events) == len(ids)  # no duplicate deliveries


def _signed_webhook(sandbox, payload: dict, *, now=None):
    body = json.dumps(payload).encode()
    return {"Plaid-Verification": sandbox.sandbox.signer.sign(body, now=now)}, body.decode()


def test_webhook_signatures(aggregation, user, helpers, sandbox):
    import time

    alice = user()
    item = helpers.link(aggregation, alice.token, "ins_109508")
    provider_item_id = None
    for state in sandbox.sandbox._items.values():
        provider_item_id = state.item_id  # the most recent Item of this sandbox
    payload = {
        "webhook_type": "TRANSACTIONS",
        "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": provider_item_id,
        "environment": "sandbox",
    }
    headers, body = _signed_webhook(sandbox, payload)
    accepted = aggregation.handle_plaid_webhook({"headers": headers, "body": body})
    assert accepted["accepted"] is True and accepted["action"] == "sync_scheduled"

    with pytest.raises(Unauthenticated):  # unsigned
        aggregation.handle_plaid_webhook({"headers": {}, "body": body})
    with pytest.raises(Unauthenticated):  # tampered body
        aggregation.handle_plaid_webhook(
            {"headers": headers, "body": body.replace("SYNC_UPDATES", "SYNC_UPDATEZ")}
        )
    old_headers, old_body = _signed_webhook(sandbox, payload, now=time.time() - 600)
    with pytest.raises(Unauthenticated):  # iat older than five minutes
        aggregation.handle_plaid_webhook({"headers": old_headers, "body": old_body})
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    forged = jwt.encode(
        {
            "iat": int(time.time()),
            "request_body_sha256": __import__("hashlib").sha256(body.encode()).hexdigest(),
        },
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": sandbox.sandbox.signer.kid},
    )
    with pytest.raises(Unauthenticated):  # right kid, wrong key
        aggregation.handle_plaid_webhook({"headers": {"Plaid-Verification": forged}, "body": body})
    assert item["item_id"]


CSV = (
    "Date,Description,Amount\n"
    "01/15/2024,STARBUCKS STORE 123,-4.50\n"
    "01/15/2024,STARBUCKS STORE 123,-4.50\n"
    "01/16/2024,PAYROLL ACME,2000.00\n"
)
OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102

<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20240101<DTEND>20240131
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105120000[-5:EST]<TRNAMT>-42.10<FITID>F1<NAME>GROCER
</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240110<TRNAMT>100.00<FITID>F2<NAME>REFUND
</STMTTRN>
</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_csv_and_ofx_import_reimport_and_malformed(aggregation, probe, user, helpers):
    alice = user()
    first = aggregation.import_file(
        alice.token, {"filename": "checking.csv", "content_base64": _b64(CSV)}
    )
    assert (first["rows"], first["added"], first["duplicates"]) == (3, 3, 0)
    again = aggregation.import_file(
        alice.token, {"filename": "checking.csv", "content_base64": _b64(CSV)}
    )
    assert (again["added"], again["duplicates"]) == (0, 3)
    item_id = first["item_id"]
    assert helpers.wait_until(lambda: len(probe.transactions(item_id)) == 3)
    amounts = sorted(str(a) for a in probe.transactions(item_id).values())
    assert amounts == ["-2000.00", "4.50", "4.50"]  # Plaid convention: positive = money out

    ofx = aggregation.import_file(
        alice.token, {"filename": "bank.ofx", "content_base64": _b64(OFX)}
    )
    assert ofx["format"] == "ofx" and ofx["added"] == 2
    assert (
        aggregation.import_file(alice.token, {"filename": "bank.qfx", "content_base64": _b64(OFX)})[
            "added"
        ]
        == 0
    )
    assert helpers.wait_until(lambda: len(probe.transactions(item_id)) == 5)

    bad = CSV + "13/45/2024,BROKEN,-1.00\n01/17/2024,NO AMOUNT,\n"
    with pytest.raises(ValidationFailed) as caught:
        aggregation.import_file(alice.token, {"filename": "bad.csv", "content_base64": _b64(bad)})
    rows = caught.value.extra["errors"]["rows"]
    assert [r["row"] for r in rows] == [5, 6]
    assert "date" in rows[0]["reason"] and "amount" in rows[1]["reason"]
    listed = [i for i in aggregation.list_items(alice.token) if i["provider"] == "file"]
    assert listed[0]["health"]["transactions_total"] == 5  # nothing partially imported
