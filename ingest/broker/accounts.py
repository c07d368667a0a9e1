"""The registry's broker accounts on Mosquitto's dynamic-security plugin, through its control topic.

Every method is safe to repeat (the control client repeats a call whose connection the broker
closed): creating what exists turns into setting it, removing what is gone is no error. An account
never changes kind: a name held by one role is not handed to another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.broker.control import Answer, BrokerCommandFailed, BrokerControl, BrokerEndpoint, Command
from ingest.broker.roles import (
    DEFAULT_ACL_ACCESS,
    PUBLISHER_ROLE_PREFIX,
    SERVICE_ROLES,
    USERNAME_PATTERN,
    InvalidUsername,
    Role,
    ServiceRole,
    feedback_reads,
    publisher_role,
    publisher_role_name,
)
from ingest.errors import Conflict
from runtime.settings import SharedSettings

_EXISTS = ("Role already exists", "Client already exists")
_NOT_FOUND = ("Client not found", "Role not found")
_ACL_EXISTS = "ACL with this topic already exists"


class AccountRoleConflict(BrokerCommandFailed, Conflict):
    """The name is held by an account of another role: an account never changes kind."""

    def __init__(self, username: str, existing: Sequence[str], wanted: str) -> None:
        # Not BrokerCommandFailed's initialiser: its super() call would reach Conflict's without the data.
        self.command, self.error = "createClient", f"{username} has role {', '.join(existing) or 'none'}, not {wanted}"
        Conflict.__init__(self, f"the broker refused {self.command}: {self.error}", kind="broker account", key=username)
        self.username = username
        self.existing_roles = tuple(existing)
        self.wanted_role = wanted


@dataclass(frozen=True, slots=True)
class BrokerClient:
    username: str
    roles: tuple[str, ...]
    disabled: bool


class DynsecAccounts:
    def __init__(self, control: BrokerControl) -> None:
        self.control = control

    # --- the registry's interface (ingest.registry.publishers.BrokerAccounts) ---------------------

    def set_publisher(self, publisher_id: str, source: str, password: str) -> None:
        """Create the publisher's account with a role of its own, or give an existing one this
        password and that role again (the broker then disconnects it)."""
        self._set_client(publisher_id, password, publisher_role(publisher_id, source))

    def disable_publisher(self, publisher_id: str) -> None:
        """Refuse its password from now on; the broker disconnects it at once."""
        (answer,) = self.control.execute([{"command": "disableClient", "username": publisher_id}])
        answer.raise_for_error(*_NOT_FOUND)

    def enable_publisher(self, publisher_id: str) -> None:
        """Accept its password again (dynsec keeps the password of a disabled client)."""
        (answer,) = self.control.execute([{"command": "enableClient", "username": publisher_id}])
        answer.raise_for_error()

    # --- the system's accounts ---------------------------------------------------------------------

    def set_service_account(self, username: str, password: str, role: ServiceRole) -> None:
        self._set_client(username, password, SERVICE_ROLES[role])

    def ensure_service_account(self, username: str, password: str, role: ServiceRole) -> None:
        """Create the account if it is missing; an existing one keeps its password and its connection."""
        existing = self.client(username)
        if existing is None or existing.roles != (role.value,):
            self.set_service_account(username, password, role)

    def ensure_system(self) -> None:
        """The default access (refuse what no role allows) and the system's roles as this release defines them."""
        access = [{"acltype": acltype, "allow": allow} for acltype, allow in DEFAULT_ACL_ACCESS.items()]
        commands: list[Command] = [{"command": "setDefaultACLAccess", "acls": access}]
        for role in SERVICE_ROLES.values():
            commands += _role_commands(role)
        for answer in self.control.execute(commands):
            answer.raise_for_error(*_EXISTS)
        self._grant_feedback_to_existing_publishers()

    def _grant_feedback_to_existing_publishers(self) -> None:
        """Publishers' roles made by an earlier release get their feedback topic (made now, they have it)."""
        (answer,) = self.control.execute([{"command": "listRoles", "verbose": False, "count": -1}])
        answer.raise_for_error()
        roles = answer.data.get("roles")
        names = [r for r in (roles if isinstance(roles, list) else ()) if isinstance(r, str)]
        commands: list[Command] = [
            {"command": "addRoleACL", "rolename": name, **acl.as_command()}
            for name in names
            if name.startswith(PUBLISHER_ROLE_PREFIX)
            for acl in feedback_reads(name.removeprefix(PUBLISHER_ROLE_PREFIX))
        ]
        if commands:
            _raise_unless(self.control.execute(commands), _ACL_EXISTS)

    # --- reading and cleaning up ------------------------------------------------------------------

    def client(self, username: str) -> BrokerClient | None:
        (answer,) = self.control.execute([{"command": "getClient", "username": username}])
        if answer.error in _NOT_FOUND:
            return None
        answer.raise_for_error()
        return _client_of(answer.data.get("client"))

    def usernames(self) -> list[str]:
        (answer,) = self.control.execute([{"command": "listClients", "verbose": True, "count": -1}])
        answer.raise_for_error()
        clients = answer.data.get("clients")
        return sorted(c.username for c in map(_client_of, clients if isinstance(clients, list) else ()) if c)

    def delete(self, username: str) -> bool:
        """Remove the account (the broker disconnects it) and its publisher role; False if there was none."""
        deleted, _ = self.control.execute(
            [
                {"command": "deleteClient", "username": username},
                {"command": "deleteRole", "rolename": publisher_role_name(username)},
            ]
        )
        deleted.raise_for_error(*_NOT_FOUND)
        return deleted.error is None

    def _set_client(self, username: str, password: str, role: Role) -> None:
        if not USERNAME_PATTERN.fullmatch(username):
            raise InvalidUsername(username)
        roles = [{"rolename": role.name}]
        create: Command = {"command": "createClient", "username": username, "password": password, "roles": roles}
        *role_answers, created = self.control.execute([*_role_commands(role), create])
        _raise_unless(role_answers, *_EXISTS)
        if created.error != "Client already exists":
            created.raise_for_error()
            return
        existing = self.client(username)
        if existing is not None and set(existing.roles) - {role.name}:
            raise AccountRoleConflict(username, existing.roles, role.name)
        modify: Command = {"command": "modifyClient", "username": username, "password": password, "roles": roles}
        _raise_unless(self.control.execute([modify, {"command": "enableClient", "username": username}]))


