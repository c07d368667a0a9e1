"""Coverage-guided fuzzing of the decoder with atheris (libFuzzer): any exception but the contract's
own refusal, or a refusal with a reason outside the closed set, is a crash.

Run as a process: `python -m tests.verify.fuzz_decoder -atheris_runs=1000000 [CORPUS_DIR]`. The
first byte of an input picks the topic (one of the valid ones, or the rest of the input up to a
newline when it is past them); the rest is the payload. `--seeds DIR` writes valid payloads there,
to start the corpus from messages that reach the JSON checks.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["ingest.contract"]):
    from ingest.contract import EventType, PayloadRejected, RejectReason, decode

NOW = datetime(2025, 1, 31, 3, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
# The age limit as the ingest applies it at NOW by default (400 days of retention, a 7-day chunk, a day).
NOT_BEFORE = dict.fromkeys(EventType, NOW - timedelta(days=392))
TOPICS = (
    "ioc/v1/portal/pub-1/dossier", "ioc/v1/payments/pub-1/transaction", "ioc/v1/coverage/pub-1/sample",
    "ioc/v1/portal/pub-1/status", "ioc/v1/payments/pub-1/status", "ioc/v1/coverage/pub-1/status",
)  # fmt: skip
DECODER_REASONS = frozenset(RejectReason) - {
    RejectReason.UNKNOWN_AREA, RejectReason.AREA_NOT_ALLOWED, RejectReason.UNKNOWN_PUBLISHER,
    RejectReason.PUBLISHER_DISABLED, RejectReason.SOURCE_MISMATCH, RejectReason.CONFLICTING_DUPLICATE,
    RejectReason.STORAGE_REJECTED,
}  # fmt: skip


def split(data: bytes) -> tuple[str, bytes]:
    if not data:
        return TOPICS[0], b""
    choice, rest = data[0], data[1:]
    if choice < len(TOPICS) * 40:
        return TOPICS[choice % len(TOPICS)], rest
    topic, _, payload = rest.partition(b"\n")
    return topic.decode("utf-8", "surrogateescape"), payload


def test_one_input(data: bytes) -> None:
    topic, payload = split(data)
    try:
        decode(topic, payload, now=NOW, max_future_skew=SKEW, not_before=NOT_BEFORE)
    except PayloadRejected as rejected:
        if rejected.reason not in DECODER_REASONS:
            raise AssertionError(f"reason {rejected.reason} is not the decoder's") from None


def write_seeds(directory: Path) -> None:
    envelope = {"event_id": "0b6c2f0e-8d4a-4c7e-9a51-3f2d7c1e9b10", "occurred_at": "2025-01-31T09:58:00+07:00",
                "area_code": "67.660", "seq": 7}  # fmt: skip
    bodies = [
        envelope | {"dossier_id": "H20", "procedure_code": "1.0", "domain": "land", "status": "accepted",
                    "channel": "online", "service_level": "full_online", "e_certified": True,
                    "due_at": "2025-02-14T17:00:00+07:00", "paid_online": False},
        envelope | {"sector": "tax", "method": "qr", "amount_vnd": 150000, "outcome": "succeeded"},
        envelope | {"operator": "viettel", "technology": "4g", "download_mbps": 42.5, "upload_mbps": 12,
                    "latency_ms": 38.0, "packet_loss_pct": 0.4, "rsrp_dbm": -95, "village": "Bon", "lat": 12.0,
                    "lon": 107.7},
        {"state": "online", "at": "2025-01-31T02:59:00Z"},
    ]  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    for index, body in enumerate(bodies):
        (directory / f"seed-{index}").write_bytes(bytes([index]) + json.dumps(body).encode())


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        write_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
