"""TLS for the system's connections: the clients' verifying context, and the local stack's own CA.

Clients always verify: `ssl.create_default_context` checks the chain against the configured CA and
the host name against the certificate, and nothing here turns either off. The local stack's TLS
mode makes its own CA and one server certificate for `localhost` and 127.0.0.1 with the `openssl`
command line (installed with PostgreSQL and Mosquitto on every machine that runs the stack).
"""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runtime.settings import SharedSettings


def mqtt_client_context(settings: SharedSettings) -> ssl.SSLContext | None:
    """The context every MQTT client of the system uses; None when TLS is not configured."""
    if settings.mqtt_tls_ca_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(settings.mqtt_tls_ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.mqtt_tls_cert_file is not None:
        # A client certificate, where the broker asks for one (mutual TLS).
        key = None if settings.mqtt_tls_key_file is None else str(settings.mqtt_tls_key_file)
        context.load_cert_chain(str(settings.mqtt_tls_cert_file), key)
    return context


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    ca_cert: Path
    cert: Path
    key: Path


def ensure_local_certificates(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> CertificateFiles:
    """A CA and a server certificate for `names` under `directory`, made once and kept (keys 0600)."""
    files = CertificateFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    if all(p.exists() for p in (files.ca_cert, files.cert, files.key)):
        return files
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key = directory / "ca.key"
    _openssl(
        "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(ca_key), "-out", str(files.ca_cert), "-days", "825", "-subj", "/CN=daknong-ioc local CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    sign_server_certificate(files.ca_cert, ca_key, files.cert, files.key, names)
    return files


def sign_server_certificate(
    ca_cert: Path, ca_key: Path, cert: Path, key: Path, names: tuple[str, ...], self_signed: bool = False
) -> None:
    """A server certificate for `names`, signed by the CA (or by its own key, for tests of refusal)."""
    alt_names = ",".join(f"IP:{n}" if n.replace(".", "").isdigit() else f"DNS:{n}" for n in names)
    extensions = key.with_suffix(".ext")
    extensions.write_text(
        f"subjectAltName={alt_names}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    request = key.with_suffix(".csr")
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={names[0]}",
    )  # fmt: skip
    signer = ["-signkey", str(key)] if self_signed else ["-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial"]
    _openssl(
        "x509", "-req", "-in", str(request), *signer, "-out", str(cert), "-days", "397", "-extfile", str(extensions)
    )
    key.chmod(0o600)
    request.unlink()
    extensions.unlink()


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")
