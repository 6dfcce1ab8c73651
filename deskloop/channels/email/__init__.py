"""The email channel.

The pure, database-free core (importable without Django models; only ``deskloop.core.html`` is used):

``parsing.parse_message(raw: bytes) -> ParsedEmail``
    Never raises. A frozen picture of one message: ``message_id`` (without <>; synthesized from a hash of the raw
    bytes when missing, then ``message_id_synthesized`` is True), ``in_reply_to``, ``references`` (tuple),
    ``subject`` (RFC 2047 decoded, whitespace-normalized), ``from_`` / ``sender`` (``Address`` or None),
    ``reply_to`` / ``to`` / ``cc`` (tuples of ``Address(name, address)``), ``date`` (aware or None),
    ``headers`` (every top-level header decoded; ``header(name)`` / ``header_all(name)``, plus properties
    ``auto_submitted``, ``precedence``, ``x_autoreply``, ``x_autorespond``, ``x_auto_response_suppress``,
    ``list_id``, ``list_unsubscribe``, ``x_loop``, ``report_type``), ``authentication``
    (``AuthenticationResults``: spf/dkim/dmarc verdicts and the header.from domain of the topmost
    Authentication-Results), ``text`` (plain text; from HTML-only mail a readable text, ``text_from_html``),
    ``html`` (raw) and ``sanitized_html``, ``attachments`` (``Attachment``: filename decoded per RFC 2047/2231,
    content_type, content bytes, content_id, is_inline; message/rfc822 parts are ``*.eml`` attachments whose
    ``message`` is the nested ``ParsedEmail``), ``inline_images`` (cid -> Attachment), ``nested_messages``,
    ``size``, ``charsets`` (``CharsetDecision`` for every fallback taken) and ``defects`` (strings).
    Built from ``header_text`` (``decode_header_text``, ``normalize_message_id``, dates, Authentication-Results),
    ``mime_walk`` (body parts, attachments, nested messages) and ``charsets`` (``decode_bytes``,
    ``CHARSET_ALIASES``).

``noise.classify(parsed, *, loop_marker="", own_addresses=()) -> Verdict(kind, reason)``
    kind is "normal", "bounce", "auto_reply", "loop" or "list"; anything but "normal" must not open a ticket.
    ``loop_marker`` is the value we write into X-Loop on outgoing mail.

``dsn.parse_dsn(parsed_or_raw) -> DeliveryReport(recipients, original_message_id, source)``
    ``recipients`` are ``FailedRecipient(address, action, status, diagnostic)``; mark an address as bouncing
    only for ``is_permanent`` ones (action "failed", status not 4.x.x). ``original_message_id`` finds the
    ticket whose message bounced.

``quotes.strip_reply(text, html=None, *, marker=DEFAULT_MARKER) -> StrippedReply(visible_text, quoted_text,
signature)``
    For display only; keep the full text. Pass our "reply above this line" wording as ``marker``.

``addresses``: ``parse_address_list`` (tolerant, never raises), ``normalize_address`` (for matching),
``sanitize_header_value`` / ``format_address`` (for anything that reaches an outgoing header: no CR/LF).
"""
