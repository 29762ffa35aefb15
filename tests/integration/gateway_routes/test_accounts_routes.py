"""Accounts routes over the real aggregation service: link flow, items with health, accounts,
refresh, repair token, unlink, file imports; scopes, step-up, BOLA, bad input."""

import base64
import io
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CSV = (
    "Date,Description,Amount\n"
    "2025-05-02,COFFEE ROASTERS 123,-4.50\n"
    "2025-05-03,PAYROLL ACME CORP,2500.00\n"
    "2025-05-04,GROCERY MART #88,-82.13\n"
)


def test_items_and_accounts_after_linking(linked, rpc_pool):
    user = linked.user
    assert linked.item["institution_id"] == "ins_109508"
    assert {a["type"] for a in linked.item["accounts"]} >= {"depository", "credit", "investment"}

    items = user.ok("GET", "/v1/items")["items"]
    assert [i["item_id"] for i in items] == [linked.item["item_id"]]
    health = items[0]["health"]
    assert health["status"] == "healthy" and health["transactions_total"] > 100

    accounts = user.ok("GET", "/v1/accounts")["accounts"]
    checking = next(a for a in accounts if a["subtype"] == "checking")
    assert isinstance(checking["current"], str) and Decimal(checking["current"]) > 0
    # nothing the service returns is lost or changed on the way through the gateway
    assert accounts == rpc_pool.call("aggregation", "list_accounts", user.token)


def test_refresh_and_update_mode_link_token(linked):
    user, item_id = linked.user, linked.item["item_id"]
    sync = user.ok("POST", f"/v1/items/{item_id}/refresh")
    assert sync["item_id"] == item_id and sync["status"] in ("synced", "busy")
    token = user.ok("POST", f"/v1/items/{item_id}/link-token", 201)
    assert token["update_mode"] is True and token["link_token"].startswith("link-")
    fresh = user.ok("POST", "/v1/link/token", 201)
    assert fresh["update_mode"] is False


def test_another_users_item_is_not_found(linked, make_user):
    intruder = make_user()
    item_id = linked.item["item_id"]
    for method, path in (
        ("POST", f"/v1/items/{item_id}/refresh"),
        ("POST", f"/v1/items/{item_id}/link-token"),
        ("DELETE", f"/v1/items/{item_id}"),
    ):
        response = intruder.call(method, path)
        assert response.status_code == 404, (path, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert intruder.ok("GET", "/v1/items")["items"] == []
    assert intruder.ok("GET", "/v1/accounts")["accounts"] == []
    # the owner still has it
    assert linked.user.ok("GET", "/v1/items")["items"]


def test_scopes_and_step_up(make_user):
    user = make_user()
    read_only = user.token_for("accounts:read")
    for method, path in (
        ("POST", "/v1/link/token"),
        ("POST", "/v1/items"),
        ("DELETE", "/v1/items/x"),
        ("POST", "/v1/imports"),
    ):
        response = user.call(method, path, token=read_only, json={})
        assert response.status_code == 403, (path, response.get_json())
        assert response.get_json()["code"] == "insufficient_scope"
    assert user.call("GET", "/v1/accounts", token=read_only).status_code == 200

    no_mfa = user.token_for(user_scopes := "accounts:read accounts:link", second_factor=False)
    assert user_scopes
    response = user.call("POST", "/v1/link/token", token=no_mfa)
    assert response.status_code == 403 and response.get_json()["code"] == "mfa_required"
    stale = user.issuer.issue(
        user.id,
        scope="accounts:link",
        amr=("pwd",),
        auth_time=None,
        client_id="nestegg-cli",
        mfa=True,
    ).token
    response = user.call("POST", "/v1/items", token=stale, json={"public_token": "x"})
    assert response.status_code == 401 and response.get_json()["code"] == "step_up_required"

    assert user.client.get("/v1/accounts").status_code == 401
    assert user.client.post("/v1/imports", json={}).status_code == 401


def test_bad_link_input_is_422(make_user):
    user = make_user()
    for body in ({"institution_id": "bank_1"}, {}, {"institution_id": "ins_1", "extra": 1}):
        response = user.call("POST", "/v1/link/sandbox/public-token", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"]
    response = user.call("POST", "/v1/items", json={"public_token": "public-sandbox-nope"})
    assert response.status_code == 400
    assert response.get_json()["provider_code"] == "INVALID_PUBLIC_TOKEN"


def test_csv_import_multipart_then_json_reimport_adds_nothing(make_user):
    user = make_user()
    first = user.ok(
        "POST",
        "/v1/imports",
        201,
        data={"file": (io.BytesIO(CSV.encode()), "may.csv"), "account_name": "Cash card"},
        content_type="multipart/form-data",
    )
    assert (first["rows"], first["added"], first["duplicates"]) == (3, 3, 0)
    assert first["format"] == "csv" and first["accounts"][0]["name"] == "Cash card"
    again = user.ok(
        "POST",
        "/v1/imports",
        201,
        json={
            "filename": "may.csv",
            "content_base64": base64.b64encode(CSV.encode()).decode(),
            "account_name": "Cash card",
        },
    )
    assert (again["added"], again["duplicates"]) == (0, 3)
    items = user.ok("GET", "/v1/items")["items"]
    assert [i["provider"] for i in items] == ["file"]


def test_import_bad_input(make_user):
    user = make_user()
    bad_rows = "Date,Description,Amount\n2025-05-02,COFFEE,abc\n2025-13-45,TEA,-1.00\n"
    response = user.call(
        "POST",
        "/v1/imports",
        data={"file": (io.BytesIO(bad_rows.encode()), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"], response.get_json()

    missing = user.call(
        "POST", "/v1/imports", data={"format": "csv"}, content_type="multipart/form-data"
    )
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]["files"]

    bad_mapping = user.call(
        "POST",
        "/v1/imports",
        data={"file": (io.BytesIO(CSV.encode()), "a.csv"), "mapping": "{not json"},
        content_type="multipart/form-data",
    )
    assert bad_mapping.status_code == 422
    assert "mapping" in bad_mapping.get_json()["errors"]["form"]

    unknown = user.call(
        "POST", "/v1/imports", json={"filename": "a.csv", "content_base64": "x", "x": 1}
    )
    assert unknown.status_code == 422 and "x" in unknown.get_json()["errors"]["json"]

    not_b64 = user.call("POST", "/v1/imports", json={"filename": "a.csv", "content_base64": "%%%"})
    assert not_b64.status_code == 422

    text = user.call("POST", "/v1/imports", data=CSV, content_type="text/csv")
    assert text.status_code == 415


def test_unlink_removes_the_item(make_user, routes):
    user = make_user()
    item = routes.link_bank(user, "ins_109511")
    user.ok("DELETE", f"/v1/items/{item['item_id']}", 204)
    assert user.ok("GET", "/v1/items")["items"] == []
    assert user.call("POST", f"/v1/items/{item['item_id']}/refresh").status_code == 404
