"""Swagger UI at /docs works offline: the page names no other host, the gateway serves Swagger UI's
own files from the flask-swagger-ui package, and in headless Chromium with every request to another
host blocked the page lists every operation of /openapi.json. Without a browser: /docs/assets serves
only the plain files of that folder, with their type, and answers 404 to anything else."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from infra.local import local_routes
from infra.local.cognito import LocalCognito
from infra.local.gateway import Gateway

LOCAL_HOSTS = ("127.0.0.1", "localhost")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --- in the browser, against the local stack -------------------------------------------------------

def test_docs_page_names_no_other_host(stack) -> None:
    r = stack.request("GET", "/docs")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "://" not in r.text  # every script, style and icon is a path on the gateway itself
    assert "/docs/assets/swagger-ui-bundle.js" in r.text and "/docs/assets/swagger-ui.css" in r.text


def test_swagger_ui_lists_every_operation_with_the_internet_blocked(stack, browser: Browser) -> None:
    doc = stack.request("GET", "/openapi.json").json()
    operations = sorted((method.upper(), path) for path, item in doc["paths"].items()
                        for method in item if method in HTTP_METHODS)
    assert ("POST", "/members") in operations and ("POST", "/purchases") in operations

    page = browser.new_page()
    blocked: list[str] = []
    failed: list[str] = []
    refused: list[str] = []
    errors: list[str] = []

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:  # what a machine without internet would get
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", local_only)
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{stack.url}/docs", wait_until="load")
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(operations), timeout=30_000)  # Swagger UI has rendered

        shown = sorted((block.locator(".opblock-summary-method").inner_text().strip(),
                        block.locator(".opblock-summary-path").get_attribute("data-path"))
                       for block in blocks.all())
        assert shown == operations
        for path in ("/members", "/purchases"):
            block = page.locator(f'.opblock-post:has(.opblock-summary-path[data-path="{path}"])')
            expect(block).to_have_count(1)
            expect(block).to_be_visible()
        assert page.locator(".info .title").inner_text().startswith(doc["info"]["title"])
        assert page.locator(".errors-wrapper").count() == 0  # no "Unable to render this definition"
    finally:
        page.close()
    assert blocked == [] and failed == [] and refused == [] and errors == []


# --- without a browser: what /docs/assets serves ---------------------------------------------------

@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """The local gateway with its local routes only (no AWS behind it: no function is called)."""
    gw = Gateway(LocalCognito(client=None, endpoint="", region="us-east-1"), port=0,
                 local_routes=local_routes.ROUTES, log=lambda line: None)
    gw.serve_in_thread()
    yield gw
    gw.shutdown()


def get(gw: Gateway, raw_path: str) -> tuple[int, str, bytes]:
    """GET with the path sent as written: http.client does not resolve `..` as browsers do."""
    host, port = gw.server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.request("GET", raw_path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("name", "content_type"), [
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
])
def test_assets_are_the_packages_files_with_their_type(gateway: Gateway, name: str, content_type: str) -> None:
    folder = local_routes.swagger_ui_dir()
    assert folder is not None, "flask-swagger-ui is not installed (the dev extras)"
    status, sent_type, body = get(gateway, f"/docs/assets/{name}")
    assert (status, sent_type) == (200, content_type)
    assert body == (folder / name).read_bytes()


@pytest.mark.parametrize("raw_path", [
    "/docs/assets/../gateway.py",
    "/docs/assets/../../../../../../etc/passwd",
    "/docs/assets/..",
    "/docs/assets/..%2F..%2F__init__.py",
    "/docs/assets/%2e%2e/%2e%2e/__init__.py",
    "/docs/assets//etc/passwd",
    "/docs/assets/..\\__init__.py",
    "/docs/assets/nope.js",
    "/docs/assets/LICENSE",  # in the folder, but not a kind of file the page needs
    "/docs/assets/oauth2-redirect.html",
])
def test_anything_but_a_served_file_is_a_404(gateway: Gateway, raw_path: str) -> None:
    status, content_type, body = get(gateway, raw_path)
    assert status == 404 and content_type == "application/json", (raw_path, status, body[:200])


def test_only_plain_files_right_in_the_folder_are_served(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "dist"
    (folder / "sub").mkdir(parents=True)
    (folder / "app.js.map").write_text("{}")
    (folder / "sub" / "inner.js").write_text("1")
    (folder / ".hidden.js").write_text("1")
    (folder / "folder.js").mkdir()
    (tmp_path / "outside.js").write_text("secret")
    (folder / "link.js").symlink_to(tmp_path / "outside.js")
    monkeypatch.setattr(local_routes, "swagger_ui_dir", lambda: folder)

    status, body = local_routes.docs_asset(None, {"_path": "/docs/assets/app.js.map"}, {})
    assert status == 200 and body.content_type == "application/json; charset=utf-8" and body.data == b"{}"
    for name in ("sub/inner.js", "sub", "../outside.js", "sub/../app.js.map", ".hidden.js", "folder.js", "link.js",
                 str(tmp_path / "outside.js"), "app.js.map/", ""):
        assert local_routes.asset_file(name) is None, name
        assert local_routes.docs_asset(None, {"_path": f"/docs/assets/{name}"}, {})[0] == 404, name


def test_docs_says_what_is_missing_without_the_package(monkeypatch) -> None:
    monkeypatch.setattr(local_routes, "swagger_ui_dir", lambda: None)
    status, page = local_routes.docs(None, {}, {})
    assert status == 503 and "dev extras" in page
    assert local_routes.docs_asset(None, {"_path": "/docs/assets/swagger-ui.css"}, {})[0] == 404
