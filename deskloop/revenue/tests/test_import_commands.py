"""``import_deals`` and ``import_churn``: the same core as the upload page, with import_articles' exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deskloop.conftest import Cast
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.revenue.models import ChurnRecord

CHURN_CSV = """external_id;organization;organization_external_id;churned_on;mrr_lost;reason;product_area;notes
c-1;Vandelay Industries;crm-77;2026-07-31;450;Moved to a competitor;Billing > Invoices;Went to Umbrella
c-2;Vandelay Industries;crm-77;2026-09-30;120;never_started;;
c-3;Kramerica;;2026-13-01;10;other;;
"""


def _run(command: str, path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, str(path), "--workspace", "acme", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_churn_creates_organizations_once_and_is_idempotent(acme: Cast, tmp_path: Path) -> None:
    path = tmp_path / "churn.csv"
    path.write_text(CHURN_CSV, encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        _run("import_churn", path)
    assert failed.value.returncode == 1
    vandelay = Organization.objects.get(workspace=acme.workspace, external_id="crm-77")
    assert (vandelay.name, vandelay.lifecycle_stage) == ("Vandelay Industries", LifecycleStage.CHURNED)
    records = ChurnRecord.objects.filter(workspace=acme.workspace).order_by("external_id")
    assert [(r.external_id, r.reason, r.product_area.path if r.product_area else "") for r in records] == [
        ("c-1", "competitor", "Billing > Invoices"),
        ("c-2", "never_started", ""),
    ]
    out = io.StringIO()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_churn", str(path), "--workspace", "acme", stdout=out, stderr=err)
    assert "0 created, 0 updated, 2 unchanged, 1 failed." in out.getvalue()
    assert "churn.csv line 4 (c-3): “2026-13-01” in churned_on is not a date (YYYY-MM-DD)." in err.getvalue()
    assert Organization.objects.filter(workspace=acme.workspace, name="Vandelay Industries").count() == 1


def test_a_changed_row_updates_the_record(acme: Cast, tmp_path: Path) -> None:
    path = tmp_path / "churn.csv"
    path.write_text(CHURN_CSV.splitlines()[0] + "\n" + CHURN_CSV.splitlines()[1] + "\n", encoding="utf-8")
    out, _err = _run("import_churn", path)
    assert "1 created, 0 updated, 0 unchanged, 0 failed." in out
    assert "Organization “Vandelay Industries” created." in out
    path.write_text(path.read_text().replace(";450;", ";500;"), encoding="utf-8")
    out, _err = _run("import_churn", path)
    assert "0 created, 1 updated, 0 unchanged, 0 failed." in out
    assert str(ChurnRecord.objects.get(external_id="c-1").mrr_lost) == "500.00"


def test_an_unreadable_file_exits_2(acme: Cast, tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(CommandError) as failed:
        _run("import_deals", path)
    assert failed.value.returncode == 2
    path.write_text("name,amount\nx,1\n", encoding="utf-8")
    with pytest.raises(CommandError) as missing:
        _run("import_deals", path)
    assert missing.value.returncode == 2
    assert "Required columns are missing: external_id" in str(missing.value)
