"""Public ids: URL-safe text that never begins with ``-``.

Every id calproxy hands out (accounts, users, integrations, calendars, events, contacts,
feeds, ...) is base64url of some bytes: random ones for rows (:func:`proxy.store.sql_base.
new_id`) or a digest for derived ids (:func:`proxy.core.mirror.opaque_id`). base64url's
alphabet holds ``-`` and ``_`` (values 62 and 63); an id that began with ``-`` would read
as an option to the command line (``calproxy user create --account -x...`` fails). The
first character encodes the first byte's top six bits, so clearing the byte's top bit
keeps that character's value below 32: always one of ``A``-``Z`` and ``a``-``f``. The cost
is one bit of the id's 120 or more.
"""

from __future__ import annotations

import base64


def encode_id(raw: bytes) -> str:
    """``raw`` (at least one byte) as an unpadded base64url id whose first character is
    a letter in ``A``-``Z`` or ``a``-``f``."""
    if not raw:
        raise ValueError("an id needs at least one byte")
    cleared = bytes([raw[0] & 0x7F]) + raw[1:]
    return base64.urlsafe_b64encode(cleared).decode().rstrip("=")
