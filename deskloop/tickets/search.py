"""Full-text search over tickets: subjects, message text and requester names/emails.

SQLite uses an FTS5 table; PostgreSQL a tsvector column with a GIN index (and pg_trgm for names).
This module is the only place that knows which; callers use the functions below.

INTERFACE (implemented by the search work; the agent UI and the API call only these):

- ``index_ticket(ticket)``: (re)index one ticket after a write, from the instance the write holds or its id;
  idempotent.
- ``search_tickets(*, agent, query, ticket_filter, limit, offset) -> SearchResults``: ranked hits
  restricted to tickets the filter allows, each with a snippet whose matched words are wrapped in
  <mark>; the snippet HTML is built from escaped text, so it is safe to render.
- ``jump_target(*, workspace_id, query) -> JumpTarget | None``: "#1234" / "1234" -> that ticket;
  an email address -> that contact.

Also: ``index_tickets(ids)`` (batches, for imports and ``manage.py reindex_search``) and ``parse_query``.

How a query is read (the same on both databases): words are ANDed; "quoted phrases" match in order;
``invoi*`` is a prefix, and the last bare word is a prefix too (search-as-you-type); case and accents are
ignored ("factura" finds "Factura", "счет" finds "счёт"); a bare word also finds the other forms of the word in
English, Spanish and Russian ("factura" finds "facturas", "счёт" finds "счета"; tickets/stemming.py), a quoted
one only itself. Anything else people type -- unbalanced quotes,
FTS operators, ``NEAR(``, SQL -- is reduced to its words, so no input can raise or change the query's shape.
The query reaches the database only as bound parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.core.plain_sql import subquery_sql, upsert_row, values
from deskloop.customers.models import ContactEmail
from deskloop.tickets.inbox import InboxView, TicketFilter, filter_tickets
from deskloop.tickets.models import Message, MessageKind, Ticket, TicketSearchDocument
from deskloop.tickets.stemming import display_stem, document_stems, query_terms

# A long email thread is mostly quoted history; the first 10k characters of a message carry what it says,
# and 100k characters per ticket keep PostgreSQL's tsvector well under its 1 MB limit.
MESSAGE_CHARS = 10_000
DOCUMENT_CHARS = 100_000
# Snippets are cut from the start of the conversation (a match further in still finds the ticket).
SNIPPET_SOURCE_CHARS = 20_000
SNIPPET_CHARS = 240
SNIPPET_LEAD_CHARS = 60
MAX_QUERY_CHARS = 500
MAX_CLAUSES = 12
# One-letter prefixes ("a*") would expand to most of the vocabulary; they are searched as whole words.
MIN_PREFIX_CHARS = 2
MAX_LIMIT = 100
MAX_OFFSET = 1_000
# PostgreSQL ranks the newest this-many matches of a search (see _ranked_postgresql); > MAX_OFFSET + MAX_LIMIT.
RANK_WINDOW = 2_000
# ... collected from ticket-id ranges back from the workspace's newest ticket: first this many ids, then a range
# sized from the hit rate, then everything older; at most MAX_RANGES statements.
FIRST_RANGE = 20_000
MAX_RANGES = 3

_FTS5_FOLD = str.maketrans("ёЁ", "еЕ")

# Letters and digits: what both unicode61 (FTS5) and PostgreSQL's parser treat as word characters.
_WORD = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r'"([^"]*)"?|([^\s"]+)')
_TICKET_NUMBER = re.compile(r"^#?\s*(\d{1,18})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# bm25 weights per FTS5 column (subject, people, body, stems): a word in the subject says most about a ticket; a
# match on another form of the word (stems) says as much as one in the conversation.
_FTS5_WEIGHTS = "10.0, 4.0, 1.0, 1.0"


@dataclass(frozen=True)
class Clause:
    """One thing the query asks for: a word or a phrase (its words in order), optionally as a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    # The words as typed (for PostgreSQL's parser, so "v2.3" or an address is tokenized like the document).
    raw: str = ""
    # A bare single word's stems (stemming.query_terms); the clause matches the word or any of these.
    stems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def fts5_match(self) -> str:
        """The FTS5 MATCH expression. Every clause is a double-quoted string of letters and digits only, so
        no operator, column filter or quote from the user can reach FTS5's query parser."""
        parts = []
        for clause in self.clauses:
            phrase = '"' + " ".join(clause.words) + '"'
            phrase = phrase + "*" if clause.prefix else phrase
            if clause.stems:
                phrase = "(" + " OR ".join([phrase, *(f'"{stem}"' for stem in clause.stems)]) + ")"
            parts.append(phrase)
        # The FTS5 index folds "ё" to "е" (see the search migration); the query must too.
        return " AND ".join(parts).translate(_FTS5_FOLD)


