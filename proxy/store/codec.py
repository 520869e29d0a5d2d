"""Events and contacts as JSON documents for the mirror columns, with exact round-trip.

The model is frozen dataclasses of enums, strings, tuples and moments, so one
type-directed codec covers it: encoding walks the values, decoding follows the field
annotations (resolved once per class). The rules that make the round-trip exact:

- enums are stored by value and rebuilt as the annotated enum class;
- tuples become lists and come back as tuples;
- a ``date`` is ``YYYY-MM-DD`` and a ``datetime`` always contains ``T``, so the union
  ``datetime | date`` is told apart by the text alone;
- an aware datetime carries its UTC offset, plus ``[Zone/Name]`` (the RFC 9557 suffix)
  when its tzinfo is an IANA ``ZoneInfo``: it comes back in the same zone, with the same
  wall time and offset (the fold is recovered from the offset in DST overlaps);
- unknown keys are ignored and missing keys take the field default, so rows written
  before a model field was added still load.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from proxy.core.model import Contact, Event

Decoder = Callable[[Any], Any]


def encode_moment(value: date) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    text = value.isoformat()
    key = getattr(value.tzinfo, "key", None)
    return f"{text}[{key}]" if isinstance(value.tzinfo, ZoneInfo) and key else text


def decode_moment(text: str) -> date:
    if len(text) == 10:
        return date.fromisoformat(text)
    if not text.endswith("]"):
        return datetime.fromisoformat(text)
    stamp, _, key = text[:-1].partition("[")
    parsed = datetime.fromisoformat(stamp)
    local = parsed.replace(tzinfo=ZoneInfo(key))
    if local.utcoffset() != parsed.utcoffset():
        local = local.replace(fold=1)
    return local


def encode_value(value: Any) -> Any:
    """A JSON-able form of a model value (dataclass, enum, tuple, moment, scalar)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, date):
        return encode_moment(value)
    if isinstance(value, tuple | list):
        return [encode_value(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: encode_value(getattr(value, name)) for name in _field_names(type(value))}
    raise TypeError(f"cannot encode a {type(value).__name__} in a mirror document")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _optional(inner: Decoder) -> Decoder:
    return lambda raw: None if raw is None else inner(raw)


def _tuple_of(inner: Decoder) -> Decoder:
    return lambda raw: tuple(inner(item) for item in raw)


def _scalar(kind: type) -> Decoder:
    def check(raw: Any) -> Any:
        if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
            raise ValueError(f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw

    return check


@cache
def decoder_for(hint: Any) -> Decoder:
    """A function turning the JSON form of a value annotated ``hint`` back into it."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = tuple(a for a in args if a is not type(None))
        inner = decoder_for(rest[0]) if len(rest) == 1 else _union(rest)
        return _optional(inner) if len(rest) < len(args) else inner
    if origin is tuple:
        return _tuple_of(decoder_for(args[0]))
    if hint in (date, datetime):
        return decode_moment
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if hint in (str, int, float, bool):
        return _scalar(hint)
    raise TypeError(f"no decoder for {hint!r}")


def _union(members: tuple[Any, ...]) -> Decoder:
    if set(members) <= {date, datetime}:
        return decode_moment
    raise TypeError(f"no decoder for the union {members!r}")


def _dataclass_decoder(cls: type[Any]) -> Decoder:
    hints = typing.get_type_hints(cls)
    fields = {name: decoder_for(hints[name]) for name in _field_names(cls)}

    def decode(raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise ValueError(f"expected an object for {cls.__name__}")
        return cls(**{k: fields[k](v) for k, v in raw.items() if k in fields})

    return decode


def dumps(value: Any) -> str:
    return json.dumps(encode_value(value), separators=(",", ":"), ensure_ascii=False)


def event_to_json(event: Event) -> str:
    """The mirror document of ``event``; ``TypeError`` if it holds a non-model value."""
    return dumps(event)


def event_from_json(text: str) -> Event:
    event: Event = decoder_for(Event)(json.loads(text))
    return event


def contact_to_json(contact: Contact) -> str:
    return dumps(contact)


def contact_from_json(text: str) -> Contact:
    contact: Contact = decoder_for(Contact)(json.loads(text))
    return contact


def event_to_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = encode_value(event)
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    event: Event = decoder_for(Event)(data)
    return event


def contact_to_dict(contact: Contact) -> dict[str, Any]:
    data: dict[str, Any] = encode_value(contact)
    return data


def contact_from_dict(data: dict[str, Any]) -> Contact:
    contact: Contact = decoder_for(Contact)(data)
    return contact
