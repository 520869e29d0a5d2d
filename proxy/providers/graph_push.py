"""Graph change-notification subscriptions for one mailbox (DESIGN §11 "In").

One subscription per synced calendar: ``me/events`` for the default calendar (Graph's
``me/events`` fires for that calendar only), ``me/calendars/{id}/events`` for the others,
``changeType`` ``created,updated,deleted``, our random ``clientState``, the notification
and lifecycle URLs of the :class:`PushTarget`. Requests are built with msgraph-sdk's
subscription request builders and models and sent through :class:`GraphSession`, so the
token refresh, throttling and error mapping are those of every other Graph call. Facts
relied on (PUSH-NOTES §1): Outlook event subscriptions last at most 10,080 min and are
renewed in place by ``PATCH expirationDateTime`` (same id, same clientState); Graph
validates both URLs before it answers 201 and answers 400 when that fails; a second
subscription for the same changeType and resource is refused with 409; a subscription that
expired or was removed answers 404.

Mapped failures beyond :mod:`graph_http`'s:

* 400 ``ValidationError`` → :class:`UpstreamError` ``push_validation_failed`` (calproxy's
  hook did not answer Graph's validation request: PUBLIC_URL unreachable from Graph);
* 409 → the conflicting subscription is looked up; one of ours (same notificationUrl) is
  deleted and the create is tried once more; another's is :class:`Conflict`
  ``push_subscription_exists``;
* 404 on renew → :class:`UpstreamNotFound` (the keeper subscribes again); 404 on delete is
  success (already gone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.models.subscription import Subscription

from proxy.errors import Conflict, UpstreamError, UpstreamNotFound
from proxy.providers.base import PushChannel, PushSupport, PushTarget
from proxy.providers.graph_http import GraphSession, error_code, parse

#: Graph's maximum for Outlook events, less a margin for clock skew and request time
MAX_LIFETIME = timedelta(minutes=10080)
LIFETIME = MAX_LIFETIME - timedelta(minutes=20)
SUPPORT = PushSupport(lifetime=LIFETIME, renews_in_place=True)
CHANGE_TYPES = "created,updated,deleted"


def resource_for(calendar_id: str, primary: bool) -> str:
    """The subscription resource of a calendar (``me/events`` serves the default one)."""
    return "me/events" if primary else f"me/calendars/{calendar_id}/events"


def _same_resource(left: str, right: str) -> bool:
    return left.strip("/").lower() == right.strip("/").lower()


class GraphPush:
    """watch / renew / unwatch over one integration's :class:`GraphSession`."""

    def __init__(self, session: GraphSession) -> None:
        self.session = session
        self.builder = session.sdk.subscriptions

    async def watch(self, calendar_id: str, primary: bool, target: PushTarget) -> PushChannel:
        """Create the calendar's subscription; Graph validates both URLs before 201."""
        resource = resource_for(calendar_id, primary)
        draft = Subscription(
            change_type=CHANGE_TYPES, notification_url=target.notification_url,
            lifecycle_notification_url=target.lifecycle_url, resource=resource,
            expiration_date_time=_capped(target.expires), client_state=target.secret)
        info, response = await self._create(draft)
        if response.status_code == 409:
            await self._clear_conflict(resource, target.notification_url)
            info, response = await self._create(draft)
            if response.status_code == 409:
                raise Conflict("Graph still holds another subscription for this calendar",
                               code="push_subscription_exists")
        return _channel(_parsed_create(info, response))

    async def renew(self, channel: PushChannel, expires: datetime) -> PushChannel:
        """PATCH the expiry; a subscription Graph no longer has raises UpstreamNotFound."""
        item = self.builder.by_subscription_id(channel.upstream_id)
        info = item.to_patch_request_information(
            Subscription(expiration_date_time=_capped(expires)))
        return _channel(await self.session.call(info))

    async def unwatch(self, channel: PushChannel) -> None:
        """DELETE the subscription; one already gone (404) is not an error."""
        info = self.builder.by_subscription_id(channel.upstream_id).to_delete_request_information()
        try:
            await self.session.call(info)
        except UpstreamNotFound:
            return

    async def reauthorize(self, channel: PushChannel) -> None:
        """``POST /subscriptions/{id}/reauthorize`` (answer to reauthorizationRequired when
        the expiry need not move; the keeper's renew does both)."""
        item = self.builder.by_subscription_id(channel.upstream_id)
        await self.session.call(item.reauthorize.to_post_request_information())

    async def _create(self, draft: Subscription) -> tuple[RequestInformation, httpx.Response]:
        info = self.builder.to_post_request_information(draft)
        return info, await self.session.send(info)

    async def _clear_conflict(self, resource: str, notification_url: str) -> None:
        """Delete our own subscriptions on ``resource`` (left by a lost record or another
        instance); another application's or URL's subscription raises Conflict."""
        ours = [s for s in await self._list() if _same_resource(str(s.get("resource")),
                                                                 resource)]
        mine = [s for s in ours if s.get("notificationUrl") == notification_url]
        if not mine:
            raise Conflict("Graph holds a subscription for this calendar with another "
                           "notification URL", code="push_subscription_exists")
        for sub in mine:
            await self.unwatch(PushChannel(str(sub["id"]), None, datetime.now(UTC)))

    async def _list(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        info = self.builder.to_get_request_information()
        while True:
            body = await self.session.call(info)
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise UpstreamError("Graph answered a malformed subscription list")
            found += [s for s in body["value"] if isinstance(s, dict) and s.get("id")]
            link = body.get("@odata.nextLink")
            if not isinstance(link, str):
                return found
            info = self.builder.with_url(link).to_get_request_information()


def _parsed_create(info: RequestInformation, response: httpx.Response) -> Any:
    if response.status_code == 400 and error_code(response) == "ValidationError":
        raise UpstreamError(
            "Graph could not validate calproxy's notification URL (it must be reachable "
            "from Graph over https and answer the validationToken request)",
            code="push_validation_failed")
    return parse(info, response)


def _capped(expires: datetime) -> datetime:
    """The expiry to ask for: at most :data:`LIFETIME` from now, in UTC."""
    return min(expires.astimezone(UTC), datetime.now(UTC) + LIFETIME)


def _channel(body: Any) -> PushChannel:
    try:
        granted = datetime.fromisoformat(str(body["expirationDateTime"]).replace("Z", "+00:00"))
        return PushChannel(str(body["id"]), None, granted.astimezone(UTC))
    except (KeyError, TypeError, ValueError):
        raise UpstreamError("Graph answered a malformed subscription") from None
