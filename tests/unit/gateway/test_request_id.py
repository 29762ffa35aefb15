import pytest

from common.logging import request_id_var
from gateway.request_context import accept_or_generate


@pytest.mark.parametrize("good", ["abc", "A.b-c_9", "x" * 128, "0"])
def test_well_formed_ids_are_kept(good):
    assert accept_or_generate(good) == good


@pytest.mark.parametrize(
    "bad", ["", "x" * 129, "has space", "semi;colon", "new\nline", "ünïcode", "a/b", None]
)
def test_bad_ids_are_replaced_by_a_fresh_one(bad):
    generated = accept_or_generate(bad)
    assert generated != bad
    assert len(generated) == 32 and all(c in "0123456789abcdef" for c in generated)


def test_generated_ids_differ():
    assert len({accept_or_generate(None) for _ in range(50)}) == 50


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "req-123.abc"})
    assert response.headers["X-Request-ID"] == "req-123.abc"


def test_invalid_request_id_is_replaced_not_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert response.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_every_response_gets_an_id_even_errors(client):
    ids = {client.get("/nowhere").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_request_id_reaches_every_rpc_call_and_is_cleared_after(make_app, fake_rpc):
    client = make_app(rpc=fake_rpc).test_client()
    response = client.get("/readyz", headers={"X-Request-ID": "trace-me-42"})
    assert response.status_code == 200
    assert len(fake_rpc.calls) == 6  # one health call per service
    assert {c["request_id"] for c in fake_rpc.calls} == {"trace-me-42"}
    assert request_id_var.get() is None


def test_request_id_in_json_logs(make_app):
    import io
    import json
    import logging

    from flask import current_app

    from common.logging import configure

    stream = io.StringIO()
    configure("gateway", stream=stream)
    try:
        app = make_app()

        @app.get("/test/log")
        def log_something():
            current_app.logger.warning("hello")
            return {}

        app.test_client().get("/test/log", headers={"X-Request-ID": "log-id-1"})
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_nestegg", False):
                root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert any(
        line.get("request_id") == "log-id-1" and line["message"] == "hello" for line in lines
    )