@dataclass(frozen=True)
class SearchHit:
    ticket: Ticket
    score: float
    # Escaped conversation text around the match, with matched words in <mark>.
    snippet: SafeString


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    has_more: bool
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.has_more else None


@dataclass(frozen=True)
class JumpTarget:
    kind: Literal["ticket", "contact"]
    ticket_number: int | None = None
    contact_id: int | None = None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _printable(text: str) -> str:
    """Control characters (NUL above all: PostgreSQL refuses it in text) become spaces."""
    return "".join(" " if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace() else char for char in text)


def parse_query(text: str) -> ParsedQuery:
    """Read what a person typed into clauses (see the module docstring). Never raises."""
    text = _printable(_fold(text or "")[:MAX_QUERY_CHARS])
    clauses: list[Clause] = []
    matches = list(_CHUNK.finditer(text))
    for position, match in enumerate(matches):
        phrase, bare = match.group(1), match.group(2)
        if phrase is not None:
            words = tuple(_WORD.findall(phrase))
            if words:
                clauses.append(Clause(words=words, raw=phrase))
            continue
        words = tuple(_WORD.findall(bare))
        if not words:
            continue
        explicit_prefix = bool(re.search(r"[^\W_]\*+\W*$", bare))
        is_last = position == len(matches) - 1 and not text[match.end() :].strip()
        prefix = (explicit_prefix or is_last) and len(words[-1]) >= MIN_PREFIX_CHARS
        stems = query_terms(words[0]) if len(words) == 1 else ()
        clauses.append(Clause(words=words, prefix=prefix, raw=bare, stems=stems))
    return ParsedQuery(clauses=tuple(clauses[:MAX_CLAUSES]))


# --- indexing -----------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _fold(text)


def _people_text(name: str, emails: Sequence[str], organization: str) -> str:
    # Addresses are also split into their words: PostgreSQL's parser keeps an address as one token, and
    # agents search for "carmen" or "globex" as often as for the whole address.
    parts = [name, *emails, *(" ".join(_WORD.findall(email)) for email in emails), organization]
    return _clean("\n".join(part for part in parts if part))


def _body_text(texts: Iterable[str]) -> str:
    pieces: list[str] = []
    size = 0
    for text in texts:
        piece = text[:MESSAGE_CHARS]
        pieces.append(piece)
        size += len(piece) + 2
        if size >= DOCUMENT_CHARS:
            break
    return _clean("\n\n".join(pieces)[:DOCUMENT_CHARS])


def index_tickets(ticket_ids: Iterable[int]) -> int:
    """Rebuild the search documents of these tickets in a few queries; returns how many were written.

    Idempotent. Ids of tickets that no longer exist lose their document.
    """
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    tickets = list(
        Ticket.objects.filter(pk__in=ids).values(
            "pk", "workspace_id", "subject", "requester_id", "requester__name", "organization__name"
        )
    )
    emails: dict[int, list[str]] = {}
    for contact_id, email in (
        ContactEmail.objects.filter(contact_id__in={row["requester_id"] for row in tickets})
        .order_by("-is_primary", "pk")
        .values_list("contact_id", "email")
    ):
        emails.setdefault(contact_id, []).append(email)
    texts: dict[int, list[str]] = {}
    for ticket_id, text in (
        Message.objects.filter(ticket_id__in=ids)
        .exclude(kind=MessageKind.SYSTEM)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "body_text")
    ):
        texts.setdefault(ticket_id, []).append(text)
    now = timezone.now()
    documents = [
        _document(
            row["pk"],
            row["workspace_id"],
            row["subject"],
            people=(row["requester__name"], emails.get(row["requester_id"], []), row["organization__name"]),
            texts=texts.get(row["pk"], []),
            now=now,
        )
        for row in tickets
    ]
    with transaction.atomic():
        found = {row["pk"] for row in tickets}
        gone = [ticket_id for ticket_id in ids if ticket_id not in found]
        if gone:
            TicketSearchDocument.objects.filter(ticket_id__in=gone).delete()
        TicketSearchDocument.objects.bulk_create(
            documents,
            update_conflicts=True,
            unique_fields=["ticket"],
            update_fields=["workspace", "subject", "people", "body", "stems", "indexed_at"],
        )
    return len(documents)


