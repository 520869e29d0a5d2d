"""Ids never begin with '-' (DESIGN §5: they are passed to the CLI as arguments)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.ids import encode_id
from proxy.core.mirror import (
    calendar_public_id,
    contact_public_id,
    event_public_id,
    opaque_id,
)
from proxy.store.sql_base import new_id

ID = re.compile(r"[A-Za-f][A-Za-z0-9_-]*")


@settings(max_examples=2000)
@given(st.binary(min_size=1, max_size=32))
def test_encoded_ids_begin_with_a_letter(raw: bytes) -> None:
    assert ID.fullmatch(encode_id(raw))


@settings(max_examples=1000)
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_derived_ids_begin_with_a_letter(parts: list[str]) -> None:
    for made in (opaque_id(*parts), event_public_id(*(parts * 2)[:2]),
                 calendar_public_id(*(parts * 2)[:2]), contact_public_id(*(parts * 2)[:2])):
        assert ID.fullmatch(made) and len(made) == 20


def test_random_ids_begin_with_a_letter() -> None:
    made = {new_id() for _ in range(20_000)}  # about 300 would begin with '-' unfixed
    assert len(made) == 20_000
    assert all(ID.fullmatch(i) and len(i) == 22 for i in made)
    assert {i[0] for i in made} == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")


def test_the_top_bit_is_the_only_change() -> None:
    assert encode_id(b"\xf8\x00\x00") == "eAAA"  # '-' would have been "-AAA"
    assert encode_id(b"\x00\x01\x02") == "AAEC"
