"""Class codes (short, unguessable, easy to read aloud) and teacher keys (long, hashed).

A class code is public: it is in the link students get. It only has to be impossible
to guess *another* class's code, so it is random (not sequential) over an alphabet
without look-alike characters (no 0/O, 1/I/L, no U/V pairs to mishear).

A teacher key is a secret: only its salted scrypt hash is stored, and keys are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "new_class_code",
    "normalise_class_code",
    "new_teacher_key",
    "hash_teacher_key",
    "verify_teacher_key",
]

# 29 letters and digits that read and sound unlike each other.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
# 29**8 ≈ 5e11 codes: guessing one of a few hundred live classes takes ~1e9 tries.
CODE_LENGTH = 8
# token_urlsafe(32) gives 43 characters, 256 bits.
TEACHER_KEY_BYTES = 32
# scrypt's cost: ~16 MB and tens of ms per check, cheap for a teacher, slow for a guesser.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_SALT_BYTES = 16
MAX_KEY_TEXT = 200


def new_class_code() -> str:
    """A fresh random class code, e.g. ``'K7QMX2PA'`` (from the OS's secure source)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_class_code(text: str) -> str | None:
    """The class code in ``text`` in its stored form, or None if it can't be one.

    Upper-cases and drops spaces and dashes, so ``'k7qm-x2pa'`` finds ``K7QMX2PA``.

    Parameters
    ----------
    text
        What the student typed or the link carried.

    Returns
    -------
    str or None
        The code, or None when ``text`` has the wrong length or characters outside
        :data:`CODE_ALPHABET` (no such class can exist).
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    code = "".join(ch for ch in text.upper() if ch not in " -_\t")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def new_teacher_key() -> str:
    """A fresh random teacher key (43 URL-safe characters)."""
    return secrets.token_urlsafe(TEACHER_KEY_BYTES)


def hash_teacher_key(key: str, *, salt: bytes | None = None) -> str:
    """The salted scrypt hash of ``key``, as one self-describing string to store.

    Parameters
    ----------
    key
        The teacher key.
    salt
        Random salt (a fresh one by default; given only to test reproducibility).

    Returns
    -------
    str
        ``'scrypt$n$r$p$<salt hex>$<hash hex>'``.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"key = {key!r} is not allowed: must be a non-empty string")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(key.encode(), salt=salt, **_SCRYPT, dklen=32)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_teacher_key(key: str, stored: str) -> bool:
    """Whether ``key`` is the key whose hash is ``stored`` (constant-time compare).

    A malformed ``stored`` or a ``key`` that is not a reasonable string gives False
    rather than an error: to the caller, both mean "not the key".
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_TEXT:
        return False
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            key.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
