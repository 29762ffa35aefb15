"""The accounts HTTP API (``/v1``): bank connections (Plaid Link flow, items, refresh, repair),
accounts with balances, and file imports. Each view checks the token
(:func:`gateway.auth.require_auth`) and passes it as ``principal`` to the aggregation service
(docs/aggregation.md), which checks it again and scopes every query by its subject; another
user's item id is a 404 there.

Linking, unlinking and the Link tokens need a second factor in the last 10 minutes (step-up):
they hand a bank connection to, or take it from, the account.
"""

from __future__ import annotations

import base64
import json

import marshmallow as ma
from flask import g, request
from flask.views import MethodView

from common.errors import ValidationFailed
from gateway import rpc
from gateway.api import accounts_schemas as s
from gateway.auth import require_auth
from gateway.body import accepts
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint(
    "accounts", __name__, url_prefix="/v1", description="Bank connections, accounts, imports"
)
READ, LINK, WRITE = "accounts:read", "accounts:link", "accounts:write"
SERVICE = "aggregation"
REFRESH_TIMEOUT = 30.0  # a first sync of two years of history takes a few seconds


def call(method: str, *args, timeout: float | None = None):
    return rpc.call(SERVICE, method, g.access_token, *args, timeout=timeout)


@blp.route("/link/token")
class LinkToken(MethodView):
    @require_auth(LINK, step_up=True)
    @blp.response(201, s.LinkTokenOut)
    @blp.doc(summary="Create a Plaid Link token to connect a bank (step-up)")
    def post(self):
        return call("create_link_token", {})


@blp.route("/link/sandbox/public-token")
class SandboxPublicToken(MethodView):
    @require_auth(LINK, step_up=True)
    @blp.arguments(s.SandboxPublicTokenIn)
    @blp.response(201, s.PublicTokenOut)
    @blp.doc(
        summary="Sandbox stand-in for Plaid Link: a public token for a test institution "
        "(step-up; 403 outside the sandbox environment)",
        description="Default credentials `user_good` / `pass_good`; the password "
        "`error_ITEM_LOGIN_REQUIRED` makes a connection that needs repair.",
    )
    def post(self, payload):
        return call("create_sandbox_public_token", payload)


@blp.route("/items")
class Items(MethodView):
    @require_auth(READ)
    @blp.response(200, s.ItemsOut)
    @blp.doc(summary="Bank connections with their accounts and connection health")
    def get(self):
        return {"items": call("list_items")}

    @require_auth(LINK, step_up=True)
    @blp.arguments(s.ExchangeIn)
    @blp.response(201, s.ItemOut)
    @blp.doc(
        summary="Connect a bank: exchange Link's public token (step-up)",
        description="The first sync is scheduled at once; transactions, balances and holdings "
        "follow within seconds.",
    )
    def post(self, payload):
        return call("exchange_public_token", payload, timeout=REFRESH_TIMEOUT)


@blp.route("/items/<item_id>")
class Item(MethodView):
    @require_auth(LINK, step_up=True)
    @blp.response(204)
    @blp.doc(summary="Disconnect a bank: removes the item at Plaid and its accounts (step-up)")
    def delete(self, item_id):
        call("delete_item", {"item_id": item_id}, timeout=REFRESH_TIMEOUT)
        return None


@blp.route("/items/<item_id>/refresh")
class ItemRefresh(MethodView):
    @require_auth(READ)
    @blp.response(200, s.SyncOut)
    @blp.doc(
        summary="Sync a bank connection now",
        description="`status` is `busy` when a sync of this item is already running.",
    )
    def post(self, item_id):
        return call("refresh_item", {"item_id": item_id}, timeout=REFRESH_TIMEOUT)


@blp.route("/items/<item_id>/link-token")
class ItemLinkToken(MethodView):
    @require_auth(LINK, step_up=True)
    @blp.response(201, s.LinkTokenOut)
    @blp.doc(
        summary="Update-mode Link token to repair a connection that needs the user to sign "
        "in at the bank again (step-up)"
    )
    def post(self, item_id):
        return call("create_link_token", {"item_id": item_id})


@blp.route("/accounts")
class Accounts(MethodView):
    @require_auth(READ)
    @blp.response(200, s.AccountsOut)
    @blp.doc(summary="Accounts with their latest balances (decimal strings)")
    def get(self):
        return {"accounts": call("list_accounts")}


IMPORT_DOC = {
    "summary": "Import a CSV, OFX or QFX statement",
    "description": "Either `multipart/form-data` with the file as part `file` and optional "
    "form fields `format`, `account_name`, `mapping` (a JSON object), or JSON "
    "`{filename, content_base64, format?, account_name?, mapping?}`. A re-import adds nothing "
    "(`duplicates`). Any bad row: 422 with `errors.rows = [{row, reason}]` and nothing "
    "stored. Size limited by the gateway's body limit (413).",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": "ImportJsonIn"},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "format": {"type": "string", "enum": ["csv", "ofx", "qfx"]},
                        "account_name": {"type": "string", "maxLength": 100},
                        "mapping": {"type": "string", "description": "JSON object (MappingIn)"},
                    },
                }
            },
        },
    },
}


def invalid(location: str, messages: dict) -> ValidationFailed:
    """A 422 with field errors by location, as webargs reports them for the other routes."""
    return ValidationFailed.from_messages({location: messages})


def load(schema: ma.Schema, data, location: str) -> dict:
    if not isinstance(data, dict):
        raise invalid(location, {"_schema": ["Send a JSON object."]})
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise invalid(location, exc.messages) from None


def import_payload() -> dict:
    """The import_file payload from either request form (422 on anything malformed)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise invalid("files", {"file": ["Attach the statement as `file`."]})
        extra = set(request.files) - {"file"}
        if extra:
            raise invalid("files", {name: ["Unknown file part."] for name in extra})
        form = load(s.ImportFormIn(), request.form.to_dict(), "form")
        mapping = None
        if form.get("mapping"):
            try:
                mapping = json.loads(form["mapping"])
            except ValueError:
                raise invalid("form", {"mapping": ["Not a JSON object."]}) from None
        payload = {
            "filename": upload.filename[:255],
            "content_base64": base64.b64encode(upload.read()).decode("ascii"),
            "format": form.get("format"),
            "account_name": form.get("account_name"),
            "mapping": mapping,
        }
        return load(s.ImportJsonIn(), payload, "form")
    return load(s.ImportJsonIn(), request.get_json(silent=True), "json")


@blp.route("/imports", methods=["POST"])
@accepts("multipart/form-data", "application/json")
@require_auth(WRITE)
@blp.response(201, s.ImportOut)
@blp.doc(**IMPORT_DOC)
def create_import():
    return call("import_file", import_payload(), timeout=REFRESH_TIMEOUT)
