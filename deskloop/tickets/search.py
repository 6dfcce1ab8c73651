"""Full-text search over tickets: subjects, message text and requester names/emails.

SQLite uses an FTS5 table; PostgreSQL a tsvector column with a GIN index (and pg_trgm for names).
This module is the only place that knows which; callers use the functions below.

INTERFACE (implemented by the search work; the agent UI and the API call only these):

- ``index_ticket(ticket_id)``: (re)index one ticket after a write; idempotent.
- ``search_tickets(*, agent, query, ticket_filter, limit, offset) -> SearchResults``: ranked hits
  restricted to tickets the filter allows, each with a snippet whose matched words are wrapped in
  <mark>; the snippet HTML is built from escaped text, so it is safe to render.
- ``jump_target(*, workspace_id, query) -> JumpTarget | None``: "#1234" / "1234" -> that ticket;
  an email address -> that contact.
"""
