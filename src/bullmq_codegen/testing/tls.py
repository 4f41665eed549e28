"""Certificates of one's own for a TLS-enabled test Redis, made with the ``openssl`` command.

:func:`make_certificates` writes a certificate authority and a server certificate
it signed (for ``127.0.0.1`` and ``localhost``) into a directory;
:meth:`Certificates.server_args` are the ``redis-server`` options that serve TLS
with them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Certificates", "make_certificates"]

_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True, slots=True)
class Certificates:
    """Paths of a test CA's certificate and of a server's certificate and key it signed."""

    ca: Path
    server_certificate: Path
    server_key: Path

    def server_args(self, tls_port: int) -> list[str]:
        """``redis-server`` options serving TLS on ``tls_port`` (clients need no certificate)."""
        return [
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(self.server_certificate),
            "--tls-key-file",
            str(self.server_key),
            "--tls-ca-cert-file",
            str(self.ca),
            "--tls-auth-clients",
            "no",
        ]


def make_certificates(directory: Path, *, name: str = "bullmq-codegen test") -> Certificates:
    """A new CA and a server certificate for 127.0.0.1 and localhost, in ``directory``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError(
            "openssl is needed to make test certificates (apt-get install openssl)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    certificate, key = directory / "server.crt", directory / "server.key"
    request, extensions = directory / "server.csr", directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for command in (
        ["req", "-x509", *_KEY, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", f"/CN={name} CA"],
        ["req", *_KEY, "-keyout", key, "-out", request, "-subj", "/CN=localhost"],
        [
            "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", certificate, "-days", "2", "-extfile", extensions,
        ],
    ):  # fmt: skip
        subprocess.run([openssl, *map(str, command)], check=True, capture_output=True, timeout=60)
    return Certificates(ca=ca, server_certificate=certificate, server_key=key)
