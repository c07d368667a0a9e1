"""Who may do what on the broker: the roles of the system's own accounts and of each publisher.

Mosquitto's dynamic-security plugin checks a SUBSCRIBE against the client's roles before it answers,
so a refused subscription never exists (SUBACK 0x87 on MQTT 5, 0x80 on 3.1.1). The plain ACL file
granted every SUBSCRIBE and only withheld the deliveries: a publisher subscribed to the ingest's
`$share/ingest/ioc/v1/#` took its turn in the group's round robin and threw those messages away.

The plugin of Mosquitto 2.0.x substitutes no `%u` or `%c` in its ACLs, so there is no shared
publisher role: each publisher gets a role of its own with its literal topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# The naming rules are the registry's; re-exported here for the broker's callers.
from ingest.contract.feedback import feedback_topic
from ingest.registry.names import RESERVED_PREFIX, USERNAME_PATTERN, InvalidUsername

__all__ = ["RESERVED_PREFIX", "USERNAME_PATTERN", "InvalidUsername"]

PUBLISHER_ROLE_PREFIX = "publisher-"
# A publisher's source is one topic level; `+` only for accounts converted from the password file
# whose source nobody recorded (they keep the rights they had, under their own id).
_SOURCE = re.compile(r"[a-z]{1,32}|\+")


class AclType(StrEnum):
    PUBLISH_SEND = "publishClientSend"  # what the client may publish
    PUBLISH_RECEIVE = "publishClientReceive"  # what the broker may deliver to it
    SUBSCRIBE_LITERAL = "subscribeLiteral"  # checked at SUBSCRIBE: this exact filter
    SUBSCRIBE_PATTERN = "subscribePattern"  # checked at SUBSCRIBE: filters this one covers


@dataclass(frozen=True, slots=True)
class Acl:
    type: AclType
    topic: str
    allow: bool = True
    priority: int = 0  # higher first

    def as_command(self) -> dict[str, object]:
        return {"acltype": self.type.value, "topic": self.topic, "allow": self.allow, "priority": self.priority}


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    acls: tuple[Acl, ...]


def writes(topic_filter: str) -> tuple[Acl, ...]:
    return (Acl(AclType.PUBLISH_SEND, topic_filter),)


def reads(topic_filter: str, *, literal: bool = False) -> tuple[Acl, ...]:
    """Subscribing (checked at SUBSCRIBE) and being delivered to: both are needed to read."""
    subscribe = AclType.SUBSCRIBE_LITERAL if literal else AclType.SUBSCRIBE_PATTERN
    return (Acl(subscribe, topic_filter), Acl(AclType.PUBLISH_RECEIVE, topic_filter))


def publisher_role_name(publisher_id: str) -> str:
    return PUBLISHER_ROLE_PREFIX + publisher_id


def feedback_reads(publisher_id: str) -> tuple[Acl, ...]:
    """Its own feedback topic, that exact filter only: never a wildcard, never another's."""
    return reads(feedback_topic(publisher_id), literal=True)


def publisher_role(publisher_id: str, source: str) -> Role:
    """A publisher writes its own topics and reads its own feedback topic, nothing else (SUBACK 0x87 /
    0x80 for any other filter; the feedback topic is written only by the ingest)."""
    if not USERNAME_PATTERN.fullmatch(publisher_id) or publisher_id.startswith(RESERVED_PREFIX):
        raise InvalidUsername(publisher_id)
    if not _SOURCE.fullmatch(source):
        raise ValueError(f"invalid source {source!r} for a publisher role")
    acls = (*writes(f"ioc/v1/{source}/{publisher_id}/#"), *feedback_reads(publisher_id))
    return Role(publisher_role_name(publisher_id), acls)


class ServiceRole(StrEnum):
    """The system's own roles; each is also the name of its first account."""

    INGEST = "ioc-ingest"
    MONITOR = "ioc-monitor"
    SWEEPER = "ioc-sweeper"
    ADMIN = "ioc-admin"


_CONTROL = "$CONTROL/dynamic-security/#"
SERVICE_ROLES: dict[ServiceRole, Role] = {
    # The whole event tree, alone or in a shared group (`ioc ingest --workers N`, replicas); a delivery
    # is checked against the message's own topic, whichever way it was subscribed.
    # It also tells each publisher about its own dead letters, on a topic outside the event tree.
    ServiceRole.INGEST: Role(
        ServiceRole.INGEST.value,
        (
            *reads("ioc/v1/#"),
            Acl(AclType.SUBSCRIBE_PATTERN, "$share/+/ioc/v1/#"),
            *writes(feedback_topic("+")),
        ),
    ),
    ServiceRole.MONITOR: Role(ServiceRole.MONITOR.value, reads("$SYS/#")),
    # Finds retained event messages (a fresh subscription receives them) and deletes each with an
    # empty retained message; never on a status topic, where one retained message is the contract.
    ServiceRole.SWEEPER: Role(
        ServiceRole.SWEEPER.value,
        (
            *reads("ioc/v1/#"),
            *writes("ioc/v1/#"),
            Acl(AclType.PUBLISH_SEND, "ioc/v1/+/+/status", allow=False, priority=1),
        ),
    ),
    # Accounts and roles through the control topic, and the broker's own metrics; no event.
    ServiceRole.ADMIN: Role(ServiceRole.ADMIN.value, (*writes(_CONTROL), *reads(_CONTROL), *reads("$SYS/#"))),
}

# What nobody's roles mention is refused, deliveries included; unsubscribing is always harmless.
DEFAULT_ACL_ACCESS: dict[str, bool] = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}
