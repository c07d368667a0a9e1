"""The signature of a webhook delivery, and its check (what a receiver does, in Python).

`X-IOC-Signature: v1=<hex>` where hex is HMAC-SHA256(secret, `<X-IOC-Timestamp>` + "." + body), the
timestamp being the attempt's Unix time in seconds. A receiver recomputes it over the raw body, compares
in constant time, and refuses a timestamp too far from its clock (a replayed old request).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-IOC-Signature"
TIMESTAMP_HEADER = "X-IOC-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_VERSION = "v1="


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return _VERSION + digest


def verify(
    secret: str, timestamp_header: str, signature_header: str, body: bytes, now: float, tolerance: float
) -> bool:
    """True when the request was signed with `secret` within `tolerance` seconds of `now`."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
