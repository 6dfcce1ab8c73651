from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deskloop.channels.email.addresses import (
    Address,
    format_address,
    normalize_address,
    parse_address_list,
    sanitize_header_value,
)
from deskloop.channels.email.header_text import decode_header_text


def test_address_lists_tolerate_the_garbage_real_headers_contain() -> None:
    value = '"Doe, John" <John.Doe@Example.COM>; bare@acme.example, undisclosed-recipients:;, <not an address>, "x" <>'
    assert parse_address_list(value) == [
        Address(name="Doe, John", address="John.Doe@Example.COM"),
        Address(name="", address="bare@acme.example"),
    ]


def test_encoded_names_are_decoded_after_splitting_so_commas_inside_do_not_split() -> None:
    value = "=?utf-8?q?M=C3=BCller=2C_J=C3=BCrgen?= <j@acme.example>, Ann <ann@acme.example>"
    assert parse_address_list(value, decode=decode_header_text) == [
        Address(name="Müller, Jürgen", address="j@acme.example"),
        Address(name="Ann", address="ann@acme.example"),
    ]


def test_a_garbled_header_still_yields_the_addresses_a_human_sees() -> None:
    assert parse_address_list('"unterminated <ann@acme.example> ((( bob@acme.example') == [
        Address(name="", address="ann@acme.example"),
        Address(name="", address="bob@acme.example"),
    ]


def test_normalize_lowercases_for_matching() -> None:
    assert normalize_address(" <Ann.Lee@ACME.Example.> ") == "ann.lee@acme.example"


def test_header_values_lose_line_breaks_and_controls() -> None:
    assert sanitize_header_value("Hi\r\nBcc: victim@evil.example\x00\u2028x") == "Hi Bcc: victim@evil.example x"
    assert format_address(Address(name="Eve\r\nBcc: x@evil.example", address="eve@acme.example")) == (
        '"Eve Bcc: x@evil.example" <eve@acme.example>'
    )
    assert format_address(Address(name="Eve", address="eve@acme.example\r\nBcc: x@evil.example")) == ""


@given(st.text(), st.integers(min_value=1, max_value=2000))
def test_no_sanitized_header_value_contains_cr_or_lf(value: str, max_length: int) -> None:
    cleaned = sanitize_header_value(value, max_length=max_length)
    assert "\r" not in cleaned
    assert "\n" not in cleaned
    assert len(cleaned) <= max_length
    assert cleaned.splitlines() in ([], [cleaned])


@given(st.text(), st.text())
def test_formatted_addresses_never_contain_cr_or_lf(name: str, address: str) -> None:
    formatted = format_address(Address(name=name, address=address))
    assert "\r" not in formatted
    assert "\n" not in formatted


@given(st.text())
def test_parse_address_list_never_raises_and_only_returns_plausible_addresses(value: str) -> None:
    for address in parse_address_list(value, decode=decode_header_text):
        assert address.address.count("@") == 1
        assert "\n" not in address.name
