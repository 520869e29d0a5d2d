"""Credential encryption: key handling and the error a wrong key gives."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from proxy.store.crypto import CredentialCipher, SecretKeyError, fernet_key


def test_a_real_fernet_key_is_used_as_is() -> None:
    key = Fernet.generate_key()
    assert fernet_key(key.decode()) == key
    blob = CredentialCipher(key.decode()).encrypt({"password": "pw"})
    assert Fernet(key).decrypt(blob.encode()) == b'{"password":"pw"}'


def test_a_passphrase_is_stretched_deterministically() -> None:
    assert fernet_key("correct horse battery staple") == fernet_key("correct horse battery staple")
    assert fernet_key("correct horse battery staple") != fernet_key("correct horse battery")
    Fernet(fernet_key("x"))  # a valid key even from a short string
    blob = CredentialCipher("passphrase").encrypt({"a": "1"})
    assert CredentialCipher("passphrase").decrypt(blob) == {"a": "1"}


def test_a_wrong_key_names_the_variable_and_not_the_secret() -> None:
    blob = CredentialCipher("one").encrypt({"refresh_token": "rt-secret"})
    with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY") as caught:
        CredentialCipher("two").decrypt(blob)
    assert "rt-secret" not in str(caught.value) and blob not in str(caught.value)
    with pytest.raises(SecretKeyError, match="CALPROXY_SECRET_KEY"):
        CredentialCipher(None).encrypt({"a": "b"})
    with pytest.raises(SecretKeyError):
        CredentialCipher("one").decrypt("not a token ✗")
