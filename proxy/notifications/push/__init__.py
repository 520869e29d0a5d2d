"""Change notifications in (DESIGN §11 "In"): Graph subscriptions and Google watch channels.

Providers that can (``isinstance(provider, proxy.providers.base.Pushes)``) are asked to
tell calproxy when a synced calendar changes. :mod:`.channels` keeps one channel per
synced calendar (created, renewed before it expires, stopped when no longer wanted);
:mod:`.hooks` answers the providers' POSTs, each parsed by its provider's parser
(:mod:`.graph_hook`, :mod:`.google_hook`) into :mod:`.notices`, checked against the stored
channel and its secret's hash, and turned into a nudge; :mod:`.nudges` runs one
incremental round of the calendar soon after. Polling stays as the safety net: nothing
here is needed for a mirror to be correct, only for it to be quick.
"""
