"""Encryption of provider credentials at rest (Fernet: AES-128-CBC plus HMAC-SHA256).

The key comes from ``CALPROXY_SECRET_KEY``. An operator may paste a real Fernet key (what
``Fernet.generate_key()`` prints), which is used as is; any other non-empty string is
stretched into one with HKDF-SHA256, so a long random passphrase works too. A blob that
does not decrypt (wrong or rotated key, tampered row) raises :class:`SecretKeyError`, whose
message names the variable so that the operator knows where to look; it never quotes the
blob or the key.

Key rotation: the variable may hold several comma-separated keys (``new,old``; each
derived as above). The first encrypts, every one decrypts (``MultiFernet``), and
:meth:`CredentialCipher.rotate` re-encrypts a blob under the first, which is what
``calproxy secret rotate`` does to every stored secret (:mod:`proxy.store.rotation`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proxy.errors import CalproxyError

_HKDF_SALT = b"calproxy/credentials/v1"
_HKDF_INFO = b"fernet key for provider credentials"


class SecretKeyError(CalproxyError):
    """The secret key is missing, or does not open stored credentials (a 500 to callers)."""

    default_code = "secret_key_error"


def fernet_key(secret_key: str) -> bytes:
    """The Fernet key for ``secret_key``: itself if it already is one, else HKDF of it."""
    raw = secret_key.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32 and len(raw) == 44:
            return raw
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO,
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def secret_keys(secret_key: str | None) -> list[str]:
    """The keys in ``CALPROXY_SECRET_KEY``, first (encrypting) key first. A single key is
    taken exactly as given (so its derived key never changes); in a list, each key is
    stripped of surrounding spaces and empty entries are skipped."""
    if not secret_key:
        return []
    parts = secret_key.split(",")
    if len(parts) == 1:
        return parts
    return [part.strip() for part in parts if part.strip()]


_UNREADABLE = ("stored credentials cannot be decrypted: no key in CALPROXY_SECRET_KEY is the "
               "one they were encrypted with (was it changed, or an old key removed too soon?)")


class CredentialCipher:
    """Turns a credentials mapping into an opaque token and back."""

    def __init__(self, secret_key: str | None) -> None:
        keys = [Fernet(fernet_key(key)) for key in secret_keys(secret_key)]
        self._primary = keys[0] if keys else None
        self._fernet = MultiFernet(keys) if keys else None

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretKeyError(
                "CALPROXY_SECRET_KEY is not set: it is required to store or read "
                "provider credentials"
            )
        return self._fernet

    def encrypt(self, credentials: Mapping[str, str]) -> str:
        """Fernet token (ASCII) of the JSON of ``credentials``."""
        plain = json.dumps(dict(credentials), separators=(",", ":"), sort_keys=True)
        return self._require().encrypt(plain.encode()).decode("ascii")

    def decrypt(self, blob: str) -> dict[str, str]:
        """The credentials in ``blob``; :class:`SecretKeyError` if the key does not fit."""
        try:
            plain = self._require().decrypt(blob.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyError(_UNREADABLE) from None
        data = json.loads(plain)
        if not isinstance(data, dict):
            raise SecretKeyError("stored credentials are not a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def rotate(self, blob: str) -> str | None:
        """``blob`` re-encrypted under the first key, or ``None`` when it already is
        (nothing to rewrite); :class:`SecretKeyError` when no key opens it."""
        fernet = self._require()
        assert self._primary is not None
        try:
            token = blob.encode("ascii")
        except UnicodeEncodeError:
            raise SecretKeyError(_UNREADABLE) from None
        try:
            self._primary.decrypt(token)
            return None
        except InvalidToken:
            pass
        try:
            return fernet.rotate(token).decode("ascii")
        except InvalidToken:
            raise SecretKeyError(_UNREADABLE) from None
