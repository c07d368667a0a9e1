"""Which pages may open the live websockets when IOC_API_ALLOWED_ORIGINS is not set."""

from __future__ import annotations

from pathlib import Path

from api.http.settings import ApiSettings


def test_the_default_origins_follow_the_apis_own_host_port_and_scheme() -> None:
    assert ApiSettings(api_port=18555).allowed_origins() == ["http://127.0.0.1:18555", "http://localhost:18555"]
    every_interface = ApiSettings(api_host="0.0.0.0", api_port=8000)  # noqa: S104
    assert every_interface.allowed_origins() == ["http://127.0.0.1:8000", "http://localhost:8000"]
    assert ApiSettings(api_host="10.1.2.3", api_port=8000).allowed_origins() == ["http://10.1.2.3:8000"]
    tls = ApiSettings(api_port=8443, api_tls_cert_file=Path("c.pem"), api_tls_key_file=Path("k.pem"))
    assert tls.allowed_origins() == ["https://127.0.0.1:8443", "https://localhost:8443"]


def test_a_public_url_adds_its_origin_and_an_explicit_list_replaces_the_default() -> None:
    public = ApiSettings(api_port=18080, api_public_url="https://ioc.daknong.gov.vn/some/path")
    assert public.allowed_origins()[-1] == "https://ioc.daknong.gov.vn"
    assert "https://ioc.daknong.gov.vn/some/path" not in public.allowed_origins()
    explicit = ApiSettings(api_allowed_origins=["https://wall.example"])
    assert explicit.allowed_origins() == ["https://wall.example"]
    assert ApiSettings(api_allowed_origins=[]).allowed_origins() == []
