"""What a subscriber would read of an owner's calendar, and whether that changed.

A subscriber is one of three viewers, decided by the same access rules as reads
(:mod:`proxy.core.access`): the owner and delegates who see private events read every
field (``FULL``); other delegates read private events as busy blocks (``PRIVATE_HIDDEN``);
everyone else in the account reads free/busy only (``FREEBUSY``). What a viewer reads is
:func:`~proxy.redaction.redact`'s output, rendered as the API renders it, so a change a
viewer could not see (a hidden field of a private event, for ``PRIVATE_HIDDEN``) leaves its
snapshot, and so its notifications, untouched. ``can_edit`` is left out: it is about the
caller's rights, not about the calendar's data.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from proxy.core.access import Grant, Relation, require_visible
from proxy.core.mirror import MirroredEvent
from proxy.redaction import Audience, Detail, VisibleEvent, redact
from proxy.render.freebusy import freebusy_json
from proxy.render.json import event_json

#: a free/busy viewer's snapshot has one entry: the digest of all busy times
FREEBUSY_KEY = "freebusy"

Snapshot = Mapping[str, str]


class Viewer(enum.StrEnum):
    FULL = "full"
    PRIVATE_HIDDEN = "private_hidden"
    FREEBUSY = "freebusy"


_AUDIENCES = {
    Viewer.FULL: Audience(Detail.FULL, sees_private=True),
    Viewer.PRIVATE_HIDDEN: Audience(Detail.FULL, sees_private=False),
    Viewer.FREEBUSY: Audience(Detail.BUSY, sees_private=False),
}


def viewer_for(rel: Relation, grant: Grant | None) -> Viewer:
    """The viewer a caller is of the owner's calendar; outsiders get ``NotFound``."""
    require_visible(rel)
    if rel is Relation.SELF:
        return Viewer.FULL
    if rel is Relation.DELEGATE and grant is not None:
        return Viewer.FULL if grant.can_view_private else Viewer.PRIVATE_HIDDEN
    return Viewer.FREEBUSY


def visible_to(viewer: Viewer, items: Iterable[MirroredEvent]) -> list[VisibleEvent]:
    audience = _AUDIENCES[viewer]
    return [v for v in (redact(item, audience) for item in items) if v is not None]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot(viewer: Viewer, items: Iterable[MirroredEvent]) -> dict[str, str]:
    """Per event id, a digest of what ``viewer`` reads of it (free/busy: one digest)."""
    visible = visible_to(viewer, items)
    if viewer is Viewer.FREEBUSY:
        return {FREEBUSY_KEY: _digest(freebusy_json(visible))}
    shown = {}
    for event in visible:
        body = event_json(event)
        body.pop("can_edit")
        shown[event.id] = _digest(body)
    return shown


@dataclass(frozen=True, slots=True)
class Diff:
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


def diff(before: Snapshot, after: Snapshot) -> Diff:
    """Ids new or different in ``after``, and ids gone from it, both sorted."""
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    removed = sorted(k for k in before if k not in after)
    return Diff(tuple(changed), tuple(removed))


def notification(viewer: Viewer, user: str, calendar_id: str, change: Diff) -> dict[str, Any]:
    """The thin body of DESIGN §11: ids only, and none for a free/busy viewer."""
    if viewer is Viewer.FREEBUSY:
        return {"type": "freebusy.changed", "user": user}
    return {"type": "events.changed", "user": user, "calendar_id": calendar_id,
            "changed": list(change.changed), "removed": list(change.removed)}
