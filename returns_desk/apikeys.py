"""API keys: issued once, stored as a hash, found by their prefix.

A key reads `rd_<prefix>_<secret>`: 8 hex characters of prefix to find the row, then 43
characters of `secrets.token_urlsafe(32)`. With 256 random bits a plain SHA-256 cannot be
brute-forced, and it keeps every API request free of a slow password hash.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiKey

# last_used_at is for "which keys are still in use?", so one write a minute per key is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def fill_new_key(key: ApiKey) -> str:
    """Give an unsaved key (the admin's add form) its prefix and hash; return the full key."""
    key.prefix = secrets.token_hex(4)
    raw = f"rd_{key.prefix}_{secrets.token_urlsafe(32)}"
    key.hashed_key = hash_key(raw)
    return raw


def issue_key(*, name: str, scope: str = ApiKey.Scope.READ) -> tuple[ApiKey, str]:
    """Create a key; return it with the full key, which is never readable again."""
    key = ApiKey(name=name, scope=scope)
    raw = fill_new_key(key)
    key.save()
    return key, raw


def authenticate(raw: str) -> ApiKey | None:
    """The active key `raw` is, or None; never says whether the prefix alone matched."""
    # Keys are short printable ASCII; anything else is not one (and NUL would upset PostgreSQL).
    if len(raw) > 100 or not (raw.isascii() and raw.isprintable()):
        return None
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "rd":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_key, hash_key(raw)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