def _document(
    ticket_id: int,
    workspace_id: int,
    subject: str,
    *,
    people: tuple[str | None, Sequence[str], str | None],
    texts: Iterable[str],
    now: dt.datetime,
) -> TicketSearchDocument:
    """A ticket's search document. ``people``: the requester's name, addresses and organization's name."""
    name, emails, organization = people
    subject = _clean(subject)
    body = _body_text(texts)
    return TicketSearchDocument(
        ticket_id=ticket_id,
        workspace_id=workspace_id,
        subject=subject,
        people=_people_text(name or "", list(emails), organization or ""),
        body=body,
        # Names and addresses are not words of a language: "Carmen" must not find "carmine".
        stems=document_stems([subject, body]),
        indexed_at=now,
    )


def index_ticket(ticket: Ticket | int, *, message_texts: Sequence[str] | None = None) -> None:
    """(Re)index one ticket; idempotent. Call it inside the write's transaction, after the write: one upsert and no
    savepoint.

    Given an id, the ticket is read with its requester and organization (a ticket that no longer exists loses its
    document). Given the instance a write path holds, only what it does not carry is read: the requester's
    addresses unless the requester was loaded with them (``prefetch_related("emails")``), the requester and
    organization when not loaded with it, and the conversation unless ``message_texts`` (every non-system
    message's text, oldest first) is given.
    """
    if not isinstance(ticket, Ticket):
        found = Ticket.objects.select_related("requester", "organization").filter(pk=ticket).first()
        if found is None:
            TicketSearchDocument.objects.filter(ticket_id=ticket).delete()
            return
        ticket = found
    if message_texts is None:
        message_texts = list(
            Message.objects.filter(ticket_id=ticket.pk)
            .exclude(kind=MessageKind.SYSTEM)
            .order_by("created_at", "pk")
            .values_list("body_text", flat=True)
        )
    organization = ticket.organization.name if ticket.organization is not None else None
    people = (ticket.requester.name, _requester_emails(ticket), organization)
    document = _document(
        ticket.pk, ticket.workspace_id, ticket.subject, people=people, texts=message_texts, now=timezone.now()
    )
    upsert_row(document)  # every ticket write reindexes: the upsert built once, not compiled each time


def _requester_emails(ticket: Ticket) -> list[str]:
    """The requester's addresses, primary first, then oldest first: from the requester's prefetched addresses when
    the ticket carries them (no query), else read."""
    cache_name = ContactEmail._meta.get_field("contact").remote_field.cache_name
    if Ticket.requester.is_cached(ticket):
        prefetched = getattr(ticket.requester, "_prefetched_objects_cache", {}).get(cache_name)
        if prefetched is not None:
            ordered = sorted(prefetched, key=lambda identity: (not identity.is_primary, identity.pk))
            return [identity.email for identity in ordered]
    # A statement built once (core.plain_sql): a ticket opened for a new contact reads its address on every write.
    rows = values(ContactEmail, ("email", "is_primary", "id"), [("contact_id", [ticket.requester_id])])
    return [str(email) for email, _primary, _pk in sorted(rows, key=lambda row: (not row[1], row[2]))]


