"""``nestegg clients add`` and ``nestegg login`` (registered in ``common/cli.py``).

``clients add`` registers a third-party OAuth client through the users service RPC
``create_oauth_client`` (as the gateway's broker user) and prints its secret once.

``login`` runs the authorization code flow with PKCE as the built-in public client
``nestegg-cli`` (RFC 8252 native app): it starts a loopback listener on
``http://127.0.0.1:<free port>/callback``, then either prints (and opens) the authorization URL
for a browser, or — with ``--email`` — fills in the sign-in form itself (password and TOTP from
the flags or prompts), receives the code on the listener, exchanges it at ``/oauth/token`` and
stores the tokens in ``$NESTEGG_STATE_DIR/cli-token.json`` (mode 0600).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

CLI_CLIENT_ID = "nestegg-cli"
DEFAULT_SCOPE = "profile offline_access"
TOKEN_FILE = "cli-token.json"  # noqa: S105 - a file name


# --- plain helpers ---------------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    gateway: str,
    redirect_uri: str,
    challenge: str,
    state: str,
    scope: str,
    prompt: str | None = None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": CLI_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if prompt:
        params["prompt"] = prompt
    return gateway.rstrip("/") + "/oauth/authorize?" + urlencode(params)


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.inputs: dict[str, str] = {}
        self.message = None
        self._in_alert = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value") or ""
        elif attrs.get("role") == "alert" or attrs.get("id") == "error":
            self._in_alert = True

    def handle_data(self, data):
        if self._in_alert and data.strip():
            self.message = data.strip()
            self._in_alert = False


def parse_form(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that captures the redirect's query string."""

    def __init__(self, port: int = 0):
        receiver = self
        self.result: dict | None = None
        self.done = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server naming
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    self.send_error(404)
                    return
                receiver.result = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = b"Nestegg sign-in finished; you can close this window.\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                receiver.done.set()

            def log_message(self, *args):  # the query holds the code: never print it
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def wait(self, timeout: float) -> dict:
        if not self.done.wait(timeout):
            raise TimeoutError("no redirect reached the loopback listener in time")
        return self.result or {}


