"""The checker: every message a publisher sent, classified against what the database holds.

Publishers write ledgers (`load_publisher.py`); they are COPYed into a temporary table and joined
with the event tables and the dead letters in SQL, so that a 30-minute soak (millions of messages)
is checked as exactly as a 100-message test. A message is
- stored once: one row with its `(publisher_id, event_id)`;
- dead-lettered as expected: an invalid message whose payload is in `dead_letters` with its reason;
- lost: acknowledged by the broker and found nowhere (an invalid message missing from the dead
  letters is lost too);
- unconfirmed: never acknowledged by the broker and found nowhere (the publisher knows it was not
  accepted: not a loss);
and rows that no ledger explains, extra rows of one event, or a dead letter with the wrong reason
are counted apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

_SENT_TABLE = """
CREATE TEMPORARY TABLE verify_sent (
    publisher_id text NOT NULL, seq bigint NOT NULL, event_id uuid, digest bytea NOT NULL,
    acknowledged boolean NOT NULL, expected_reason text
) ON COMMIT DROP
"""

_COPY_SENT = "COPY verify_sent FROM STDIN (FORMAT csv)"

_CLASSIFY = """
WITH stored AS (
    SELECT publisher_id, event_id, count(*) AS n FROM (
        SELECT publisher_id, event_id FROM payment_transactions WHERE publisher_id = ANY(%(publishers)s)
        UNION ALL
        SELECT publisher_id, event_id FROM coverage_samples WHERE publisher_id = ANY(%(publishers)s)
        UNION ALL
        SELECT publisher_id, event_id FROM portal_dossier_events WHERE publisher_id = ANY(%(publishers)s)
    ) rows GROUP BY publisher_id, event_id
), dead AS (
    SELECT publisher_id, sha256(payload) AS digest, min(reason) AS reason FROM dead_letters
    WHERE publisher_id = ANY(%(publishers)s) GROUP BY publisher_id, sha256(payload)
), sent AS (
    SELECT DISTINCT ON (publisher_id, digest) * FROM verify_sent ORDER BY publisher_id, digest, acknowledged DESC
), judged AS (
    SELECT s.acknowledged, s.expected_reason, st.n, d.reason
    FROM sent s
    LEFT JOIN stored st ON st.publisher_id = s.publisher_id AND st.event_id = s.event_id
    LEFT JOIN dead d ON d.publisher_id = s.publisher_id AND d.digest = s.digest
)
SELECT
    (SELECT count(*) FROM verify_sent),
    (SELECT count(*) FROM verify_sent WHERE acknowledged),
    count(*) FILTER (WHERE expected_reason IS NULL AND n IS NOT NULL),
    count(*) FILTER (WHERE expected_reason IS NOT NULL AND reason = expected_reason),
    count(*) FILTER (WHERE n IS NULL AND reason IS NULL AND acknowledged),
    count(*) FILTER (WHERE n IS NULL AND reason IS NULL AND NOT acknowledged),
    count(*) FILTER (WHERE reason IS NOT NULL AND reason IS DISTINCT FROM expected_reason),
    count(*) FILTER (WHERE expected_reason IS NOT NULL AND n IS NOT NULL),
    (SELECT coalesce(sum(n - 1), 0) FROM stored),
    (SELECT count(*) FROM stored st WHERE NOT EXISTS (
        SELECT 1 FROM verify_sent s WHERE s.publisher_id = st.publisher_id AND s.event_id = st.event_id)),
    (SELECT count(*) FROM dead d WHERE NOT EXISTS (
        SELECT 1 FROM verify_sent s WHERE s.publisher_id = d.publisher_id AND s.digest = d.digest))
FROM judged
"""


@dataclass(frozen=True)
class Accounting:
    sent: int
    acknowledged: int
    stored_once: int
    dead_lettered_as_expected: int
    lost: int
    unconfirmed: int
    dead_lettered_unexpectedly: int
    stored_but_invalid: int
    duplicated_rows: int
    unexplained_rows: int
    unexplained_dead_letters: int

    @property
    def exact(self) -> bool:
        """Nothing lost, nothing twice, nothing in the wrong place."""
        wrong = (
            self.lost, self.duplicated_rows, self.dead_lettered_unexpectedly, self.stored_but_invalid,
            self.unexplained_rows, self.unexplained_dead_letters,
        )  # fmt: skip
        return not any(wrong)

    def summary(self) -> str:
        return (
            f"sent {self.sent:,}, acknowledged {self.acknowledged:,}, stored once {self.stored_once:,}, "
            f"dead-lettered as expected {self.dead_lettered_as_expected:,}, lost {self.lost:,}, "
            f"unconfirmed {self.unconfirmed:,}, duplicated rows {self.duplicated_rows:,}, "
            f"dead-lettered unexpectedly {self.dead_lettered_unexpectedly:,}, "
            f"invalid but stored {self.stored_but_invalid:,}, unexplained rows {self.unexplained_rows:,}, "
            f"unexplained dead letters {self.unexplained_dead_letters:,}"
        )


def account(conn: psycopg.Connection[tuple[object, ...]], ledgers: Iterable[Path]) -> Accounting:
    """Classifies every message of the ledgers (CSV files) against the database."""
    with conn.transaction():
        conn.execute(_SENT_TABLE)
        for ledger in ledgers:
            with ledger.open("rb") as data, conn.cursor() as cur, cur.copy(_COPY_SENT) as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
        # The rows were all written in the last minutes: without fresh statistics (autovacuum has
        # not come by yet) the planner takes the tables for a few rows and joins hundreds of
        # thousands of messages in nested loops — measured twice in CI at over ten minutes, once
        # after the ledger table was indexed and analysed. Counting every message is a job for
        # hash joins; statistics on everything it reads and no nested loops make the plan certain.
        conn.execute("CREATE INDEX ON verify_sent (publisher_id, event_id)")
        conn.execute("CREATE INDEX ON verify_sent (publisher_id, digest)")
        conn.execute("ANALYZE verify_sent, payment_transactions, coverage_samples, portal_dossier_events, dead_letters")
        conn.execute("SET LOCAL enable_nestloop = off")
        conn.execute("SET LOCAL work_mem = '256MB'")
        rows = conn.execute("SELECT DISTINCT publisher_id FROM verify_sent").fetchall()
        publishers = {str(r[0]) for r in rows}
        counts = conn.execute(_CLASSIFY, {"publishers": sorted(publishers)}).fetchone()
    assert counts is not None
    return Accounting(*(int(str(c)) for c in counts))
