"""The web portal (DESIGN §9): calproxy in a browser, for admins, users and assistants.

Pages are rendered on the server with Jinja2 (autoescaping on) from the same core
functions the JSON API calls, and work without JavaScript; ``static/app.js`` only
enhances them (a copy button, confirmation dialogs). Nothing here decides a rule of
policy, access or redaction: handlers call :mod:`proxy.actions` (and through it
:mod:`proxy.core`), exactly as the API's handlers do.

The pieces, one concern per module:

- :mod:`.routes`: ``ROUTES`` (method, path, handler), which :mod:`proxy.http.app` registers
  with the API's, and :func:`.routes.setup_portal` (templates, static files, middlewares).
- :mod:`.web`: what page handlers use: :func:`~.web.portal_user` (the signed-in user, or a
  303 to ``/portal/sign-in``), :func:`~.web.render` (a template with ``user``,
  ``csrf_token`` and ``nav`` added), :func:`~.web.posted_form` (the POSTed form, already
  checked against forgery), :func:`~.web.error_page`, and :func:`~.web.redirect`.
- :mod:`.headers`: the security headers of every portal response (CSP, nosniff, ...).
- :mod:`.sessions`: server-side sessions: a random id in an HttpOnly SameSite=Lax cookie,
  stored hashed, idle expiry, rotated at sign-in, ended at sign-out.
- :mod:`.forgery`: the anti-forgery token and same-origin check of every POST.
- :mod:`.errors`: errors as pages in words (never a traceback).
- :mod:`.signin`, :mod:`.oidc`, :mod:`.oidc_flow`: signing in (one-time links, OpenID
  Connect with Microsoft and Google) and out; :mod:`.landing` applies rule 5 afterwards.
- :mod:`.home`: the home page. :mod:`.nav`: the navigation, by what the user may use.
  :mod:`.words`: services, statuses and reasons in words.
- :mod:`.pages`: the routes of the working pages (:mod:`.admin`, :mod:`.integrations`,
  :mod:`.delegates`, :mod:`.calendar` with :mod:`.week` and :mod:`.event_form`,
  :mod:`.feeds`), with :mod:`.forms` (refusals next to their fields), :mod:`.asking`
  (confirm before acting) and :mod:`.once` (a new feed URL shown once).
"""
