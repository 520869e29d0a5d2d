"""The integration policy of DESIGN §2: settings, their validation, and each rule.

Pure functions over plain data. The handlers call them and act on the answers (store
writes, HTTP statuses); no rule is decided anywhere else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from proxy.core.model import Access, Permissions, Service
from proxy.errors import BadRequest, Forbidden, Unprocessable

ALL_SERVICES: tuple[Service, ...] = (
    Service.GRAPH, Service.EWS_O365, Service.EXCHANGE_EWS, Service.EXCHANGE_MAPI,
    Service.GOOGLE,
)
O365_HOST = "outlook.office365.com"


class PromptMode(enum.StrEnum):
    OFF = "off"
    FIRST_SIGN_IN = "first_sign_in"
    EVERY_SIGN_IN = "every_sign_in"


class Reason(enum.StrEnum):
    """Why an integration is suspended, or why a user is prompted."""

    POLICY_CHANGED = "policy_changed"
    INTEGRATION_DISABLED = "integration_disabled"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    FIRST_SIGN_IN = "first_sign_in"
    NOT_INTEGRATED = "not_integrated"


@dataclass(frozen=True, slots=True)
class Setting:
    value: Any
    locked: bool = False


@dataclass(frozen=True)
class Policy:
    """An account's effective policy (stored overrides on top of the defaults)."""

    enabled: Setting = Setting(True)
    services: Setting = Setting(ALL_SERVICES)
    permissions: Setting = Setting(Permissions())
    prompt_o365_on_sign_in: Setting = Setting(PromptMode.OFF)
    allowed_domains: Setting = Setting(())
    ews_hosts: Setting = Setting(())
    names: ClassVar[tuple[str, ...]] = (
        "enabled", "services", "permissions", "prompt_o365_on_sign_in", "allowed_domains",
        "ews_hosts")

    @property
    def is_enabled(self) -> bool:
        return bool(self.enabled.value)

    @property
    def allowed_services(self) -> tuple[Service, ...]:
        return tuple(self.services.value)

    @property
    def account_permissions(self) -> Permissions:
        value: Permissions = self.permissions.value
        return value

    def as_json(self) -> dict[str, Any]:
        return {name: {"value": _to_json(getattr(self, name).value),
                       "locked": getattr(self, name).locked} for name in self.names}


