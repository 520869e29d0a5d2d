"""How the portal names services, statuses and reasons: in words, never codes.

The labels of services are DESIGN §9's ("Services" checkboxes); reasons cover the
policy's :class:`~proxy.core.policy.Reason` and the errors an integration can be left in.
An unknown reason code is said generally rather than shown raw.
"""

from __future__ import annotations

from proxy.core.model import Service
from proxy.store.records import Integration, IntegrationStatus

SERVICE_LABELS = {
    Service.GRAPH: "Office 365 (Microsoft Graph)",
    Service.EWS_O365: "Office 365 (EWS)",
    Service.EXCHANGE_EWS: "Exchange (EWS)",
    Service.EXCHANGE_MAPI: "Exchange (MAPI, Windows desktop only)",
    Service.GOOGLE: "Google",
}

STATUS_WORDS = {
    IntegrationStatus.PENDING: "Waiting for you to finish connecting",
    IntegrationStatus.CONNECTED: "Connected",
    IntegrationStatus.SUSPENDED: "Suspended",
    IntegrationStatus.ERROR: "Not working",
}

REASON_WORDS = {
    "policy_changed": "Your administrator changed the integration settings; connect again "
                      "with the new settings.",
    "integration_disabled": "Your administrator turned calendar and contacts integration off.",
    "domain_not_allowed": "Your administrator allows integration only for users in certain "
                          "email domains, and yours is not one of them.",
    "first_sign_in": "Your administrator asks you to connect your calendar.",
    "not_integrated": "Your administrator asks you to connect your calendar.",
    "authorization_denied": "The provider did not authorize calproxy (consent was declined "
                            "or needs an administrator's approval).",
    "needs_reauth": "The provider no longer accepts calproxy's access; reconnect.",
    "hybrid_not_supported": "This mailbox is on an on-premises Exchange server in a hybrid "
                            "setup, which Office 365 (Microsoft Graph) cannot reach.",
    "upstream_unauthorized": "The provider refused calproxy's access; reconnect.",
    "upstream_error": "The provider failed or answered something calproxy could not read.",
    "upstream_timeout": "The provider took too long to answer.",
    "upstream_throttled": "The provider asked calproxy to slow down; it will try again.",
}


def service_label(service: Service | str) -> str:
    try:
        return SERVICE_LABELS[Service(service)]
    except ValueError:
        return str(service)


def status_words(status: IntegrationStatus) -> str:
    return STATUS_WORDS[status]


def reason_words(reason: str | None) -> str | None:
    if not reason:
        return None
    return REASON_WORDS.get(reason, "Something went wrong with this integration; reconnect it.")


def integration_view(integration: Integration) -> dict[str, str | None]:
    """An integration as the portal's templates show it."""
    return {"id": integration.id, "service": service_label(integration.service),
            "service_key": integration.service.value,
            "status": status_words(integration.status),
            "status_key": integration.status.value,
            "reason": reason_words(integration.reason)}
