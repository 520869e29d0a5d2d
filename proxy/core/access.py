"""Who sees what (DESIGN §3): the access decision, in one place.

Given the caller, the calendar owner and their delegation (if any), decide whether the
caller may read events, only free/busy, or nothing (404, as if the owner did not exist),
and with which :class:`~proxy.redaction.Audience`. Write permission is a separate
question answered by :func:`check_calendar_write`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from proxy.core.model import Access, Permissions
from proxy.errors import Forbidden, NotFound
from proxy.redaction import Audience, Detail


class Relation(enum.Enum):
    SELF = "self"
    DELEGATE = "delegate"
    COLLEAGUE = "colleague"
    OUTSIDER = "outsider"


@dataclass(frozen=True, slots=True)
class Party:
    user_id: str
    account_id: str


@dataclass(frozen=True, slots=True)
class Grant:
    """A delegation's two flags."""

    can_schedule: bool
    can_view_private: bool


def relation(caller: Party, owner: Party, grant: Grant | None) -> Relation:
    if caller.account_id != owner.account_id:
        return Relation.OUTSIDER
    if caller.user_id == owner.user_id:
        return Relation.SELF
    return Relation.DELEGATE if grant is not None else Relation.COLLEAGUE


def require_visible(rel: Relation) -> None:
    """Anyone outside the owner's account is told the owner does not exist."""
    if rel is Relation.OUTSIDER:
        raise NotFound("user: no such user", "user_not_found")


def events_audience(rel: Relation, grant: Grant | None, may_write: bool) -> Audience:
    """The audience for ``/events`` of the owner; colleagues get 403 (free/busy only).

    ``may_write`` is whether writes on the owner's calendar are permitted by policy and
    grant (see :func:`check_calendar_write`); it only decides ``can_edit`` flags here.
    """
    require_visible(rel)
    if rel is Relation.SELF:
        return Audience(Detail.FULL, sees_private=True, can_edit=may_write,
                        can_edit_private=may_write)
    if rel is Relation.DELEGATE and grant is not None:
        can_edit = may_write and grant.can_schedule
        return Audience(Detail.FULL, sees_private=grant.can_view_private, can_edit=can_edit,
                        can_edit_private=can_edit and grant.can_view_private)
    raise Forbidden("Only the owner and their delegates may read events; "
                    "use /freebusy for availability.", "forbidden")


def check_calendar_read(account: Permissions) -> None:
    """An account whose policy grants no calendar access serves no calendar data."""
    if account.calendar is Access.NONE:
        raise Forbidden("The account's policy allows no calendar access.", "policy_no_access")


def freebusy_audience(rel: Relation) -> Audience:
    """Everyone in the owner's account may see times and show-as."""
    require_visible(rel)
    return Audience(Detail.BUSY, sees_private=False)


def check_calendar_write(
    rel: Relation, grant: Grant | None, account: Permissions, granted: Permissions | None,
) -> None:
    """Raise unless the caller may write on the owner's calendar.

    Permitted means: the account's calendar permission is ``write`` and the owner's
    integration was granted write; a delegate also needs ``can_schedule``.
    """
    check_scheduler(rel, grant)
    if account.calendar is not Access.WRITE:
        raise Forbidden("The account's policy allows reading calendars only.",
                        "policy_read_only")
    if granted is None or granted.calendar is not Access.WRITE:
        raise Forbidden("The calendar integration was granted read access only.",
                        "integration_read_only")


def check_scheduler(rel: Relation, grant: Grant | None) -> None:
    """Only the owner and delegates with ``can_schedule`` write on a calendar."""
    require_visible(rel)
    if rel is Relation.COLLEAGUE or (rel is Relation.DELEGATE and not (
            grant and grant.can_schedule)):
        raise Forbidden("You may not schedule on this calendar.", "forbidden")


def check_private_write(rel: Relation, grant: Grant | None, event_is_private: bool) -> None:
    """A delegate who may not see private events may not change them either."""
    if event_is_private and rel is Relation.DELEGATE and not (grant and grant.can_view_private):
        raise Forbidden("This event is private.", "private_event")


def check_contacts(rel: Relation, account: Permissions, granted: Permissions | None,
                   write: bool) -> None:
    """Contacts are the owner's alone; creating needs ``write`` in policy and grant."""
    require_visible(rel)
    if rel is not Relation.SELF:
        raise Forbidden("Contacts are visible to their owner only.", "forbidden")
    wanted = Access.WRITE if write else Access.READ
    if account.contacts is Access.NONE:
        raise Forbidden("The account's policy allows no contacts access.", "policy_no_access")
    if not account.contacts.allows(wanted):
        raise Forbidden(f"The account's policy allows {account.contacts.value} access "
                        "to contacts.", "policy_read_only")
    if granted is None or not granted.contacts.allows(wanted):
        raise Forbidden("The contacts integration was not granted that access.",
                        "integration_read_only")