def _to_json(value: Any) -> Any:
    if isinstance(value, Permissions):
        return {"calendar": value.calendar.value, "contacts": value.contacts.value}
    if isinstance(value, tuple):
        return [str(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


# --- parsing and validation -------------------------------------------------------------

def _parse_bool(name: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise BadRequest(f"{name}: expected true or false", "invalid_setting")
    return raw


def _parse_services(name: str, raw: Any) -> tuple[Service, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise BadRequest(f"{name}: expected a list of service names", "invalid_setting")
    try:
        chosen = {Service(s) for s in raw}
    except ValueError:
        known = ", ".join(ALL_SERVICES)
        raise BadRequest(f"{name}: unknown service (known: {known})", "invalid_setting") from None
    return tuple(s for s in ALL_SERVICES if s in chosen)


def parse_permissions(name: str, raw: Any, base: Permissions | None = None) -> Permissions:
    """A permissions object, possibly partial (missing keys keep ``base``'s values)."""
    if not isinstance(raw, dict) or not raw or set(raw) - {"calendar", "contacts"}:
        raise BadRequest(
            f"{name}: expected an object with 'calendar' and/or 'contacts'", "invalid_setting")
    base = base or Permissions()
    try:
        calendar = Access(raw.get("calendar", base.calendar.value))
        contacts = Access(raw.get("contacts", base.contacts.value))
    except ValueError:
        raise BadRequest(f"{name}: each permission is none, read or write",
                         "invalid_setting") from None
    return Permissions(calendar, contacts)


def _parse_prompt(name: str, raw: Any) -> PromptMode:
    try:
        return PromptMode(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected off, first_sign_in or every_sign_in",
                         "invalid_setting") from None


def _parse_names(name: str, raw: Any) -> tuple[str, ...]:
    """A list or comma-separated string of domains or host names, lower-cased."""
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        raise BadRequest(f"{name}: expected a list or a comma-separated string",
                         "invalid_setting")
    cleaned = [d.strip().lower().lstrip("@") for d in raw if d.strip()]
    for item in cleaned:
        if not all(part and all(c.isalnum() or c == "-" for c in part)
                   for part in item.split(".")):
            raise BadRequest(f"{name}: {item!r} is not a valid host or domain name",
                             "invalid_setting")
    return tuple(dict.fromkeys(cleaned))


_PARSERS = {
    "enabled": _parse_bool,
    "services": _parse_services,
    "permissions": parse_permissions,
    "prompt_o365_on_sign_in": _parse_prompt,
    "allowed_domains": _parse_names,
    "ews_hosts": _parse_names,
}


def load_policy(stored: Mapping[str, Any]) -> Policy:
    """The effective policy from an account's stored settings (already validated)."""
    return apply_patch(Policy(), stored)


def apply_patch(policy: Policy, patch: Any) -> Policy:
    """``policy`` with ``patch`` applied; raise ``BadRequest`` naming the bad field.

    Each entry is ``{"value": ..., "locked": bool}``; either key may be left out.
    """
    if not isinstance(patch, Mapping):
        raise BadRequest("body: expected an object of settings", "invalid_body")
    changes: dict[str, Setting] = {}
    for name, entry in patch.items():
        if name not in _PARSERS:
            raise BadRequest(f"{name}: unknown setting", "unknown_setting")
        if not isinstance(entry, Mapping) or not entry or set(entry) - {"value", "locked"}:
            raise BadRequest(f"{name}: expected an object with 'value' and/or 'locked'",
                             "invalid_setting")
        current: Setting = getattr(policy, name)
        value = current.value
        if "value" in entry:
            if name == "permissions":
                value = parse_permissions(f"{name}.value", entry["value"], current.value)
            else:
                value = _PARSERS[name](f"{name}.value", entry["value"])
        locked = _parse_bool(f"{name}.locked", entry.get("locked", current.locked))
        changes[name] = Setting(value, locked)
    merged = {name: changes.get(name, getattr(policy, name)) for name in policy.names}
    return Policy(**merged)


def stored_form(policy: Policy) -> dict[str, Any]:
    return policy.as_json()


# --- rules ----------------------------------------------------------------------------

def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def domain_allowed(policy: Policy, email: str) -> bool:
    """Rule 4: an empty list allows every domain; otherwise an exact, lower-case match."""
    domains: tuple[str, ...] = policy.allowed_domains.value
    return not domains or email_domain(email) in domains


def permissions_for_new_integration(
    policy: Policy, service: Service, email: str, requested: Permissions | None,
) -> Permissions:
    """Rules 1, 3, 4, 6: may this user connect ``service``, and with what permissions?"""
    if not policy.is_enabled:
        raise Forbidden("Calendar and contacts integration is disabled for this account.",
                        "integration_disabled")
    if not domain_allowed(policy, email):
        raise Forbidden("Your email domain is not allowed to integrate by this account.",
                        "domain_not_allowed")
    if service not in policy.allowed_services:
        raise Forbidden(f"service: {service.value} is not allowed by this account.",
                        "service_not_allowed")
    if service is Service.EXCHANGE_MAPI:
        raise Unprocessable("service: exchange_mapi is a client-side (Windows desktop MAPI) "
                            "connection; the server cannot create it.",
                            "service_client_side_only")
    limit = policy.account_permissions
    if policy.permissions.locked or requested is None:
        return limit
    if not requested.within(limit):
        raise Forbidden("permissions: more than the account allows "
                        f"(calendar {limit.calendar.value}, contacts {limit.contacts.value}).",
                        "permissions_not_allowed")
    return requested


@dataclass(frozen=True, slots=True)
class IntegrationFacts:
    """What the suspension rules need to know of one integration."""

    service: Service
    requested: Permissions
    owner_email: str
    suspended_reason: str | None


def suspension_reason(policy: Policy, facts: IntegrationFacts) -> Reason | None:
    """Rules 2–4: the reason ``facts``' integration must be suspended now, or ``None``.

    A ``policy_changed`` suspension sticks until the user re-integrates (the grant itself
    is out of date); the other two lift once the policy allows the integration again.
    """
    if not policy.is_enabled:
        return Reason.INTEGRATION_DISABLED
    if not domain_allowed(policy, facts.owner_email):
        return Reason.DOMAIN_NOT_ALLOWED
    if facts.suspended_reason == Reason.POLICY_CHANGED:
        return Reason.POLICY_CHANGED
    if facts.service not in policy.allowed_services:
        return Reason.POLICY_CHANGED
    if policy.permissions.locked and facts.requested != policy.account_permissions:
        return Reason.POLICY_CHANGED
    return None


def ews_host_allowed(policy: Policy, service: Service, host: str) -> bool:
    """Rule 8: the host must be listed (``ews_o365`` always allows Office 365's)."""
    hosts: tuple[str, ...] = policy.ews_hosts.value
    host = host.lower().rstrip(".")
    return host in hosts or (service is Service.EWS_O365 and host == O365_HOST)


def check_ews_url(policy: Policy, service: Service, scheme: str, host: str,
                  allow_http: bool) -> None:
    """Rule 8 on the URL as given: a listed host, over https unless the server allows
    http (tests). Name resolution and redirects are checked again where they happen."""
    if not ews_host_allowed(policy, service, host):
        raise Unprocessable("ews_url: the host is not on the account's list of EWS hosts.",
                            "ews_host_not_allowed")
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise Unprocessable("ews_url: EWS is only reached over https.",
                            "ews_host_not_allowed")


# --- rule 5: the sign-in prompt ---------------------------------------------------------

def parse_version(text: str) -> tuple[int, ...]:
    parts = text.strip().split(".")
    if not text.strip() or len(parts) > 8 or not all(
            p.isascii() and p.isdigit() and len(p) < 10 for p in parts):
        raise BadRequest("client_version: expected a dotted version such as 5.4.1",
                         "invalid_field")
    return tuple(int(p) for p in parts)


def version_at_least(version: str, minimum: str) -> bool:
    a, b = parse_version(version), parse_version(minimum)
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


@dataclass(frozen=True, slots=True)
class PromptDecision:
    service: Service
    reason: Reason
    #: whether the client should be sent to authorize (False: only to tell the user)
    authorize: bool


def prompt_service(policy: Policy, preferred: Service | None = None) -> Service | None:
    """The Office 365 service to prompt for: ``preferred`` if allowed, else Graph, else EWS."""
    allowed = policy.allowed_services
    for candidate in (preferred, Service.GRAPH, Service.EWS_O365):
        if candidate is not None and candidate in allowed:
            return candidate
    return None


#: services a re-integration prompt may offer, in order of preference after the suspended
#: one: Office 365 first (the prompt's origin), then Google, then those connected without
#: a browser (EWS with a password; MAPI on the desktop client)
REINTEGRATION_ORDER = (Service.GRAPH, Service.EWS_O365, Service.GOOGLE, Service.EXCHANGE_EWS,
                       Service.EXCHANGE_MAPI)
#: services connected through an authorize URL (the others: the user is told only)
AUTHORIZED_SERVICES = frozenset({Service.GRAPH, Service.EWS_O365, Service.GOOGLE})


def reintegration_prompt(policy: Policy, suspended: Service) -> PromptDecision | None:
    """Rule 2's prompt after a ``policy_changed`` suspension: the suspended service if the
    policy still allows it, else the first service it allows (locking ``services`` to
    ``["google"]`` away from Graph prompts for Google); ``None`` if it allows none."""
    allowed = policy.allowed_services
    for candidate in (suspended, *REINTEGRATION_ORDER):
        if candidate in allowed:
            return PromptDecision(candidate, Reason.POLICY_CHANGED,
                                  authorize=candidate in AUTHORIZED_SERVICES)
    return None


def sign_in_prompt(
    policy: Policy, email: str, integrations: Iterable[IntegrationFacts], connected: bool,
    sign_ins_before: int, client_version: str, min_version: str,
) -> PromptDecision | None:
    """Rule 5 (and the sign-in halves of rules 2 and 4)."""
    if not version_at_least(client_version, min_version):
        return None
    suspended = [f for f in integrations if f.suspended_reason]
    for facts in suspended:
        if facts.suspended_reason == Reason.DOMAIN_NOT_ALLOWED:
            return PromptDecision(facts.service, Reason.DOMAIN_NOT_ALLOWED, authorize=False)
    for facts in suspended:
        if facts.suspended_reason == Reason.POLICY_CHANGED and policy.is_enabled:
            decision = reintegration_prompt(policy, facts.service)
            if decision is not None:
                return decision
    mode: PromptMode = policy.prompt_o365_on_sign_in.value
    if connected or mode is PromptMode.OFF or not policy.is_enabled:
        return None
    if not domain_allowed(policy, email):
        return None
    service = prompt_service(policy)
    if service is None:
        return None
    if sign_ins_before == 0:
        return PromptDecision(service, Reason.FIRST_SIGN_IN, authorize=True)
    if mode is PromptMode.EVERY_SIGN_IN:
        return PromptDecision(service, Reason.NOT_INTEGRATED, authorize=True)
    return None


# --- OAuth scopes (the table under §2) ---------------------------------------------------

_GRAPH_SCOPES = {
    ("calendar", Access.READ): ("Calendars.Read",),
    ("calendar", Access.WRITE): ("Calendars.ReadWrite",),
    ("contacts", Access.READ): ("Contacts.Read",),
    ("contacts", Access.WRITE): ("Contacts.ReadWrite",),
}
_G = "https://www.googleapis.com/auth/"
_GOOGLE_SCOPES = {
    ("calendar", Access.READ): (_G + "calendar.readonly",),
    ("calendar", Access.WRITE): (_G + "calendar.readonly", _G + "calendar.events"),
    ("contacts", Access.READ): (_G + "contacts.readonly",),
    ("contacts", Access.WRITE): (_G + "contacts.readonly", _G + "contacts"),
}
EWS_O365_SCOPE = "https://outlook.office365.com/EWS.AccessAsUser.All"


def scopes_for(service: Service, permissions: Permissions) -> list[str]:
    """The scopes to request: exactly what the permissions need, never more."""
    if service is Service.EWS_O365:
        return [EWS_O365_SCOPE, "offline_access"]
    table, always = ((_GRAPH_SCOPES, ["offline_access", "User.Read"])
                     if service is Service.GRAPH else (_GOOGLE_SCOPES, ["openid", "email"]))
    scopes: list[str] = []
    for kind, access in (("calendar", permissions.calendar), ("contacts", permissions.contacts)):
        for scope in table.get((kind, access), ()):
            if scope not in scopes:
                scopes.append(scope)
    return scopes + always


def granted_permissions(service: Service, scope: str, requested: Permissions) -> Permissions:
    """What the provider granted, read from the token response's ``scope``.

    Graph may answer scopes with the resource prefix (``https://graph.microsoft.com/...``).
    EWS over OAuth has one all-or-nothing scope: the requested permissions stand.
    """
    granted = {s.rsplit("/", 1)[-1] if service is Service.GRAPH else s for s in scope.split()}
    if service is Service.EWS_O365:
        return requested if EWS_O365_SCOPE.rsplit("/", 1)[-1] in {
            s.rsplit("/", 1)[-1] for s in granted} else Permissions(Access.NONE, Access.NONE)
    table = _GRAPH_SCOPES if service is Service.GRAPH else _GOOGLE_SCOPES

    def level(kind: str) -> Access:
        for access in (Access.WRITE, Access.READ):
            needed = table[(kind, access)]
            if needed[-1] in granted:
                return access
        return Access.NONE

    return Permissions(level("calendar"), level("contacts")).capped_by(requested)
