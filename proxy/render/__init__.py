"""Renderers: pure functions from what redaction returned to bytes and JSON.

Every renderer here takes :class:`~proxy.redaction.VisibleEvent` values only (ICS feeds
live in :mod:`proxy.ics` under the same rule).
"""
