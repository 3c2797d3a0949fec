from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from vipcare.api.errors import from_validation_error
from vipcare.api.models.members import EnrolRequest, MemberPatch


def test_enrol_request_refuses_owned_fields():
    with pytest.raises(ValidationError):
        EnrolRequest(name="A", phone="1", store_id="s", tier="gold")  # type: ignore[call-arg]


def test_patch_knows_which_fields_were_sent():
    patch = MemberPatch.model_validate({"email": None})
    assert patch.model_fields_set == {"email"}


@pytest.mark.parametrize("body", [{"name": None}, {"phone": None}, {"birthday_lunar": None}, {"consent": None}])
def test_patch_refuses_to_clear_required_fields(body):
    with pytest.raises(ValidationError):
        MemberPatch.model_validate(body)


def test_validation_errors_name_fields_and_explain_owned_ones():
    errors = [
        {"type": "missing", "loc": ("body", "name"), "msg": "Field required"},
        {"type": "extra_forbidden", "loc": ("body", "points_balance"), "msg": "Extra inputs are not permitted"},
        {"type": "extra_forbidden", "loc": ("body", "colour"), "msg": "Extra inputs are not permitted"},
        {"type": "string_too_long", "loc": ("body", "family", 0, "name"), "msg": "too long"},
    ]
    response = from_validation_error(RequestValidationError(errors))
    body = json.loads(response.body)
    assert response.status_code == 422
    assert [f["field"] for f in body["fields"]] == ["name", "points_balance", "colour", "family.0.name"]
    assert body["fields"][1]["message"] == "points_balance is managed by VIP Care and cannot be set"
    assert body["fields"][2]["message"] == "unknown field colour"


def test_invalid_json_is_a_400():
    response = from_validation_error(RequestValidationError([{"type": "json_invalid", "loc": ("body", 0)}]))
    assert response.status_code == 400


def test_model_names_are_unique_across_areas():
    """OpenAPI components are keyed by class name: two models of one name would silently
    share a schema (a response then validated against the wrong one)."""
    import importlib
    import inspect
    import pkgutil

    import vipcare.api.models as package
    from vipcare.api.models.base import _Model

    seen: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, _Model) and cls.__module__ == module.__name__:
                assert name not in seen, f"{name} defined in {seen.get(name)} and {module.__name__}"
                seen[name] = module.__name__
    assert len(seen) > 40
