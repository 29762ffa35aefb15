"""The HTML of the sign-in page (no script, no external asset, autoescaped Jinja2)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)
PAGE_CSP = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; img-src 'self'; "
    "form-action 'self'{extra}"
)


def origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def page_csp(redirect_uri: str | None = None) -> str:
    # a browser applies form-action to the redirect that follows the form post
    return PAGE_CSP.format(extra=f" {origin(redirect_uri)}" if redirect_uri else "")


def render(template: str, status: int, *, redirect_uri: str | None = None, **context) -> Response:
    html = _env.get_template(template).render(**context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.nestegg_csp = page_csp(redirect_uri)
    return response


def login_page(status: int = 200, **context) -> Response:
    defaults = {
        "client_name": None,
        "message": None,
        "over": False,
        "restart_url": None,
        "action": "",
        "csrf_token": "",
        "step": "password",
        "email": "",
        "attempts_left": None,
        "consent_scopes": [],
    }
    redirect_uri = context.pop("redirect_uri", None)
    return render("login.html", status, redirect_uri=redirect_uri, **{**defaults, **context})


def error_page(error: str, description: str, status: int = 400) -> Response:
    return render("error.html", status, error=error, description=description)
