"""``nestegg login`` against a real HTTP server (the app over the real pool) and
``nestegg clients add`` against the real users service."""

import argparse
import io
import json
import stat
import threading

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def served(gw):
    server = make_server("127.0.0.1", 0, gw.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gw, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_cli_login_posts_the_form_itself_and_stores_tokens_0600(served, tmp_path):
    from gateway.cli import login

    gw, base = served
    email, profile = gw.register()
    path = login(
        base,
        email=email,
        password="marble otter sings quietly at noon",
        open_browser=False,
        timeout=20,
        state_dir=tmp_path,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = json.loads(path.read_text())
    assert tokens["refresh_token"] and tokens["token_type"] == "Bearer"
    assert gw.get("/v1/me", tokens["access_token"]).get_json()["id"] == profile["id"]


def test_cli_login_with_totp_prompt(served, tmp_path, h):
    from gateway.cli import login

    gw, base = served
    email, _ = gw.register()
    seed, _ = gw.enrol_totp(gw.login(email).access_token)
    asked = []

    def ask_code(prompt):
        asked.append(prompt)
        return h.totp_at(seed)

    path = login(
        base,
        email=email,
        password=h.PASSWORD,
        open_browser=False,
        timeout=20,
        state_dir=tmp_path,
        ask_code=ask_code,
    )
    assert asked == ["Authenticator code: "]
    access = json.loads(path.read_text())["access_token"]
    assert gw.get("/v1/me", access).status_code == 200


def test_cli_login_reports_a_wrong_password(served, tmp_path):
    from gateway.cli import login

    gw, base = served
    email, _ = gw.register()
    with pytest.raises(RuntimeError, match="Invalid e-mail or password"):
        login(
            base,
            email=email,
            password="not my password at all",
            open_browser=False,
            timeout=5,
            state_dir=tmp_path,
        )
    assert not (tmp_path / "cli-token.json").exists()


def test_clients_add_prints_the_secret_once(rpc_pool):
    from gateway.cli import cmd_clients_add

    out = io.StringIO()
    args = argparse.Namespace(
        name="Tax helper",
        redirect_uri=["https://tax.example/cb"],
        scope=["transactions:read portfolio:read"],
        public=False,
        first_party=False,
    )
    assert cmd_clients_add(args, rpc=rpc_pool, out=out) == 0
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    assert lines["client_id"].startswith("ne-") and len(lines["client_secret"]) >= 40
    client = rpc_pool.call("users", "get_oauth_client", {"client_id": lines["client_id"]})
    assert client["scopes"] == ["portfolio:read", "transactions:read"]
    assert client["public"] is False and "secret" not in json.dumps(client)
    bad = argparse.Namespace(
        name="Bad",
        redirect_uri=["http://evil.example/cb"],
        scope=["profile:read"],
        public=True,
        first_party=False,
    )
    assert cmd_clients_add(bad, rpc=rpc_pool, out=io.StringIO()) == 2
