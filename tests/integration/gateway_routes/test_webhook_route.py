"""``POST /webhooks/plaid`` with real webhooks: the sandbox delivers its signed webhook to a
recording sink (the gateway's "public URL"); the test replays it through the app, exactly and
tampered. No bearer token is involved: the Plaid-Verification JWT is the credential."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def delivered(webhook_sink, routes) -> list[dict]:
    found = routes.wait_until(
        lambda: [w for w in webhook_sink.received if b"SYNC_UPDATES_AVAILABLE" in w["body"]],
        timeout=30,
    )
    assert found, "the sandbox delivered no SYNC_UPDATES_AVAILABLE webhook"
    return found


def test_a_real_signed_webhook_schedules_a_sync(linked, webhook_sink, routes):
    client = linked.user.client
    actions = []
    for hook in delivered(webhook_sink, routes):  # the linked item's, maybe others' too
        response = client.post(
            "/webhooks/plaid",
            data=hook["body"],
            headers={"Plaid-Verification": hook["headers"]["Plaid-Verification"]},
            content_type="application/json",
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["accepted"] is True
        actions.append(response.get_json()["action"])
    # an item unlinked since is ignored; the linked one gets a sync
    assert "sync_scheduled" in actions, actions
    assert set(actions) <= {"sync_scheduled", "ignored_unknown_item"}


def test_unsigned_or_tampered_webhooks_are_401(linked, webhook_sink, routes):
    hook = delivered(webhook_sink, routes)[0]
    client = linked.user.client
    signature = hook["headers"]["Plaid-Verification"]
    for body, headers in (
        (hook["body"], {}),  # no signature
        (hook["body"] + b" ", {"Plaid-Verification": signature}),  # one byte more
        (hook["body"].replace(b"SYNC", b"SYNX"), {"Plaid-Verification": signature}),
        (hook["body"], {"Plaid-Verification": "not.a.jwt"}),
    ):
        response = client.post(
            "/webhooks/plaid", data=body, headers=headers, content_type="application/json"
        )
        assert response.status_code == 401, response.get_json()
        assert response.mimetype == "application/problem+json"
    assert client.post("/webhooks/plaid", data="x", content_type="text/plain").status_code == 415
    assert client.get("/webhooks/plaid").status_code == 405
