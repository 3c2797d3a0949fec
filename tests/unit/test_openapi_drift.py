from __future__ import annotations

from infra import openapi_doc


def test_committed_openapi_matches_the_code():
    committed = openapi_doc.OUTPUT.read_text()
    assert committed == openapi_doc.render(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_documents_auth_and_error_shape():
    doc = openapi_doc.build()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("security") == [{"cognito": []}], f"{method} {path}"
            assert "422" in op["responses"], f"{method} {path}"


def test_every_route_that_takes_an_idempotency_key_documents_its_reuse():
    # A key reused with another body, or while the first request runs, answers 409.
    doc = openapi_doc.build()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
            if "idempotency-key" in headers:
                assert "409" in op["responses"], f"{method} {path}"
