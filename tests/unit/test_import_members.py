"""`vipcare import`: CSV rows to enrolment requests, outcomes counted, rejects kept with reasons."""

from __future__ import annotations

import pytest

from vipcare.cli import import_members as im
from vipcare.cli import main


def row(**cells: str) -> dict[str, str]:
    return {"name": "王芳", "phone": "138 0013 8000", "store_id": "demo-001", **cells}


def test_a_row_becomes_an_enrolment_request_leaving_empty_cells_out():
    body = im.body_of(row(sms_marketing="yes", birthday="1990-05-01", birthday_lunar="是", email="",
                          hobbies="tea; golf ;", other_phones=""))
    assert body == {"name": "王芳", "phone": "138 0013 8000", "store_id": "demo-001", "birthday": "1990-05-01",
                    "consent": {"sms_marketing": True}, "birthday_lunar": True, "hobbies": ["tea", "golf"]}
    assert im.body_of(row())["consent"] == {"sms_marketing": False}  # no consent unless said


@pytest.mark.parametrize("cells,field", [({"name": " "}, "name"), ({"store_id": ""}, "store_id"),
                                         ({"sms_marketing": "maybe"}, "sms_marketing")])
def test_rows_the_file_itself_gets_wrong_name_the_column(cells, field):
    with pytest.raises(im.RowError) as exc:
        im.body_of(row(**cells))
    assert exc.value.field == field


def test_within_a_run_the_same_phone_in_any_format_gets_the_same_idempotency_key():
    a = im.idempotency_key(im.body_of(row(phone="138 0013 8000")), "run1")
    assert a == im.idempotency_key(im.body_of(row(phone="13800138000")), "run1") and a.startswith("import-")
    assert a != im.idempotency_key(im.body_of(row(phone="13800138001")), "run1")
    assert a != im.idempotency_key(im.body_of(row(phone="138 0013 8000")), "run2")  # a rerun: fresh keys


def test_outcomes_are_counted_and_rejects_keep_the_apis_reason():
    answers = iter([(201, {"member_id": "m1"}), (409, {"member_id": "m0", "error": "duplicate"}),
                    (422, {"error": "invalid", "fields": [{"field": "phone", "message": "not a valid number"}]})])
    sent = []

    def send(body, key):
        sent.append(key)
        return next(answers)

    rows = [(2, row()), (3, row(phone="13900000000")), (4, row(phone="12")), (5, row(name=""))]
    result = im.run(rows, len(rows), send)
    assert (result.created, result.existing, result.total) == (1, 1, 4)
    assert [(r["row"], r["field"], r["message"]) for r in result.rejected] == [
        ("4", "phone", "not a valid number"), ("5", "name", "is required")]
    assert len(sent) == 3  # the row the file got wrong was never sent


def test_a_file_without_the_required_columns_is_refused_before_any_request(tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_text("name,mobile\n王芳,13800138000\n", encoding="utf-8")
    assert main(["import", str(path), "--token", "t", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "missing columns ['phone', 'store_id']" in err and "unknown columns ['mobile']" in err


def test_a_deployed_api_needs_a_token(tmp_path, capsys):
    path = tmp_path / "members.csv"
    path.write_text("name,phone,store_id\nA,13800138000,s1\n", encoding="utf-8")
    assert main(["import", str(path), "--api", "https://api.example.com/prod", "--quiet"]) == 2
    assert "--token" in capsys.readouterr().err
