"""Contacts: the owner's alone; creating needs write in policy and grant."""

from __future__ import annotations

from aiohttp import web

from proxy.core.access import check_contacts
from proxy.core.model import ContactDraft, EmailAddress, PhoneNumber
from proxy.errors import BadRequest, NotFound
from proxy.http.context import Target, resolve_target
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.keys import CALENDARS, STORE
from proxy.http.replies import json_reply
from proxy.render.json import contact_json
from proxy.store.records import Integration


async def _allowed(request: web.Request, write: bool) -> tuple[
        Target, list[Integration], Integration]:
    """The owner's serving integrations, and the one with the widest contacts grant, once
    the caller is known to be allowed (``check_contacts``)."""
    target = await resolve_target(request)
    integrations = await request.app[CALENDARS].serving_integrations(target.owner.id,
                                                                     "contacts")
    best = max(integrations, key=lambda i: i.granted.contacts.rank)
    check_contacts(target.relation, target.policy.account_permissions, best.granted,
                   write=write)
    return target, integrations, best


async def list_contacts(request: web.Request) -> web.Response:
    target, _, _ = await _allowed(request, write=False)
    items = await request.app[CALENDARS].contacts(target.owner.id)
    return json_reply({"contacts": [contact_json(cid, c) for cid, _, c in items]})


async def get_contact(request: web.Request) -> web.Response:
    _, integrations, _ = await _allowed(request, write=False)
    found = await request.app[STORE].get_contact(request.match_info["id"])
    if found is None or found[1] not in {i.id for i in integrations}:
        raise NotFound("contact: no such contact", "contact_not_found")
    return json_reply(contact_json(found[0], found[2]))


async def create_contact(request: web.Request) -> web.Response:
    draft = parse_contact(await json_body(request))
    _, _, best = await _allowed(request, write=True)
    public_id, contact = await request.app[CALENDARS].create_contact(best, draft)
    return json_reply(contact_json(public_id, contact), status=201)


def parse_contact(body: dict[str, object]) -> ContactDraft:
    fields = {"display_name", "given_name", "surname", "emails", "phones", "company",
              "job_title"}
    only_fields(body, fields)
    emails = _entries(body.get("emails"), "emails", "address")
    phones = _entries(body.get("phones"), "phones", "number")
    draft = ContactDraft(
        display_name=get_str(body, "display_name", max_len=500),
        given_name=get_str(body, "given_name", max_len=200),
        surname=get_str(body, "surname", max_len=200),
        emails=tuple(EmailAddress(a, t) for a, t in emails),
        phones=tuple(PhoneNumber(n, t) for n, t in phones),
        company=get_str(body, "company", max_len=500),
        job_title=get_str(body, "job_title", max_len=500),
    )
    if not (draft.display_name or draft.given_name or draft.surname or draft.emails):
        raise BadRequest("display_name: a contact needs a name or an email", "missing_field")
    return draft


_TYPES = {"emails": {"work", "home", "other"}, "phones": {"mobile", "work", "home", "other"}}


def _entries(raw: object, name: str, key: str) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest(f"{name}: expected a list", "invalid_field")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get(key), str):
            raise BadRequest(f"{name}[{i}].{key}: required string", "invalid_field")
        only_fields(item, {key, "type"}, f"{name}[{i}].")
        kind = item.get("type", "other")
        if kind not in _TYPES[name]:
            raise BadRequest(f"{name}[{i}].type: expected one of "
                             f"{', '.join(sorted(_TYPES[name]))}", "invalid_field")
        out.append((item[key], kind))
    return out