def optimize_index() -> None:
    """After a bulk load: merge FTS5 segments (SQLite) or refresh planner statistics (PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO tickets_search_fts(tickets_search_fts) VALUES ('optimize')")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE tickets_ticketsearchdocument")


# --- searching ----------------------------------------------------------------------------------------------


def _base_letter(char: str) -> str:
    """What the indexes compare a letter as: lower case, accents dropped ("É" -> "e", "Ё" -> "е")."""
    base = unicodedata.normalize("NFD", char)[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


@functools.cache
def _letter_variants() -> dict[str, str]:
    """Every Latin, Greek and Cyrillic letter that folds to a given base letter, for accent-blind regexes."""
    variants: dict[str, set[str]] = {}
    for first, last in ((0x41, 0x24F), (0x370, 0x3FF), (0x400, 0x52F), (0x1E00, 0x1EFF)):
        for codepoint in range(first, last + 1):
            char = chr(codepoint)
            if char.isalpha():
                variants.setdefault(_base_letter(char), {char}).add(char)
    return {base: "".join(sorted(chars)) for base, chars in variants.items()}


def _term_pattern(word: str, *, prefix: bool) -> str:
    variants = _letter_variants()
    pattern = ""
    for char in word:
        chars = variants.get(_base_letter(char), char)
        pattern += f"[{re.escape(chars)}]" if len(chars) > 1 else re.escape(chars)
    return rf"(?<![^\W_]){pattern}" + (r"[^\W_]*" if prefix else r"(?![^\W_])")


def _highlighter(parsed: ParsedQuery) -> re.Pattern[str]:
    terms: dict[str, bool] = {}
    for clause in parsed.clauses:
        for position, word in enumerate(clause.words):
            is_prefix = clause.prefix and position == len(clause.words) - 1
            terms[word] = terms.get(word, False) or is_prefix
        # A word found by its stem is marked from the stem on: "factur" marks "facturas" and "facturación".
        for stem in clause.stems:
            terms[display_stem(stem)] = True
    alternatives = [_term_pattern(word, prefix=is_prefix) for word, is_prefix in terms.items()]
    # Longer alternatives first, so "card" does not stop at "car".
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _squash(text: str) -> str:
    return html.escape(re.sub(r"\s+", " ", text), quote=True)


def build_snippet(text: str, highlighter: re.Pattern[str]) -> SafeString:
    """Conversation text around the first match, every text piece escaped, matched words in <mark>.

    Built here rather than by the databases (ts_headline drops anything that looks like a tag, which is
    exactly the text an agent investigating an attack needs to see), the same way on SQLite and PostgreSQL.
    """
    text = text[:SNIPPET_SOURCE_CHARS]
    first = highlighter.search(text)
    start = 0
    if first is not None and first.start() > SNIPPET_LEAD_CHARS:
        start = first.start() - SNIPPET_LEAD_CHARS
        space = text.find(" ", start, first.start())
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    window = text[start:end]
    pieces = ["… "] if start > 0 else []
    position = 0
    for match in highlighter.finditer(window):
        pieces.append(_squash(window[position : match.start()]))
        pieces.append(f"<mark>{_squash(match.group())}</mark>")
        position = match.end()
    pieces.append(_squash(window[position:]))
    if end < len(text):
        pieces.append(" …")
    # Every piece of text above went through html.escape; the only markup is our own <mark>.
    return mark_safe("".join(pieces).strip())


def _pg_tsquery(parsed: ParsedQuery) -> tuple[str, list[str]]:
    """SQL for a tsquery and its parameters. Plain clauses go through phraseto_tsquery (PostgreSQL's parser
    reads them exactly as it read the document); prefix clauses are built from letters and digits only, and
    their words are ANDed ("globex-acme.exa" must not depend on where the parser put a hyphenated word)."""
    sql_parts: list[str] = []
    params: list[str] = []
    for clause in parsed.clauses:
        if clause.prefix:
            lexemes = [f"'{word}'" for word in clause.words]
            lexemes[-1] += ":*"
            part = "to_tsquery('deskloop_search', %s)"
            params.append(" & ".join(lexemes))
        else:
            part = "phraseto_tsquery('deskloop_search', %s)"
            params.append(" ".join(clause.words) if not clause.raw else clause.raw)
        if clause.stems:
            # Stems are letters only (stemming.word_stems), so quoting them makes a valid tsquery of OR'ed lexemes.
            part = f"({part} || to_tsquery('deskloop_search', %s))"
            params.append(" | ".join(f"'{stem}'" for stem in clause.stems))
        sql_parts.append(part)
    return " && ".join(sql_parts), params


def _ranked_sqlite(
    parsed: ParsedQuery, filtered_sql: str, filtered_params: Sequence[Any], limit: int, offset: int
) -> list[tuple[int, float, str]]:
    # The conversation text is read in the outer query, i.e. only for the page of hits. Interpolated: constants
    # and the filter's SQL as Django compiled it (placeholders only); every value is a bound parameter.
    # "+rowid": the unary plus keeps the IN list away from FTS5's xBestIndex. Given "rowid IN (...)", SQLite runs
    # the MATCH once per allowed ticket; with "+rowid" it runs the MATCH once and checks each hit against the
    # list, built once (BENCHMARKS.md, "Design history"). Same rows, same order.
    sql = f"""
        SELECT r.ticket_id, r.score, substr(d.body, 1, {SNIPPET_SOURCE_CHARS})
        FROM (
            SELECT rowid AS ticket_id, bm25(tickets_search_fts, {_FTS5_WEIGHTS}) AS score
            FROM tickets_search_fts
            WHERE tickets_search_fts MATCH %s AND +rowid IN ({filtered_sql})
            ORDER BY score, rowid DESC
            LIMIT %s OFFSET %s
        ) AS r
        JOIN tickets_ticketsearchdocument AS d ON d.ticket_id = r.ticket_id
        ORDER BY r.score, r.ticket_id DESC
    """  # noqa: S608
    params = [parsed.fts5_match(), *filtered_params, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), float(row[1]), row[2]) for row in cursor.fetchall()]


def _next_range(newest_id: int, read_down_to: int | None, found: int, ranges_read: int) -> tuple[int | None, int]:
    """The next ticket-id range (low, high] to collect matches from: the newest FIRST_RANGE ids first; then, below
    ``read_down_to``, a range sized from the hit rate so far to hold what is still missing (with half again as a
    margin); the last allowed range, or the one after a range that found nothing, is everything older.
    ``low`` None means no lower bound; ``high`` is ``newest_id`` for the first range."""
    if ranges_read == 0 or read_down_to is None:
        first = newest_id - FIRST_RANGE
        return (first if first > 0 else None), newest_id
    if found == 0 or ranges_read + 1 >= MAX_RANGES:
        return None, read_down_to
    span = (newest_id - read_down_to) * (RANK_WINDOW - found) * 3 // (2 * found)
    low = read_down_to - span
    return (low if low > 0 else None), read_down_to


def _newest_matches_by_range(
    cursor: Any, tsquery_sql: str, tsquery_params: list[str], workspace_id: int, live: QuerySet[Ticket, Any]
) -> list[int]:
    """The newest RANK_WINDOW matches among all live tickets, collected from ticket-id ranges, newest first.

    A common word must not visit every match: the GIN index yields them unordered ("carmen" is in 98k of 1M
    tickets), and each is a heap visit. Each range is a bitmap AND of the GIN index and the primary key: the
    newest 20k ids, then a range sized from the hit rate so far, then the rest, stopping once RANK_WINDOW are
    found; the same rows as the newest RANK_WINDOW of all matches. Each range repeats the GIN scan, hence few.
    One statement per range, not a UNION ALL under one LIMIT, which a parallel or merge append would run whole.
    The planner prices ``@@`` as cheap, but on a stored tsvector it is a fetch and decompression per row: for a
    20k-id range it picked a primary-key scan testing every ticket over the bitmap AND (6x slower). So these
    reads run with plain index scans off (bitmap scans stay on), transaction-locally and put back right after.
    Hash and merge joins too: a bare word's stems are OR'ed lexemes the planner prices at a default frequency each,
    so it raised its estimate of a rare word's matches 4x ("factura": 500 -> 1,985; 1,348 real) and for the last
    range hashed every older live ticket (a sequential scan of the ticket table: 25-38 ms at 100k tickets, ten
    times that at 1M) instead of checking its matches one by one (3-4 ms; BENCHMARKS.md, "Stemmed search").
    """
    cursor.execute(
        "SELECT (SELECT max(ticket_id) FROM tickets_ticketsearchdocument WHERE workspace_id = %s),"
        " current_setting('enable_indexscan'), current_setting('enable_hashjoin'),"
        " current_setting('enable_mergejoin'), set_config('enable_indexscan', 'off', true),"
        " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)",
        [workspace_id],
    )
    newest, index_scans, hash_joins, merge_joins, *_off = cursor.fetchone() or (None, "on", "on", "on")
    candidates: list[int] = []
    ranges_read = 0
    low: int | None = None
    while newest is not None and ranges_read < MAX_RANGES:
        low, high = _next_range(int(newest), low, len(candidates), ranges_read)
        ranges_read += 1
        # "The rest" (no lower bound) is most of the table: its upper bound is a filter on the matches ("+ 0" keeps
        # it off the primary key), not a bitmap of every older id ANDed with the GIN index's, which the planner
        # took once the stems inflated its estimate of the matches.
        bounds = f" AND d.ticket_id > {int(low)} AND d.ticket_id <= {int(high)}" if low is not None else ""
        bounds = bounds or f" AND d.ticket_id{' + 0' if ranges_read > 1 else ''} <= {int(high)}"
        # The range goes into the live-ticket check as well: PostgreSQL does not carry a range across the IN.
        in_range = live.filter(pk__lte=high) if low is None else live.filter(pk__gt=low, pk__lte=high)
        live_sql, live_params = in_range.query.sql_with_params()
        cursor.execute(
            f"""
            SELECT d.ticket_id
            FROM tickets_ticketsearchdocument AS d
            WHERE d.workspace_id = %s AND d.document @@ ({tsquery_sql}){bounds} AND d.ticket_id IN ({live_sql})
            ORDER BY d.ticket_id DESC
            LIMIT %s
            """,  # noqa: S608
            [workspace_id, *tsquery_params, *live_params, RANK_WINDOW - len(candidates)],
        )
        candidates += [int(row[0]) for row in cursor.fetchall()]
        if len(candidates) >= RANK_WINDOW or low is None:
            break
    cursor.execute(
        "SELECT set_config('enable_indexscan', %s, true), set_config('enable_hashjoin', %s, true),"
        " set_config('enable_mergejoin', %s, true)",
        [index_scans, hash_joins, merge_joins],
    )
    return candidates


def _newest_matches(
    cursor: Any, tsquery_sql: str, tsquery_params: list[str], workspace_id: int, filtered: QuerySet[Ticket, Any]
) -> list[int]:
    """The newest RANK_WINDOW matches within an inbox filter, in one statement the planner is left to plan.

    Id ranges do not pay here: a filter ("unassigned", a tag) keeps a few matches in each range, so the ranges
    grow to most of the table and each repeats the GIN scan (slower than one statement, BENCHMARKS.md),
    and turning index scans off would take the filter's own indexes (tags) away too."""
    filtered_sql, filtered_params = filtered.query.sql_with_params()
    cursor.execute(
        f"""
        SELECT d.ticket_id
        FROM tickets_ticketsearchdocument AS d
        WHERE d.workspace_id = %s AND d.document @@ ({tsquery_sql}) AND d.ticket_id IN ({filtered_sql})
        ORDER BY d.ticket_id DESC
        LIMIT {RANK_WINDOW}
        """,  # noqa: S608
        [workspace_id, *tsquery_params, *filtered_params],
    )
    return [int(row[0]) for row in cursor.fetchall()]


