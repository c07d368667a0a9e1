"""The HTTP API (FastAPI): `create_app()` in `api.http.app`; one package per capability."""
