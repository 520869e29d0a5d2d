"""Deliveries verify with the Standard Webhooks reference library (an independent
implementation), and a tampered body or another secret does not."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from proxy.notifications.signing import SECRET_PREFIX, delivery_headers, new_secret


def test_the_reference_library_verifies_our_signature() -> None:
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX)
    body = json.dumps({"type": "events.changed", "changed": ["a"]}).encode()
    import time
    headers = delivery_headers(secret, "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {"type": "events.changed",
                                                     "changed": ["a"]}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_secrets_are_fresh_and_long() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) >= len(SECRET_PREFIX) + 44 for s in secrets)
