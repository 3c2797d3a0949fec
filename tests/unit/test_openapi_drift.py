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
