"""The privacy choke point.

Every output path (JSON events, free/busy, ICS feeds, error answers) renders from a
:class:`VisibleEvent`, and :func:`redact` is the only code that builds one. A renderer
cannot take a raw :class:`~proxy.core.mirror.MirroredEvent`, so the type checker proves
there is no way around the decision made here.
"""

from proxy.redaction.visible import Audience, Detail, VisibleEvent, redact

__all__ = ["Audience", "Detail", "VisibleEvent", "redact"]