def save_tokens(tokens: dict, path: Path) -> Path:
    """Write the tokens with mode 0600 from the start (never world-readable, even briefly)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def post_sign_in_form(session, url: str, *, email: str, password: str, totp_source) -> str:
    """Fill in the sign-in form; returns the redirect Location. ``totp_source()`` is asked for
    a code when the page wants one (flag or prompt). Raises RuntimeError with the page's
    message when sign-in fails."""
    page = session.get(url, timeout=30)
    if page.status_code != 200:
        raise RuntimeError(
            parse_form(page.text).message or f"authorize failed ({page.status_code})"
        )
    form = parse_form(page.text)
    fields = {"csrf_token": form.inputs.get("csrf_token", ""), "email": email, "password": password}
    code = totp_source(False)
    if code:
        fields["totp"] = code
    for _ in range(5):
        answer = session.post(
            urljoin(url, form.action), data=fields, allow_redirects=False, timeout=30
        )
        if answer.status_code in (302, 303):
            return answer.headers["Location"]
        current = parse_form(answer.text)
        if "totp" in current.inputs and "password" not in current.inputs:
            code = totp_source(True)
            if not code:
                raise RuntimeError(current.message or "an authentication code is required")
            fields = {"csrf_token": fields["csrf_token"], "totp": code}
            continue
        raise RuntimeError(current.message or f"sign-in failed ({answer.status_code})")
    raise RuntimeError("too many attempts; start again")


def exchange_code(session, gateway: str, code: str, verifier: str, redirect_uri: str) -> dict:
    response = session.post(
        gateway.rstrip("/") + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "client_id": CLI_CLIENT_ID,
        },
        timeout=30,
    )
    body = response.json()
    if response.status_code != 200:
        raise RuntimeError(f"token exchange failed: {body.get('error')}")
    return body


def login(
    gateway: str,
    *,
    email=None,
    password=None,
    totp=None,
    scope=DEFAULT_SCOPE,
    prompt=None,
    open_browser=True,
    timeout=300.0,
    state_dir: Path,
    out=sys.stdout,
    ask_password=getpass.getpass,
    ask_code=input,
) -> Path:
    import requests

    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    with LoopbackReceiver() as receiver, requests.Session() as session:
        url = authorize_url(gateway, receiver.redirect_uri, challenge, state, scope, prompt)
        if email:
            password = password or ask_password("Password: ")

            def totp_source(required: bool):
                if totp:
                    return totp
                return ask_code("Authenticator code: ").strip() if required else None

            location = post_sign_in_form(
                session, url, email=email, password=password, totp_source=totp_source
            )
            if not location.startswith(receiver.redirect_uri):
                raise RuntimeError("the gateway redirected somewhere unexpected")
            session.get(location, timeout=30)  # deliver the code to our own listener
        else:
            print(f"Open this URL to sign in:\n{url}", file=out, flush=True)
            if open_browser:
                import webbrowser

                webbrowser.open(url)
        result = receiver.wait(timeout)
    if result.get("error"):
        raise RuntimeError(f"sign-in refused: {result['error']}")
    if not secrets.compare_digest(result.get("state", ""), state):
        raise RuntimeError("the state parameter did not match; sign-in aborted")
    with requests.Session() as session:
        tokens = exchange_code(session, gateway, result["code"], verifier, receiver.redirect_uri)
    return save_tokens(tokens, state_dir / TOKEN_FILE)


def register_client(rpc, *, name, redirect_uris, scopes, public, first_party=False) -> dict:
    return rpc.call(
        "users",
        "create_oauth_client",
        {
            "name": name,
            "redirect_uris": list(redirect_uris),
            "scopes": sorted(set(scopes)),
            "public": public,
            "first_party": first_party,
        },
    )


# --- argparse wiring -------------------------------------------------------------------------
def cmd_clients_add(args, rpc=None, out=sys.stdout) -> int:
    from common import config
    from common.errors import DomainError

    scopes = [s for value in args.scope for s in value.split()]
    own = rpc is None
    if own:
        from common.rpc_pool import RpcPool

        rpc = RpcPool(config.load().amqp_uri("gateway"), size=1, timeout=10.0)
    try:
        created = register_client(
            rpc,
            name=args.name,
            redirect_uris=args.redirect_uri,
            scopes=scopes,
            public=args.public,
            first_party=args.first_party,
        )
    except DomainError as exc:
        print(f"error: {exc.detail} {exc.extra.get('errors', '')}".rstrip(), file=sys.stderr)
        return 2
    finally:
        if own:
            rpc.close()
    print(f"client_id: {created['client_id']}", file=out)
    if created.get("client_secret"):
        print(f"client_secret: {created['client_secret']}", file=out)
        print("Store the secret now: it is shown only once and kept only as a hash.", file=out)
    return 0


def cmd_login(args, out=sys.stdout) -> int:
    from common import config

    settings = config.load()
    gateway = args.gateway or f"http://{settings.gateway_host}:{settings.gateway_port}"
    try:
        path = login(
            gateway,
            email=args.email,
            password=args.password,
            totp=args.totp,
            scope=args.scope,
            prompt="login" if args.step_up else None,
            open_browser=not args.no_browser,
            timeout=args.timeout,
            state_dir=config.state_dir(),
            out=out,
        )
    except (RuntimeError, TimeoutError) as exc:
        print(f"login failed: {exc}", file=sys.stderr)
        return 1
    print(f"signed in; tokens saved to {path}", file=out)
    return 0


def add_identity_subcommands(subparsers: argparse._SubParsersAction) -> None:
    clients = subparsers.add_parser("clients", help="OAuth clients")
    sub = clients.add_subparsers(dest="clients_command", required=True)
    add = sub.add_parser("add", help="register a third-party OAuth client (prints its secret once)")
    add.add_argument("--name", required=True)
    add.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uri")
    add.add_argument("--scope", action="append", required=True, help="repeat or space-separate")
    add.add_argument("--public", action="store_true", help="no secret (native/SPA app, PKCE)")
    add.add_argument("--first-party", action="store_true", help="skip the consent screen")
    add.set_defaults(func=cmd_clients_add)

    login_parser = subparsers.add_parser("login", help="sign in as nestegg-cli (OAuth + PKCE)")
    login_parser.add_argument("--gateway", help="gateway base URL (default from settings)")
    login_parser.add_argument("--email")
    login_parser.add_argument("--password", help="prompted when --email is given without it")
    login_parser.add_argument("--totp", help="authenticator code (prompted when needed)")
    login_parser.add_argument("--scope", default=DEFAULT_SCOPE)
    login_parser.add_argument("--step-up", action="store_true", help="force re-authentication")
    login_parser.add_argument("--no-browser", action="store_true")
    login_parser.add_argument("--timeout", type=float, default=300.0)
    login_parser.set_defaults(func=cmd_login)
