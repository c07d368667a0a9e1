"""The control-topic client against the real broker: clear, typed errors, and two holders of the admin
account at once (the broker lets one connection per client id live) both get their answers."""

from __future__ import annotations

import threading

import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import ADMIN_USERNAME
from ingest.broker.accounts import AccountRoleConflict, BrokerClient, DynsecAccounts
from ingest.broker.control import BrokerControl, BrokerEndpoint, BrokerLoginRefused, BrokerUnreachable
from ingest.broker.roles import ServiceRole
from tests.fixtures.ingest import free_port
from tests.fixtures.mqtt import unique_publisher_id

pytestmark = pytest.mark.integration


def _accounts(port: int, password: str, timeout: float = 5.0) -> DynsecAccounts:
    return DynsecAccounts(BrokerControl(BrokerEndpoint("127.0.0.1", port, ADMIN_USERNAME, password), timeout))


def test_a_broker_that_is_down_or_a_wrong_password_is_a_clear_error(stack: LocalStack) -> None:
    nowhere = free_port()
    with pytest.raises(BrokerUnreachable, match=rf"the broker at 127.0.0.1:{nowhere} is unreachable"):
        _accounts(nowhere, stack.secrets.mqtt_admin_password).usernames()
    with pytest.raises(BrokerLoginRefused, match="refused ioc-admin"):
        _accounts(stack.settings.mqtt_port, "wrong").usernames()


def test_two_holders_of_the_admin_account_at_once_both_get_every_answer(stack: LocalStack) -> None:
    """Another process (the API, a CLI) connecting as the admin replaces our connection: the call is
    made again on a new one, so each caller still gets its answers."""
    answers: list[int] = []
    failures: list[Exception] = []

    def work() -> None:
        accounts = _accounts(stack.settings.mqtt_port, stack.secrets.mqtt_admin_password)
        for _ in range(15):
            try:
                answers.append(len(accounts.usernames()))
            except Exception as exc:  # collected for the assertion
                failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(answers) == 45


def test_an_account_never_changes_kind(stack: LocalStack) -> None:
    """A publisher id that names a service account (or the reverse) is refused, its rights unchanged."""
    accounts = stack.mosquitto.accounts
    name = unique_publisher_id("svc")
    accounts.set_service_account(name, "pw", ServiceRole.INGEST)
    try:
        with pytest.raises(AccountRoleConflict):
            accounts.set_publisher(name, "portal", "stolen")
        assert accounts.client(name) == BrokerClient(name, (ServiceRole.INGEST.value,), disabled=False)
    finally:
        accounts.delete(name)
