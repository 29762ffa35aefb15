"""Every error is application/problem+json (RFC 9457) with no internals."""

import json

import marshmallow as ma
import pytest
from flask import abort

from common.errors import Conflict, NotFound, RateLimited
from gateway.body import accepts
from gateway.openapi import ApiBlueprint
from gateway.problems import MEDIA_TYPE

INTERNAL_MARKERS = ("Traceback", 'File "', "ZeroDivisionError", "psycopg2", "SELECT ", "sqlalchemy")


def make_test_blueprint():
    """A test-only blueprint: never shipped, registered per test."""
    blp = ApiBlueprint("echo", __name__)

    class EchoIn(ma.Schema):
        name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10))
        amount = ma.fields.Raw(required=True)

    @blp.route("/test/echo", methods=["POST"])
    @blp.arguments(EchoIn)
    @blp.response(200)
    def echo(payload):
        return {
            "name": payload["name"],
            "amount_type": type(payload["amount"]).__name__,
            "amount": payload["amount"],
        }

    @blp.route("/test/raw", methods=["POST"])
    @blp.response(200)
    def raw():
        from flask import request

        return {"type": type(request.get_json()).__name__}

    @blp.route("/test/form", methods=["POST"])
    @accepts("application/x-www-form-urlencoded")
    @blp.response(200)
    def form():
        from flask import request

        return {"grant_type": request.form.get("grant_type")}

    @blp.route("/test/boom", methods=["GET"])
    @blp.response(200)
    def boom():
        # a secret-looking message and a SQL fragment must not reach the client
        raise ZeroDivisionError("SELECT password FROM users -- token eyJabc.def.ghi")

    @blp.route("/test/domain/<kind>", methods=["GET"])
    @blp.response(200)
    def domain(kind):
        errors = {
            "notfound": NotFound("No such budget", {"budget_id": "b1"}),
            "conflict": Conflict("Already exists"),
            "ratelimited": RateLimited("Slow down", {"retry_after": 7}),
        }
        raise errors[kind]

    @blp.route("/test/abort/<int:status>", methods=["GET"])
    @blp.response(200)
    def aborter(status):
        abort(status)

    return blp


@pytest.fixture
def client(make_app):
    return make_app(blueprints=[make_test_blueprint()], max_body_bytes=256).test_client()


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == MEDIA_TYPE
    body = response.get_json(force=True)
    for member in ("type", "title", "status", "detail", "instance", "request_id"):
        assert member in body, member
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    text = response.get_data(as_text=True)
    for marker in INTERNAL_MARKERS:
        assert marker not in text
    return body


def test_unknown_route_is_404(client):
    body = assert_problem(client.get("/no/such/thing?secret=1"), 404)
    assert body["instance"] == "/no/such/thing"  # the query string is never echoed
    assert body["type"] == "urn:nestegg:problem:not_found"


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("path", ["/healthz", "/test/echo", "/nowhere"])
def test_trace_is_405_everywhere(client, path):
    response = client.open(path, method="TRACE")
    assert_problem(response, 405)
    assert "TRACE" not in response.headers.get("Allow", "")


def test_malformed_json_is_400(client):
    body = assert_problem(
        client.post("/test/echo", data='{"name": "x", ', content_type="application/json"), 400
    )
    assert "JSON" in body["detail"]


@pytest.mark.parametrize("raw", ['{"amount": NaN}', '{"amount": Infinity}', "\xff\xfe"])
def test_non_standard_json_is_400(client, raw):
    assert_problem(client.post("/test/raw", data=raw, content_type="application/json"), 400)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_non_json_body_is_415(client, content_type):
    kwargs = {"data": '{"name": "x", "amount": "1"}'}
    if content_type:
        kwargs["content_type"] = content_type
    body = assert_problem(client.post("/test/echo", **kwargs), 415)
    assert "application/json" in body["detail"]


def test_vendor_json_type_is_accepted(client):
    response = client.post(
        "/test/echo", data='{"name": "x", "amount": 1}', content_type="application/merge-patch+json"
    )
    assert response.status_code == 200


def test_form_view_declared_with_accepts_takes_forms_and_refuses_json(client):
    ok = client.post("/test/form", data={"grant_type": "authorization_code"})
    assert ok.status_code == 200 and ok.get_json() == {"grant_type": "authorization_code"}
    assert_problem(client.post("/test/form", json={"grant_type": "x"}), 415)


def test_oversized_body_is_413(client):
    body = assert_problem(
        client.post("/test/echo", data="x" * 300, content_type="application/json"), 413
    )
    assert "256" in body["detail"]


def test_oversized_chunked_body_is_413(client):
    """No Content-Length (chunked, as gunicorn passes it): the limit applies while reading."""
    import io

    response = client.post(
        "/test/raw",
        input_stream=io.BytesIO(b'"' + b"a" * 400 + b'"'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413)


def test_small_chunked_body_is_read(client):
    import io

    response = client.post(
        "/test/raw",
        input_stream=io.BytesIO(b'{"a": 1.5}'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200 and response.get_json() == {"type": "dict"}


def test_invalid_payload_is_422_with_field_errors(client):
    body = assert_problem(
        client.post("/test/echo", json={"name": "", "amount": "1", "role": "admin"}), 422
    )
    errors = body["errors"]["json"]
    assert "name" in errors and "role" in errors  # unknown fields are refused, not dropped
    assert body["code"] == "validation_failed"


def test_missing_body_on_validated_route_is_422(client):
    body = assert_problem(client.post("/test/echo"), 422)
    assert set(body["errors"]["json"]) == {"name", "amount"}


def test_json_numbers_are_decimal_never_float(client):
    response = client.post(
        "/test/echo", data='{"name": "x", "amount": 0.1}', content_type="application/json"
    )
    assert response.status_code == 200
    assert response.get_json()["amount_type"] == "Decimal"
    assert json.loads(response.get_data())["amount"] == "0.1"  # dumped as an exact string


def test_unexpected_exception_is_opaque_500(client, caplog):
    body = assert_problem(client.get("/test/boom"), 500)
    assert body["detail"] == "The server failed to handle the request."
    assert "ZeroDivisionError" not in json.dumps(body)
    assert any(r.levelname == "ERROR" for r in caplog.records)  # but it is logged server-side


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("notfound", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("ratelimited", 429, "rate_limited"),
    ],
)
def test_domain_errors_keep_their_status(client, kind, status, code):
    response = client.get(f"/test/domain/{kind}")
    body = assert_problem(response, status)
    assert body["code"] == code
    if kind == "notfound":
        assert body["detail"] == "No such budget" and body["budget_id"] == "b1"
    if kind == "ratelimited":
        assert response.headers["Retry-After"] == "7"


@pytest.mark.parametrize("status", [400, 404, 405, 413, 415, 422, 429, 500, 503, 504])
def test_every_listed_status_is_a_problem(client, status):
    body = assert_problem(client.get(f"/test/abort/{status}"), status)
    assert body["type"].startswith("urn:nestegg:problem:")
    assert body["title"] and body["detail"]
