"""Google Calendar push channels: the ``Channel`` bodies calproxy sends and reads.

``events.watch`` takes ``{id, type: "web_hook", address, token, expiration}`` (expiration
in Unix milliseconds, as a string: the discovery document types it ``int64``) and answers
the channel with Google's ``resourceId`` (``channels.stop`` needs it) and the expiration
it granted, which is never later than asked and at most about a week. A channel is never
extended: the keeper opens a new one and stops the old (``renews_in_place=False``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from proxy.errors import UpstreamError
from proxy.providers.base import PushChannel, PushSupport, PushTarget
from proxy.providers.google_transport import Json

#: Google's documented default (and, in practice, longest) channel lifetime: 604,800 s
SUPPORT = PushSupport(lifetime=timedelta(days=7), renews_in_place=False)


def watch_body(target: PushTarget) -> Json:
    """The ``Channel`` resource of an ``events.watch`` request."""
    return {"id": target.channel_id, "type": "web_hook", "address": target.notification_url,
            "token": target.secret, "expiration": str(_millis(target.expires))}


def stop_body(channel: PushChannel) -> Json:
    """``channels.stop`` needs the channel's id and the resource id Google gave it."""
    return {"id": channel.upstream_id, "resourceId": channel.resource_id or ""}


def channel_from_json(data: Json, target: PushTarget) -> PushChannel:
    """The granted channel; a payload without id or resourceId is malformed (502)."""
    channel_id, resource_id = data.get("id"), data.get("resourceId")
    if not isinstance(channel_id, str) or not isinstance(resource_id, str) or not resource_id:
        raise UpstreamError("google answered a malformed payload (channel)")
    return PushChannel(upstream_id=channel_id, resource_id=resource_id,
                       expires=_granted(data.get("expiration"), target.expires))


def _granted(value: object, asked: datetime) -> datetime:
    """Google's expiration (ms, a string or a number); what was asked when it is absent."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return asked


def _millis(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)
