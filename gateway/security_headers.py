"""Security headers on every response; caching off for API responses."""

from __future__ import annotations

from flask import Flask, request

from gateway.openapi import DOCS_CSP

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _secure(response):
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.endpoint == "docs.asset" and response.status_code == 200:
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        headers["Cache-Control"] = "no-store"
    headers["Content-Security-Policy"] = DOCS_CSP if request.endpoint == "docs.page" else API_CSP
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers.pop("Server", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
