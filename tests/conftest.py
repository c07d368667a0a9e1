pytest_plugins = [
    "tests.fixtures.stack",
    "tests.fixtures.mqtt",
    "tests.fixtures.ingest",
    "tests.fixtures.streams",
    "tests.fixtures.api",
    "tests.fixtures.notify",
    "tests.fixtures.verify",
]