def _role_commands(role: Role) -> list[Command]:
    acls = [acl.as_command() for acl in role.acls]
    return [
        {"command": "createRole", "rolename": role.name, "acls": acls},
        {"command": "modifyRole", "rolename": role.name, "acls": acls},  # an existing role gets this release's ACLs
    ]


def _raise_unless(answers: Sequence[Answer], *harmless: str) -> None:
    for answer in answers:
        answer.raise_for_error(*harmless)


def _client_of(value: object) -> BrokerClient | None:
    if not isinstance(value, dict) or not isinstance(value.get("username"), str):
        return None
    roles = value.get("roles")
    names = tuple(str(r["rolename"]) for r in (roles if isinstance(roles, list) else ()) if isinstance(r, dict))
    return BrokerClient(value["username"], names, bool(value.get("disabled", False)))


def accounts_from_settings(settings: SharedSettings) -> DynsecAccounts | None:
    """The accounts of the broker in `settings`, managed as its admin; None without the admin's password."""
    if settings.mqtt_admin_password is None or not settings.mqtt_admin_password.get_secret_value():
        return None
    endpoint = BrokerEndpoint.of(settings, settings.mqtt_admin_username, settings.mqtt_admin_password)
    return DynsecAccounts(BrokerControl(endpoint, settings.mqtt_admin_timeout_seconds))
