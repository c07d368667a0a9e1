"""The HTTP API's composition root (`ioc api`): the app, served by uvicorn until SIGTERM."""

from __future__ import annotations

from api.http.app import create_app
from api.http.serving.server import api_server, listening_socket, raise_open_files_limit
from api.http.settings import ApiSettings
from runtime.process import tune_garbage_collection


def run(settings: ApiSettings) -> int:
    """Serves until SIGTERM or SIGINT; `settings` has its connections resolved."""
    open_files = raise_open_files_limit()  # before anything is opened: the connection bound follows from it
    app = create_app(settings)
    tune_garbage_collection()
    server = api_server(app, settings, open_files)
    # uvicorn turns SIGTERM into a graceful shutdown: requests in flight finish, the lifespan closes.
    server.run(sockets=[listening_socket(settings)])
    return 0
