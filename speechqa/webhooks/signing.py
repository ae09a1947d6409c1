"""Secrets, message ids and signatures as the Standard Webhooks spec defines them.

A secret is ``whsec_`` + base64 of 32 random bytes; the key is those bytes. A delivery is
signed by ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")) in the
``webhook-signature`` header; during a rotation's grace period it carries the signatures of
both secrets, space-separated, and a receiver accepts the request if any one matches. The
signing itself is the spec's reference library (``standardwebhooks``).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id(at: datetime) -> str:
    """``msg_`` + a ULID: 48 bits of milliseconds and 80 random bits, in Crockford base32 (so
    ids sort by time)."""
    value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "msg_" + "".join(reversed(chars))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """One ``v1,<base64>`` signature of the message with ``secret``."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def headers(msg_id: str, timestamp: int, body: str, keys: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in ``keys``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, msg_id, timestamp, body) for k in keys),
    }
