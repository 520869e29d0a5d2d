"""Operating calproxy (DESIGN §12): what an organisation running it needs to see that it is
healthy, find out who saw a private meeting, and keep one client from starving the rest.

- :mod:`.health`: ``/healthz`` (the process runs) and ``/readyz`` (the store answers a real
  read and its schema is current);
- :mod:`.metrics`: Prometheus metrics, defined once, one registry per app, ``/metrics``
  behind ``CALPROXY_METRICS_TOKEN``; labels are route templates and service names only;
- :mod:`.audit`: the audit trail (who did what on whose calendar; never content), written
  in batches off the request path, read at ``/v1/me/audit`` and ``/v1/account/audit``;
- :mod:`.limits`: token-bucket rate limits per API token and per feed secret, in memory or
  shared through Redis.

Key rotation lives beside the store's encryption (:mod:`proxy.store.rotation`) and request
ids and JSON logs beside the logging set-up (:mod:`proxy.logs`,
:mod:`proxy.http.access_log`). These modules are shells: they call the store and the core,
and hold no rule of who may see what.
"""
