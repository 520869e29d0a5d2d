"""What a user can do, independent of HTTP or HTML.

The JSON API (``proxy.http``) and the web portal (``proxy.portal``) both call these
functions, so every policy, access and redaction rule is applied in one place. Each
function takes :class:`~proxy.actions.deps.Deps` (the store and services) and the acting
:class:`~proxy.store.records.User`, and raises :class:`~proxy.errors.CalproxyError` on
refusal; the shells turn that into JSON or a page.
"""
