"""Key and certificate generation: a throw-away CA, the HTTPS server certificate it signs (SAN
127.0.0.1 and localhost), the token-signing key, and client certificates for CertificateCredential.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    """(x5t, x5t#S256) as base64url, the forms MSAL puts into a client assertion header."""
    return b64url(cert.fingerprint(hashes.SHA1())), b64url(cert.fingerprint(hashes.SHA256()))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, issuer: str, key: rsa.RSAPrivateKey, days: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


def make_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_key()
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    cert = (
        _builder("scim2entra emulator CA", "scim2entra emulator CA", key, 30)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(usage, True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(
    ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_key()
    san = x509.SubjectAlternativeName([
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
    ])
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    cert = (
        _builder("127.0.0.1", "scim2entra emulator CA", key, 30)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(san, False)
        .add_extension(aki, False)
        .add_extension(usage, True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def make_self_signed(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = new_key()
    return key, _builder(common_name, common_name, key, 365).sign(key, hashes.SHA256())


def make_client_cert(common_name: str = "scim2entra client") -> tuple[bytes, x509.Certificate]:
    """A self-signed client certificate; returns (PEM with private key and cert, cert)."""
    key, cert = make_self_signed(common_name)
    return key_pem(key) + cert_pem(cert), cert


@dataclass
class TlsMaterial:
    """Everything the HTTPS identity server needs, written to a private temp dir."""

    directory: str
    ca_bundle: str
    server_cert: str
    server_key: str

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx


def write_tls_material(directory: str | None = None) -> TlsMaterial:
    directory = directory or tempfile.mkdtemp(prefix="entra-emulator-")
    ca_key, ca_cert = make_ca()
    key, cert = make_server_cert(ca_key, ca_cert)
    paths = {
        "ca.pem": cert_pem(ca_cert),
        "server.pem": cert_pem(cert) + cert_pem(ca_cert),
        "server.key": key_pem(key),
    }
    for name, data in paths.items():
        with open(os.path.join(directory, name), "wb") as fh:
            fh.write(data)
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    return TlsMaterial(
        directory, os.path.join(directory, "ca.pem"),
        os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"),
    )
