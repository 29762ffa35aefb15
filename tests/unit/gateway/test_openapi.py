"""The spec, the docs page and the registry of public routes."""

from gateway.openapi import DOCS_ASSETS
from gateway.public_routes import PUBLIC_ENDPOINTS, UNDOCUMENTED, is_public, openapi_path


def test_openapi_json_is_openapi_3_with_problem_errors(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Nestegg API"
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "request_id"} <= set(problem)


def test_flask_routes_equal_openapi_paths_plus_undocumented(make_app):
    app = make_app()
    spec = app.test_client().get("/openapi.json").get_json()
    documented = {
        openapi_path(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in UNDOCUMENTED
    }
    assert documented == set(spec["paths"])


def test_every_route_is_public_or_authenticated(make_app):
    from gateway.auth.bearer import is_authenticated_view

    app = make_app()
    endpoints = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    public = {e for e in endpoints if is_public(e)}
    guarded = {e for e in endpoints if is_authenticated_view(app.view_functions[e])}
    assert public | guarded == set(endpoints), sorted(set(endpoints) - public - guarded)
    assert not public & guarded, "a route is both public and guarded"
    # the public list is exact: every entry exists, with the rule it says
    assert {e: endpoints[e] for e in public} == PUBLIC_ENDPOINTS
    assert guarded  # the identity routes are there, so this cannot pass vacuously


def test_openapi_path_conversion():
    assert openapi_path("/users/<int:user_id>/items/<item>") == "/users/{user_id}/items/{item}"
    assert openapi_path("/a/<string(length=2):code>") == "/a/{code}"
    assert openapi_path("/plain") == "/plain"


def test_docs_page_and_assets_are_served_locally(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js"):
        assert f"/docs/assets/{asset}" in html
    assert client.get("/docs/assets/docs.js").status_code == 200
    assert "/openapi.json" in client.get("/docs/assets/docs.js").get_data(as_text=True)
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.get_data()) > 100_000
    assert bundle.headers["Cache-Control"] == "public, max-age=3600"


def test_only_whitelisted_assets_are_served(client):
    assert "index.html" not in DOCS_ASSETS
    for name in ("index.html", "swagger-initializer.js", "..%2f..%2fapp.py", "docs.html"):
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_docs_can_be_switched_off_for_production():
    from common.config import Settings
    from gateway.app import create_app
    from gateway.config import GatewayConfig

    app = create_app(
        Settings(), rpc=object(), redis=object(), gateway_config=GatewayConfig(public_docs=False)
    )
    client = app.test_client()
    for path in ("/docs", "/openapi.json", "/docs/assets/docs.js"):
        assert client.get(path).status_code == 404
    assert client.get("/healthz").status_code == 200
    assert "/healthz" in app.extensions["nestegg.api"].spec.to_dict()["paths"]


def test_public_docs_flag_from_env(monkeypatch):
    import pytest

    from gateway.config import load_gateway_config

    monkeypatch.setenv("NESTEGG_GATEWAY_PUBLIC_DOCS", "off")
    assert load_gateway_config().public_docs is False
    monkeypatch.setenv("NESTEGG_GATEWAY_PUBLIC_DOCS", "maybe")
    with pytest.raises(ValueError, match="NESTEGG_GATEWAY_PUBLIC_DOCS"):
        load_gateway_config()
