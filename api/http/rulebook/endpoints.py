"""Targets and alert rules: everyone may read them, admins create, update and delete them.

The KPI engine takes a change within `IOC_STREAMS_HISTORY_SECONDS` (it polls the rulebook's
version): new targets show on the next frames, and every value is judged again by the new rules.
The rulebook's refusals are answered by their kind (`api.http.errors`): an unknown KPI or an area
missing from the areas table is a 400, a second target for a KPI and deadline or a taken rule id a 409.
A deletion is audited: the `ioc.audit` log names the key and holds what was deleted, so that it
can be put back.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, BadRequest, NotFound
from api.http.filters import KPI_IDS
from api.http.state import AppState, app_state
from ingest.registry.areas import AreaRepository
from streams.alerts.rules import AlertRule
from streams.catalog import CATALOG
from streams.rulebook import AlertRuleRepository, TargetRepository
from streams.targets import Target

router = APIRouter(tags=["targets and alert rules"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
Reader = Annotated[ApiKey, Depends(require(Scope.READ))]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
_KPIS = [k.id for k in CATALOG.kpis]
audit = logging.getLogger("ioc.audit")


class StoredTargetOut(Target):
    id: int


# The bodies as the engine's models, with the catalog's KPI ids listed in the OpenAPI document.
class TargetIn(Target):
    kpi: str = Field(json_schema_extra=KPI_IDS)


class AlertRuleIn(AlertRule):
    kpi: str = Field(json_schema_extra=KPI_IDS)


def _out(target_id: int, target: Target) -> StoredTargetOut:
    return StoredTargetOut(id=target_id, **target.model_dump())


@router.get("/api/v1/targets", response_model=list[StoredTargetOut], summary="Every target (read)")
def targets(key: Reader, state: State) -> list[StoredTargetOut]:
    with database(state) as conn:
        return [_out(t.id, t.target) for t in TargetRepository(conn, _KPIS).list()]


@router.post(
    "/api/v1/targets",
    response_model=StoredTargetOut,
    status_code=201,
    summary="Add a target (admin)",
    responses=CONFLICT,
)
def create_target(body: TargetIn, key: Admin, state: State) -> StoredTargetOut:
    with database(state) as conn:
        target_id = TargetRepository(conn, _KPIS).create(body)
    return _out(target_id, body)


@router.put(
    "/api/v1/targets/{target_id}",
    response_model=StoredTargetOut,
    summary="Replace a target (admin)",
    responses=NOT_FOUND | CONFLICT,
)
def update_target(target_id: int, body: TargetIn, key: Admin, state: State) -> StoredTargetOut:
    with database(state) as conn:
        found = TargetRepository(conn, _KPIS).update(target_id, body)
    if not found:
        raise NotFound(f"no target with id {target_id}")
    return _out(target_id, body)


@router.delete(
    "/api/v1/targets/{target_id}", status_code=204, summary="Delete a target (admin, audited)", responses=NOT_FOUND
)
def delete_target(target_id: int, key: Admin, state: State) -> None:
    with database(state) as conn:
        deleted = TargetRepository(conn, _KPIS).delete(target_id)
    if deleted is None:
        raise NotFound(f"no target with id {target_id}")
    audit.info("target %d deleted by API key %s: %s", target_id, key.name, deleted.model_dump_json())


@router.get("/api/v1/alert-rules", response_model=list[AlertRule], summary="Every alert rule (read)")
def alert_rules(key: Reader, state: State) -> list[AlertRule]:
    with database(state) as conn:
        return AlertRuleRepository(conn, _KPIS).list()


@router.post(
    "/api/v1/alert-rules",
    response_model=AlertRule,
    status_code=201,
    summary="Add an alert rule (admin)",
    responses=CONFLICT,
)
def create_alert_rule(body: AlertRuleIn, key: Admin, state: State) -> AlertRule:
    with database(state) as conn:
        AreaRepository(conn).require_known(body.areas, field="areas")  # UnknownArea: 400
        AlertRuleRepository(conn, _KPIS).create(body)
    return body


@router.put(
    "/api/v1/alert-rules/{rule_id}",
    response_model=AlertRule,
    summary="Replace an alert rule (admin)",
    responses=NOT_FOUND,
)
def update_alert_rule(rule_id: str, body: AlertRuleIn, key: Admin, state: State) -> AlertRule:
    if body.id != rule_id:
        raise BadRequest(f"the rule's id ({body.id}) must be the id in the path ({rule_id})")
    with database(state) as conn:
        AreaRepository(conn).require_known(body.areas, field="areas")  # UnknownArea: 400
        found = AlertRuleRepository(conn, _KPIS).update(body)
    if not found:
        raise NotFound(f"no alert rule with id {rule_id}")
    return body


@router.delete(
    "/api/v1/alert-rules/{rule_id}", status_code=204, summary="Delete an alert rule (admin, audited)",
    responses=NOT_FOUND,
)  # fmt: skip
def delete_alert_rule(rule_id: str, key: Admin, state: State) -> None:
    with database(state) as conn:
        deleted = AlertRuleRepository(conn, _KPIS).delete(rule_id)
    if deleted is None:
        raise NotFound(f"no alert rule with id {rule_id}")
    definition = json.dumps(deleted.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False)
    audit.info("alert rule %s deleted by API key %s: %s", rule_id, key.name, definition)
