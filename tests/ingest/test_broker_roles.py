"""The broker's roles (pure): literal topics for each publisher, no subscription for any, nothing by default."""

from __future__ import annotations

import pytest

from ingest.broker.roles import (
    DEFAULT_ACL_ACCESS,
    SERVICE_ROLES,
    Acl,
    AclType,
    InvalidUsername,
    ServiceRole,
    publisher_role,
)


def test_a_publisher_writes_its_own_source_and_id_literally_and_reads_only_its_feedback_topic() -> None:
    role = publisher_role("desk-1", "portal")
    assert role.name == "publisher-desk-1"
    assert role.acls == (
        Acl(AclType.PUBLISH_SEND, "ioc/v1/portal/desk-1/#"),
        Acl(AclType.SUBSCRIBE_LITERAL, "ioc/feedback/v1/desk-1"),
        Acl(AclType.PUBLISH_RECEIVE, "ioc/feedback/v1/desk-1"),
    )
    # No subscribe pattern: the plugin answers every other SUBSCRIBE of a publisher with 0x87 / 0x80.
    assert not [a for a in role.acls if a.type is AclType.SUBSCRIBE_PATTERN]


def test_no_role_relies_on_a_substitution_the_plugin_does_not_make() -> None:
    """Mosquitto 2.0's dynamic-security plugin replaces no %u or %c: such an ACL matches nothing real."""
    roles = [*SERVICE_ROLES.values(), publisher_role("desk-1", "payments")]
    assert [a.topic for r in roles for a in r.acls if "%" in a.topic] == []


@pytest.mark.parametrize("bad", ["pub+evil", "pub#evil", "+", "a/b", "UPPER", "", "ioc-ingest", "x" * 65])
def test_a_publisher_role_is_refused_for_a_name_that_is_no_publisher_id(bad: str) -> None:
    with pytest.raises(InvalidUsername):
        publisher_role(bad, "portal")


@pytest.mark.parametrize("source", ["#", "portal/x", "", "Portal", "a+b"])
def test_a_publisher_role_is_refused_for_a_source_that_is_no_topic_level(source: str) -> None:
    with pytest.raises(ValueError, match="invalid source"):
        publisher_role("desk-1", source)


def test_what_no_role_allows_is_refused_and_the_sweeper_never_touches_a_status() -> None:
    assert DEFAULT_ACL_ACCESS == {
        "publishClientSend": False, "publishClientReceive": False, "subscribe": False, "unsubscribe": True,
    }  # fmt: skip
    sweeper = SERVICE_ROLES[ServiceRole.SWEEPER].acls
    deny = [a for a in sweeper if not a.allow]
    assert deny == [Acl(AclType.PUBLISH_SEND, "ioc/v1/+/+/status", allow=False, priority=1)]
    assert all(a.priority < deny[0].priority for a in sweeper if a.allow)
    ingest = {(a.type, a.topic) for a in SERVICE_ROLES[ServiceRole.INGEST].acls}
    assert (AclType.SUBSCRIBE_PATTERN, "$share/+/ioc/v1/#") in ingest
    # It writes only the publishers' feedback topics, outside the event tree it reads.
    writes = [a for a in SERVICE_ROLES[ServiceRole.INGEST].acls if a.type is AclType.PUBLISH_SEND]
    assert writes == [Acl(AclType.PUBLISH_SEND, "ioc/feedback/v1/+")]