def _ranked_postgresql(
    parsed: ParsedQuery,
    workspace_id: int,
    filtered: QuerySet[Ticket, Any],
    limit: int,
    offset: int,
    *,
    all_live_tickets: bool,
) -> list[tuple[int, float, str]]:
    # Ranking reads each match's whole tsvector, too slow for a common word (BENCHMARKS.md, "Design history").
    # So only the newest RANK_WINDOW matches are ranked. The window is larger than the
    # deepest page search offers (MAX_OFFSET + MAX_LIMIT), so paging never runs past it; a search whose best match
    # is older than its newest matches has to be narrowed, which people do anyway.
    # Interpolated: constants, the fixed tsquery functions, the filter's compiled SQL and integer bounds; every
    # value from the request is a bound parameter.
    tsquery_sql, tsquery_params = _pg_tsquery(parsed)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if all_live_tickets:
            candidates = _newest_matches_by_range(cursor, tsquery_sql, tsquery_params, workspace_id, filtered)
        else:
            candidates = _newest_matches(cursor, tsquery_sql, tsquery_params, workspace_id, filtered)
        if not candidates:
            return []
        cursor.execute(
            f"""
            SELECT r.ticket_id, r.score, left(d.body, {SNIPPET_SOURCE_CHARS})
            FROM (
                SELECT d.ticket_id, ts_rank_cd(d.document, q.query, 1) AS score
                FROM tickets_ticketsearchdocument AS d, (SELECT {tsquery_sql} AS query) AS q
                WHERE d.ticket_id = ANY(%s)
                ORDER BY score DESC, d.ticket_id DESC
                LIMIT %s OFFSET %s
            ) AS r
            JOIN tickets_ticketsearchdocument AS d ON d.ticket_id = r.ticket_id
            ORDER BY r.score DESC, r.ticket_id DESC
            """,  # noqa: S608
            [*tsquery_params, candidates, limit, offset],
        )
        return [(int(row[0]), float(row[1]), row[2]) for row in cursor.fetchall()]


