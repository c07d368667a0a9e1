"""Every domain error of ingest, the engine and the API's stores, answered by the API's one handler by its kind:
the documented status, `error` code and message, byte for byte (docs/api.md, "API keys and errors")."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from api.http.auth.keys import KeyNameTaken
from api.http.errors import install_error_handlers
from ingest import errors as ingest_errors
from ingest.broker.accounts import AccountRoleConflict
from ingest.broker.roles import InvalidUsername
from ingest.dead_letters import DeadLetterNotFound
from ingest.registry.areas import AreasImportRejected, RowProblem
from ingest.registry.publishers import (
    BrokerUnavailable,
    InvalidPublisher,
    PublisherError,
    PublisherExists,
    PublisherNotFound,
)
from runtime import errors as kinds
from streams import errors as streams_errors
from streams.alerts.rules import InvalidRules
from streams.alerts.store import AlertNotFound
from streams.rulebook import RuleExists, TargetExists, UnknownKpi
from streams.targets import InvalidTargets


async def _answer(error: Exception) -> httpx.Response:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/refused")
    def refused() -> None:
        raise error

    # A 500 is raised again after its answer, for the server to log: the answer is what is tested.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
        return await client.post("/refused")


def _body(code: str, message: str) -> bytes:
    return ('{"error":{"code":"%s","message":"%s"}}' % (code, message)).encode()  # noqa: UP031 -- the exact bytes


CASES: list[tuple[Exception, int, bytes]] = [
    (PublisherNotFound("kiosk-1"), 404, _body("not_found", "publisher kiosk-1 does not exist")),
    (DeadLetterNotFound(42), 404, _body("not_found", "dead letter 42 does not exist")),
    (AlertNotFound(7), 404, _body("not_found", "no open alert 7")),
    (PublisherExists("kiosk-1"), 409, _body("conflict", "publisher kiosk-1 already exists")),
    (KeyNameTaken("wall-1"), 409, _body("conflict", "an API key named wall-1 exists already")),
    (
        TargetExists("payments.tx_count already has a target with no deadline", kpi="payments.tx_count", deadline=None),
        409,
        _body("conflict", "payments.tx_count already has a target with no deadline"),
    ),
    (RuleExists("cash-heavy"), 409, _body("conflict", "an alert rule with id 'cash-heavy' exists already")),
    (
        AccountRoleConflict("kiosk-1", ["ioc-ingest"], "publisher-kiosk-1"),
        409,
        _body("conflict", "the broker refused createClient: kiosk-1 has role ioc-ingest, not publisher-kiosk-1"),
    ),
    (
        InvalidPublisher("area '99999' is not in the areas table", field="area_code"),
        400,
        _body("invalid_request", "area '99999' is not in the areas table"),
    ),
    (
        UnknownKpi("payments.nothing"),
        400,
        _body("invalid_request", "no KPI with id 'payments.nothing' in the catalog (GET /api/v1/kpis lists them)"),
    ),
    (
        InvalidUsername("Bad"),
        400,
        _body("invalid_request", "invalid MQTT username 'Bad': must match [a-z0-9][a-z0-9-]{0,63}"),
    ),
    (
        AreasImportRejected([RowProblem(2, "unknown level 'hamlet'")]),
        400,
        _body("invalid_request", "areas file rejected, nothing imported:\\nline 2: unknown level 'hamlet'"),
    ),
    (InvalidTargets("t.yaml: bad", field="t.yaml"), 400, _body("invalid_request", "t.yaml: bad")),
    (InvalidRules("r.yaml: bad", field="r.yaml"), 400, _body("invalid_request", "r.yaml: bad")),
    (
        BrokerUnavailable("the broker cannot be reached; nothing was registered"),
        503,
        _body("unavailable", "the broker cannot be reached; nothing was registered"),
    ),
]


@pytest.mark.parametrize(("error", "status", "body"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_domain_error_answers_its_documented_status_and_body(error: Exception, status: int, body: bytes) -> None:
    answer = asyncio.run(_answer(error))
    assert (answer.status_code, answer.headers["content-type"], answer.content) == (status, "application/json", body)


def test_a_hostile_message_goes_out_as_json_text_and_nothing_else() -> None:
    # A publisher id as a client may send it: quotes, a backslash, a NUL, markup, non-ASCII, 10,000 characters.
    hostile = '"}\\\x00<script>Đắk' + "x" * 10_000
    answer = asyncio.run(_answer(PublisherNotFound(hostile)))
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": {"code": "not_found", "message": f"publisher {hostile} does not exist"}},
    )
    assert answer.headers.get("www-authenticate") is None


@pytest.mark.parametrize(
    "error",
    [ingest_errors.IngestError("a bug"), streams_errors.StreamsError("a bug"), PublisherError("a bug")],
    ids=["IngestError", "StreamsError", "PublisherError"],
)
def test_a_domain_error_of_no_kind_is_an_internal_error_that_tells_the_client_nothing(error: Exception) -> None:
    answer = asyncio.run(_answer(error))
    assert (answer.status_code, answer.content) == (
        500,
        _body("internal_error", "the API failed on this request; it is logged"),
    )


def _descendants(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_descendants(c) for c in found))


def test_every_domain_error_is_of_one_kind_and_one_package() -> None:
    """A new domain error is a not-found, conflict, invalid or unavailable of ingest, the engine or the API:
    otherwise the API would answer it as a 500."""
    all_kinds = (kinds.NotFound, kinds.Conflict, kinds.Invalid, kinds.Unavailable)
    bases = {ingest_errors.IngestError, streams_errors.StreamsError, PublisherError}
    for error in _descendants(kinds.DomainError) - set(all_kinds) - bases:
        assert sum(issubclass(error, kind) for kind in all_kinds) == 1, error
        assert error.__module__.split(".")[0] in {"ingest", "streams", "api"}, error


def test_the_errors_carry_what_was_refused() -> None:
    assert (PublisherNotFound("kiosk-1").kind, PublisherNotFound("kiosk-1").key) == ("publisher", "kiosk-1")
    assert (DeadLetterNotFound(42).kind, DeadLetterNotFound(42).key) == ("dead letter", 42)
    assert (AlertNotFound(7).kind, AlertNotFound(7).key) == ("open alert", 7)
    target = TargetExists("taken", kpi="payments.tx_count", deadline=date(2026, 12, 31))
    assert (target.kind, target.key, target.deadline) == ("target", "payments.tx_count", date(2026, 12, 31))
    assert (UnknownKpi("x.y").field, UnknownKpi("x.y").kpi) == ("kpi", "x.y")
    assert BrokerUnavailable("down").service == "broker"
    conflict = AccountRoleConflict("kiosk-1", ["ioc-ingest"], "publisher-kiosk-1")
    assert (conflict.kind, conflict.key, conflict.command) == ("broker account", "kiosk-1", "createClient")
    assert isinstance(PublisherExists("kiosk-1"), ingest_errors.Conflict)
    assert isinstance(RuleExists("r"), streams_errors.Conflict)
