"""Importing tickets from another helpdesk's export: `manage.py import_tickets` with CSV and JSON Lines files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deskloop.channels.email.models import OutboundEmail
from deskloop.conftest import Cast
from deskloop.customers.models import Contact, Organization
from deskloop.tickets.inbox import TicketFilter
from deskloop.tickets.models import Channel, EventKind, Message, ProductArea, Tag, Ticket, TicketEvent
from deskloop.tickets.search import search_tickets

BANKING77 = Path(settings.BASE_DIR) / "testdata" / "text" / "intents-banking77" / "train.csv"

# Line numbers matter: the report names them. Row 3's body spans lines 3-4, so the next row starts on line 5.
EXPORT_CSV = (
    "id,subject,description,requester_email,requester_name,organization,product_area,tags,status,created_at\n"
    "ZD-101,Invoice PDF is blank,The March invoice opens as an empty page.,dana@northwind.example,Dana Reyes,"
    'Northwind Traders,Billing/Invoices,"billing, vip",Solved,2025-01-15T09:30:00Z\n'
    'ZD-102,Export stuck at 99%,"The CSV export never finishes.\nIt has been two hours.",'
    "dana@northwind.example,,,Data/Exports,export,pending,2025-02-01T14:00:00+01:00\n"
    "ZD-103,Bad date,Body,ivan@northwind.example,,,,,,15/01/2025\n"
    "ZD-104,,No subject here,ivan@northwind.example,,,,,,2025-01-16T10:00:00Z\n"
    "ZD-105,Bad email,Body,ivan-at-northwind,,,,,,2025-01-16T10:00:00Z\n"
    "ZD-106,Unknown status,Body,ivan@northwind.example,,,,,Escalated,2025-01-16T10:00:00Z\n"
    "ZD-107,Too few fields,Body\n"
    "ZD-108,Factura duplicada,Me cobraron dos veces la factura de febrero.,carmen@globex-acme.example,,"
    "Somebody Else Inc,billing / invoices,Billing,on hold,2025-02-20\n"
)

EXPECTED_PROBLEMS = [
    (5, "ZD-103", "created_at “15/01/2025” is not an ISO 8601 date and time (e.g. 2025-03-01T09:30:00Z)."),
    (6, "ZD-104", "A ticket needs a subject."),
    (7, "ZD-105", "“ivan-at-northwind” is not a valid email address."),
    (
        8,
        "ZD-106",
        "Unknown status “Escalated”; use one of New, Open, Pending, On hold, Solved, Closed, "
        "or a category (new, open, pending, on_hold, solved, closed).",
    ),
    (9, "", "The row has 3 fields but the header has 10 (a value with a comma needs quotes)."),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(path: Path, slug: str = "acme", **options: object) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_tickets", str(path), workspace=slug, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def problem_lines(stderr: str) -> list[str]:
    # tqdm redraws its bar with carriage returns; the problem lines are the complete lines around it.
    return [line.split("\r")[-1] for line in stderr.splitlines() if " line " in line]


def workspace_counts(cast: Cast) -> dict[str, int]:
    ws = cast.workspace
    return {
        "tickets": Ticket.objects.filter(workspace=ws).count(),
        "messages": Message.objects.filter(workspace=ws).count(),
        "events": TicketEvent.objects.filter(workspace=ws).count(),
        "tags": Tag.objects.filter(workspace=ws).count(),
        "areas": ProductArea.objects.filter(workspace=ws).count(),
        "organizations": Organization.objects.filter(workspace=ws).count(),
        "contacts": Contact.objects.filter(workspace=ws).count(),
    }


def test_a_csv_export_imports_good_rows_reports_bad_ones_and_runs_again_without_duplicates(
    acme: Cast, tmp_path: Path
) -> None:
    path = write(tmp_path, "zendesk.csv", EXPORT_CSV)
    before = workspace_counts(acme)
    emails_before = OutboundEmail.objects.filter(workspace=acme.workspace).count()

    out, err = run_import(path)

    assert out == "zendesk.csv -> acme: 3 created, 0 skipped (already imported), 5 failed.\n"
    assert problem_lines(err) == [
        f"zendesk.csv line {line} ({eid or '-'}): {msg}" for line, eid, msg in EXPECTED_PROBLEMS
    ]
    invoice = Ticket.objects.get(workspace=acme.workspace, external_id="ZD-101")
    assert invoice.number == 2  # the cast's ticket is #1
    assert invoice.subject == "Invoice PDF is blank"
    assert invoice.channel == Channel.IMPORT
    assert invoice.status.name == "Solved"
    assert invoice.created_at == dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC)
    assert invoice.product_area is not None
    assert invoice.product_area.path == "Billing > Invoices"
    assert invoice.product_area.parent is not None
    assert invoice.product_area.parent.path == "Billing"
    assert sorted(invoice.tags.values_list("name", flat=True)) == ["billing", "vip"]
    assert invoice.requester.name == "Dana Reyes"
    assert invoice.organization is not None
    assert invoice.organization.name == "Northwind Traders"
    first = invoice.messages.get()
    assert (first.body_text, first.created_at, first.author_contact_id) == (
        "The March invoice opens as an empty page.",
        dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC),
        invoice.requester_id,
    )
    assert list(invoice.events.values_list("kind", "via", "actor_contact_id")) == [
        (EventKind.CREATED, "import", invoice.requester_id),
        (EventKind.MESSAGE_ADDED, "import", invoice.requester_id),
    ]

    export = Ticket.objects.get(workspace=acme.workspace, external_id="ZD-102")
    assert export.status.category == "pending"
    assert export.created_at == dt.datetime(2025, 2, 1, 13, 0, tzinfo=dt.UTC)
    assert export.messages.get().body_text == "The CSV export never finishes.\nIt has been two hours."
    # Dana was created with the first row and joined Northwind; the second row finds her again.
    assert export.requester_id == invoice.requester_id
    assert export.organization_id == invoice.organization_id

    factura = Ticket.objects.get(workspace=acme.workspace, external_id="ZD-108")
    assert factura.status.name == "On hold"
    assert factura.created_at == dt.datetime(2025, 2, 20, tzinfo=dt.UTC)
    # The existing contact keeps her organization; the row's unknown company is not created for nobody.
    assert factura.requester_id == acme.customer.pk
    assert factura.organization_id == acme.organization.pk
    # "billing / invoices" is the existing area, matched without regard to case or spacing.
    assert factura.product_area_id == invoice.product_area_id
    assert list(factura.tags.values_list("name", flat=True)) == ["billing"]

    after = workspace_counts(acme)
    assert {k: after[k] - before[k] for k in after} == {
        "tickets": 3,
        "messages": 3,
        "events": 6,
        "tags": 3,  # billing, vip, export
        "areas": 4,  # Billing, Billing > Invoices, Data, Data > Exports
        "organizations": 1,  # Northwind Traders
        "contacts": 1,  # Dana
    }
    # History is not news: importing emails no customer and notifies no agent.
    assert OutboundEmail.objects.filter(workspace=acme.workspace).count() == emails_before
    # Imported text is searchable at once.
    hits = search_tickets(agent=acme.agent, query="cobraron", ticket_filter=TicketFilter())
    assert [hit.ticket.number for hit in hits.hits] == [factura.number]

    again_out, again_err = run_import(path, verbosity=2)

    assert again_out == "zendesk.csv -> acme: 0 created, 3 skipped (already imported), 5 failed.\n"
    assert problem_lines(again_err) == [
        "zendesk.csv line 2 (ZD-101): skipped (already imported as #2)",
        "zendesk.csv line 3 (ZD-102): skipped (already imported as #3)",
        *[f"zendesk.csv line {line} ({eid or '-'}): {msg}" for line, eid, msg in EXPECTED_PROBLEMS],
        "zendesk.csv line 10 (ZD-108): skipped (already imported as #4)",
    ]
    assert workspace_counts(acme) == after


def test_semicolon_csv_from_a_spreadsheet_with_a_byte_order_mark(acme: Cast, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffExternal ID;Subject;Email;Tags\nX-1;Ошибка входа;oleg@example.ru;вход;\nX-2;Hola;ana@example.es;\n".encode()
    )
    out, err = run_import(path)
    assert out == "excel.csv -> acme: 1 created, 0 skipped (already imported), 1 failed.\n"
    assert problem_lines(err) == [
        "excel.csv line 2 (-): The row has 5 fields but the header has 4 (a value with a comma needs quotes)."
    ]
    assert Ticket.objects.get(workspace=acme.workspace, external_id="X-2").subject == "Hola"


def test_jsonl_rows_take_tag_lists_and_report_broken_lines(acme: Cast, tmp_path: Path) -> None:
    lines = [
        {"external_id": 9001, "subject": "API returns 500", "body": "Since this morning.",
         "requester_email": "dev@initech.example", "tags": ["api", "bug"], "status": "open",
         "product_area": "Integrations > API", "priority": "urgent", "created_at": "2025-03-03"},
        "{not json",
        ["a", "list"],
        {"external_id": "9002", "subject": "Статус заказа", "requester_email": "olga@initech.example",
         "tags": "заказ, доставка", "created_at": "2025-03-04T08:15:00"},
        {"external_id": "9003", "subject": "Bad tags", "requester_email": "x@initech.example", "tags": {"a": 1}},
        {"external_id": "9004", "subject": "Bad priority", "requester_email": "x@initech.example", "priority": "asap"},
        {"external_id": "9005", "subject": "Too late", "requester_email": "x@initech.example",
         "created_at": "2999-01-01T00:00:00Z"},
    ]  # fmt: skip
    text = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    path = write(tmp_path, "export.jsonl", text + "\n\n")

    out, err = run_import(path)

    assert out == "export.jsonl -> acme: 2 created, 0 skipped (already imported), 5 failed.\n"
    assert problem_lines(err) == [
        "export.jsonl line 2 (-): The line is not valid JSON: Expecting property name enclosed in double quotes.",
        "export.jsonl line 3 (-): The line must be a JSON object with the ticket's fields.",
        "export.jsonl line 5 (9003): tags must be text.",
        "export.jsonl line 6 (9004): Unknown priority “asap”; use low, normal, high or urgent.",
        "export.jsonl line 7 (9005): created_at “2999-01-01T00:00:00Z” is in the future.",
    ]
    api_ticket = Ticket.objects.get(workspace=acme.workspace, external_id="9001")
    assert (api_ticket.priority, api_ticket.status.name, api_ticket.product_area.path) == (  # type: ignore[union-attr]
        "urgent",
        "Open",
        "Integrations > API",
    )
    assert sorted(api_ticket.tags.values_list("name", flat=True)) == ["api", "bug"]
    order = Ticket.objects.get(workspace=acme.workspace, external_id="9002")
    assert order.created_at == dt.datetime(2025, 3, 4, 8, 15, tzinfo=dt.UTC)
    assert order.status.name == "New"
    assert sorted(order.tags.values_list("name", flat=True)) == ["доставка", "заказ"]
    assert order.messages.count() == 0  # no body: a ticket without a first message

    out, _err = run_import(path)
    assert out == "export.jsonl -> acme: 0 created, 2 skipped (already imported), 5 failed.\n"


def test_a_file_that_cannot_be_read_fails_the_command_and_imports_nothing(acme: Cast, tmp_path: Path) -> None:
    before = workspace_counts(acme)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        "external_id,subject,requester_email\nA,ok,a@example.com\nB,Año,b@example.com\n".encode("latin-1")
    )
    cases = {
        tmp_path / "missing.csv": "The file could not be read: No such file or directory",
        latin1: "The file is not UTF-8 text (first bad byte on line 3). Save it as UTF-8.",
        write(tmp_path, "empty.jsonl", "\n"): "The file is empty.",
        write(tmp_path, "no-id.csv", "subject,email\nHi,a@example.com\n"): (
            "The header has no column external_id (it has: subject, requester_email)."
        ),
        write(
            tmp_path, "tickets.txt", "x"
        ): "Cannot tell the format from “tickets.txt”; name it .csv or .jsonl, or pass --format.",
    }
    for path, message in cases.items():
        with pytest.raises(CommandError) as raised:
            run_import(path)
        assert str(raised.value) == f"{path}: {message}"
    with pytest.raises(CommandError, match="No workspace with slug 'nope'"):
        run_import(latin1, slug="nope")
    assert workspace_counts(acme) == before
    out, _err = run_import(
        write(tmp_path, "tickets.txt", "external_id,subject,email\nT-1,Hi,t@example.com\n"), format="csv"
    )
    assert out == "tickets.txt -> acme: 1 created, 0 skipped (already imported), 0 failed.\n"


def test_another_workspace_with_the_same_external_ids_is_a_separate_import(
    acme: Cast, umbrella: Cast, tmp_path: Path
) -> None:
    path = write(tmp_path, "same.csv", EXPORT_CSV)
    run_import(path, slug="umbrella")
    umbrella_before = workspace_counts(umbrella)

    out, _err = run_import(path, slug="acme")

    assert out == "same.csv -> acme: 3 created, 0 skipped (already imported), 5 failed.\n"
    assert workspace_counts(umbrella) == umbrella_before
    assert Ticket.objects.filter(external_id="ZD-101").count() == 2


def test_fifty_real_customer_questions_import_with_their_intents_as_tags_and_areas(acme: Cast, tmp_path: Path) -> None:
    """Real customer wording (banking77: commas, quotes, apostrophes, 238-character questions) through a CSV."""
    with BANKING77.open(encoding="utf-8", newline="") as source:
        questions = list(csv.DictReader(source))[::200][:50]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["external_id", "subject", "body", "requester_email", "product_area", "tags", "status", "created_at"]
    )
    statuses = ["new", "open", "pending", "Solved", "closed"]
    for index, question in enumerate(questions):
        category = question["category"]
        writer.writerow(
            [
                f"B77-{index:03d}",
                question["text"][:80],
                question["text"],
                f"customer{index % 17}@bank-customers.example",
                f"{category.split('_')[0].title()}/{category.replace('_', ' ')}",
                f"{category},banking77",
                statuses[index % len(statuses)],
                (dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=7 * index)).isoformat(),
            ]
        )
    path = write(tmp_path, "banking77.csv", buffer.getvalue())
    before = workspace_counts(acme)

    out, err = run_import(path)

    assert out == "banking77.csv -> acme: 50 created, 0 skipped (already imported), 0 failed.\n"
    assert problem_lines(err) == []
    after = workspace_counts(acme)
    assert {k: after[k] - before[k] for k in after} == {
        "tickets": 50,
        "messages": 50,
        "events": 100,
        "tags": 51,  # 50 intents, one per question, and "banking77"
        "areas": 50 + 32,  # one area per intent under 32 parents (Card, Top, Transfer, ...)
        "organizations": 0,
        "contacts": 17,
    }
    assert Ticket.objects.filter(workspace=acme.workspace, status__category="closed").count() == 10
    assert Tag.objects.get(workspace=acme.workspace, name="banking77").tickets.count() == 50
    waiting = Ticket.objects.get(workspace=acme.workspace, external_id="B77-000")
    assert (waiting.subject, waiting.product_area.path) == (  # type: ignore[union-attr]
        "I am still waiting on my card?",
        "Card > card arrival",
    )

    out, _err = run_import(path)
    assert out == "banking77.csv -> acme: 0 created, 50 skipped (already imported), 0 failed.\n"
    assert workspace_counts(acme) == after
