"""Turning a refusal of the shared actions into words next to the field it names.

The actions raise :class:`~proxy.errors.CalproxyError` whose message starts with the
field it is about (``allowed_domains.value: 'a b' is not a valid ...``), the API's
contract. The portal shows the sentence after that prefix next to the control.
"""

from __future__ import annotations

from proxy.errors import CalproxyError


def field_of(exc: CalproxyError) -> str | None:
    """The field a message names (``allowed_domains.value: ...`` → ``allowed_domains``)."""
    head, sep, _ = exc.message.partition(": ")
    if not sep or " " in head:
        return None
    return head.split(".", 1)[0].split("[", 1)[0]


def words(exc: CalproxyError) -> str:
    """The message without its field prefix, starting with a capital."""
    _, sep, rest = exc.message.partition(": ")
    text = rest if sep and field_of(exc) else exc.message
    return text[:1].upper() + text[1:]
