"""OpenAPI 3 (flask-smorest) at ``/openapi.json`` and Swagger UI at ``/docs``, served offline.

Every API route lives on an :class:`ApiBlueprint` registered through the :class:`Api`, so it is
in the spec; errors are documented as ``application/problem+json`` with :class:`ProblemSchema`.
The Swagger UI assets come from the ``swagger-ui-bundle`` wheel (no CDN: there is no internet at
run time). Without that package ``/docs`` still works: ``gateway/static/docs.js`` falls back to
a plain list of the spec's operations.
"""

from __future__ import annotations

import http
from pathlib import Path

import marshmallow as ma
from flask import Blueprint, Flask, abort, send_from_directory
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response

from common.health import package_version
from gateway.body import JsonFirstParser
from gateway.problems import MEDIA_TYPE

STATIC_DIR = Path(__file__).resolve().parent / "static"
DOCS_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)
OWN_ASSETS = frozenset({"docs.js", "docs.css"})
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = ma.fields.String(metadata={"description": "URI identifying the problem type"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong, for a human"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable code"})
    request_id = ma.fields.String(metadata={"description": "Echoes X-Request-ID"})
    errors = ma.fields.Dict(metadata={"description": "Field errors (422 only)"})


class Api(SmorestApi):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
                content_type = MEDIA_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            else:
                content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ApiBlueprint(SmorestBlueprint):
    """The blueprint every API route uses: webargs reads the Decimal-parsed JSON body and its
    422 becomes a problem (see :mod:`gateway.problems`)."""

    ARGUMENTS_PARSER = JsonFirstParser()


def swagger_ui_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


docs = Blueprint("docs", __name__)


@docs.get("/docs")
def page():
    return send_from_directory(STATIC_DIR, "docs.html", mimetype="text/html", max_age=0)


@docs.get("/docs/assets/<name>")
def asset(name: str):
    if name in OWN_ASSETS:
        return send_from_directory(STATIC_DIR, name, max_age=3600)
    bundle = swagger_ui_dir()
    if name in DOCS_ASSETS and bundle is not None:
        return send_from_directory(bundle, name, max_age=3600)
    abort(404)


def init_app(app: Flask, *, public_docs: bool = True) -> Api:
    """``public_docs=False`` (production hardening, ASVS 13.4.5) serves neither ``/docs`` nor
    ``/openapi.json``; the spec is still built, so tests and tooling can read ``api.spec``."""
    app.config.setdefault("API_TITLE", "Nestegg API")
    app.config.setdefault("API_VERSION", package_version())
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/" if public_docs else None)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Nestegg HTTP gateway. Errors are application/problem+json "
                "(RFC 9457); every response carries X-Request-ID."
            }
        },
    )
    api = Api(app)
    if public_docs:
        app.register_blueprint(docs)
    return api