def search_tickets(
    *,
    agent: Agent,
    query: str,
    ticket_filter: TicketFilter | None = None,
    limit: int = 25,
    offset: int = 0,
) -> SearchResults:
    """Tickets of the agent's workspace that match ``query`` and the inbox filter, best match first.

    Restricted through ``filter_tickets`` (the agent's workspace, the view, every filter), so search can
    never show what the inbox would not. An empty query (nothing but punctuation) finds nothing.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(_("Page size must be between 1 and %(max)d.") % {"max": MAX_LIMIT}, field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(
            _("Search results go up to %(max)d; refine the search to see more.") % {"max": MAX_OFFSET},
            field="offset",
        )
    parsed = parse_query(query)
    if parsed.is_empty:
        return SearchResults(query=query, hits=[], has_more=False, limit=limit, offset=offset)
    ticket_filter = ticket_filter or TicketFilter()
    filtered = filter_tickets(agent, ticket_filter).order_by().values("id")
    filtered_compiled = subquery_sql(filtered)
    if filtered_compiled is None:  # the filter matches nothing (an agent in no team): so does the search
        return SearchResults(query=query, hits=[], has_more=False, limit=limit, offset=offset)
    if connection.vendor == "postgresql":
        everything = replace(ticket_filter, query="") == TicketFilter(view=InboxView.ALL)
        rows = _ranked_postgresql(parsed, agent.workspace_id, filtered, limit + 1, offset, all_live_tickets=everything)
    else:
        filtered_sql, filtered_params = filtered_compiled
        rows = _ranked_sqlite(parsed, filtered_sql, filtered_params, limit + 1, offset)
    has_more = len(rows) > limit
    rows = rows[:limit]
    # What a hit shows in the UI and the API (merged_into: the API's TicketOut), so neither reads the page again.
    tickets = Ticket.objects.select_related(
        "status", "requester", "organization", "assignee__user", "team", "product_area", "merged_into"
    ).in_bulk([row[0] for row in rows])
    highlighter = _highlighter(parsed)
    hits = [
        SearchHit(ticket=tickets[ticket_id], score=score, snippet=build_snippet(text, highlighter))
        for ticket_id, score, text in rows
        # The workspace was checked by the filter; this only skips a row purged between the two queries.
        if ticket_id in tickets and tickets[ticket_id].workspace_id == agent.workspace_id
    ]
    return SearchResults(query=query, hits=hits, has_more=has_more, limit=limit, offset=offset)


def jump_target(*, workspace_id: int, query: str) -> JumpTarget | None:
    """Where a query that names one thing should go: "#1234"/"1234" -> that ticket, an address -> that
    contact. None when the query is not such a name or nothing in this workspace has it."""
    text = _printable((query or "")[:MAX_QUERY_CHARS]).strip()
    number = _TICKET_NUMBER.match(text)
    if number:
        value = int(number.group(1))
        if Ticket.objects.filter(workspace_id=workspace_id, number=value, deleted_at__isnull=True).exists():
            return JumpTarget(kind="ticket", ticket_number=value)
        return None
    if _EMAIL.match(text):
        contact_id = (
            ContactEmail.objects.filter(workspace_id=workspace_id, email=text.lower())
            .values_list("contact_id", flat=True)
            .first()
        )
        if contact_id is not None:
            return JumpTarget(kind="contact", contact_id=contact_id)
    return None
