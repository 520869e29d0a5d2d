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
  wall time and offset; ``fold=1`` (the later of two equal wall times when clocks go
  back) is kept as a ``[_fold=1]`` suffix;
- unknown keys are ignored and missing keys take the field default, so rows written
  before a model field was added still load.
"""

from __future__ import annotations

import contextlib
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

from cachetools import LRUCache

from proxy.core.model import Contact, Event

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]
_FOLD = "[_fold=1]"  # the second of two equal wall times (PEP 495), kept exactly


def encode_moment(value: date) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    text = value.isoformat()
    key = getattr(value.tzinfo, "key", None)
    if isinstance(value.tzinfo, ZoneInfo) and key:
        text += f"[{key}]"
    return text + _FOLD if value.fold else text


def decode_moment(text: str) -> date:
    if len(text) == 10:
        return date.fromisoformat(text)
    fold = int(text.endswith(_FOLD))
    if fold:
        text = text[:-len(_FOLD)]
    if not text.endswith("]"):
        return datetime.fromisoformat(text).replace(fold=fold)
    stamp, _, key = text[:-1].partition("[")
    return datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo(key), fold=fold)


def _type_error(expected: str, value: Any) -> TypeError:
    return TypeError(f"mirror documents hold {expected} here, not {type(value).__name__}")


def _encode_scalar(kind: type) -> Encoder:
    def encode(value: Any) -> Any:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise _type_error(kind.__name__, value)

    return encode


def _encode_enum(cls: type[enum.Enum]) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, cls):
            raise _type_error(cls.__name__, value)
        return value.value

    return encode


def _encode_moment(value: Any) -> str:
    if not isinstance(value, date):
        raise _type_error("a date or datetime", value)
    return encode_moment(value)


def _encode_optional(inner: Encoder) -> Encoder:
    return lambda value: None if value is None else inner(value)


def _encode_tuple(inner: Encoder) -> Encoder:
    def encode(value: Any) -> list[Any]:
        if not isinstance(value, tuple):
            raise _type_error("a tuple", value)
        return [inner(item) for item in value]

    return encode


_NO_DEFAULT: Any = object()


def _encode_dataclass(cls: type[Any]) -> Encoder:
    """Fields at their (plain) default are left out: smaller rows, faster writes; the
    decoder fills them back in."""
    hints = typing.get_type_hints(cls)
    plan = [(f.name, encoder_for(hints[f.name]),
             _NO_DEFAULT if f.default is dataclasses.MISSING else f.default)
            for f in dataclasses.fields(cls)]

    def encode(value: Any) -> dict[str, Any]:
        if not isinstance(value, cls):
            raise _type_error(cls.__name__, value)
        out = {}
        for name, enc, default in plan:
            item = getattr(value, name)
            if item is default or (type(item) is type(default) and item == default):
                continue
            out[name] = enc(item)
        return out

    return encode


@cache
def encoder_for(hint: Any) -> Encoder:
    """A function turning a value annotated ``hint`` into its JSON form; it raises
    ``TypeError`` for a value of another type, so a bad event never reaches a row."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) > 1 and not set(rest) <= {date, datetime}:
            raise TypeError(f"no encoder for the union {hint!r}")
        inner = _encode_moment if len(rest) > 1 else encoder_for(rest[0])
        return _encode_optional(inner) if len(rest) < len(args) else inner
    if origin is tuple:
        return _encode_tuple(encoder_for(args[0]))
    if hint in (date, datetime):
        return _encode_moment
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _encode_enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _encode_dataclass(hint)
    if hint in (str, int, float, bool):
        return _encode_scalar(hint)
    raise TypeError(f"no encoder for {hint!r}")


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


_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """The compact JSON document of a model dataclass instance."""
    cls: Any = type(value)
    return _DUMPS(encoder_for(cls)(value))


#: documents decoded lately, and documents just written, by their text: decoding is a pure
#: function of the text (the round trip is exact, ``tests/store/test_codec.py``), so an
#: entry can never be stale; bounded by the bytes of the texts held (LRU)
DECODED_BYTES = 16 * 1024 * 1024
_decoded: LRUCache[str, tuple[int, Event]] = LRUCache(DECODED_BYTES,
                                                      getsizeof=lambda held: held[0])


def _remember(text: str, event: Event) -> None:
    with contextlib.suppress(ValueError):  # a document larger than the whole bound
        _decoded[text] = (len(text), event)


def event_to_json(event: Event) -> str:
    """The mirror document of ``event``; ``TypeError`` if a field holds a value of
    another type than the model declares. The document is remembered with its event, so
    reading back what a sync round or a write just stored decodes nothing."""
    text = dumps(event)
    _remember(text, event)
    return text


def event_from_json(text: str) -> Event:
    found = _decoded.get(text)
    if found is not None:
        return found[1]
    event: Event = decoder_for(Event)(json.loads(text))
    _remember(text, event)
    return event


def contact_to_json(contact: Contact) -> str:
    return dumps(contact)


def contact_from_json(text: str) -> Contact:
    contact: Contact = decoder_for(Contact)(json.loads(text))
    return contact


def event_to_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = encoder_for(Event)(event)
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    event: Event = decoder_for(Event)(data)
    return event


def contact_to_dict(contact: Contact) -> dict[str, Any]:
    data: dict[str, Any] = encoder_for(Contact)(contact)
    return data


def contact_from_dict(data: dict[str, Any]) -> Contact:
    contact: Contact = decoder_for(Contact)(data)
    return contact
