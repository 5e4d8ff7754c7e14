"""The gateway's HTTP/1.1 transport to an https upstream, over real TLS sockets: a trusted certificate carries the
request and keeps the connection alive; an untrusted certificate or one for another host is refused before any
byte of the request is sent, as the httpx ConnectError the proxy's retry policy maps to 503."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness.tokens import TEST_JWT_SECRET

from gateway.app import make_upstreams
from gateway.settings import GatewaySettings
from gateway.transport import Http1Transport
from metas_dev.cluster import free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name ``localhost`` (no IP address in it) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "upstream.pem", folder / "upstream.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Upstream:
    """An https server on 127.0.0.1 that answers every request with 200 and counts its connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                body = b'{"served":"over tls"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def upstream(certificate: tuple[Path, Path]) -> AsyncIterator[tuple[Upstream, int]]:
    cert_file, key_file = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    state = Upstream()
    port = free_port()
    server = await asyncio.start_server(state.handle, "127.0.0.1", port, ssl=server_tls)
    async with server:
        yield state, port


@pytest.fixture
async def trusting_client(certificate: tuple[Path, Path]) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose transport trusts the upstream's certificate (as METAS_GATEWAY_UPSTREAM_CA_FILE makes it)."""
    transport = Http1Transport(max_connections=2, tls=ssl.create_default_context(cafile=str(certificate[0])))
    async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
        yield client


async def test_a_trusted_upstream_answers_and_keeps_its_connection(
    trusting_client: httpx.AsyncClient, upstream: tuple[Upstream, int]
) -> None:
    state, port = upstream
    first = await trusting_client.get(f"https://localhost:{port}/v1/plans", headers={"x-request-id": "r1"})
    second = await trusting_client.get(f"https://localhost:{port}/v1/plans?page=2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == {"served": "over tls"}
    assert [r.split(b"\r\n", 1)[0] for r in state.requests] == [
        b"GET /v1/plans HTTP/1.1",
        b"GET /v1/plans?page=2 HTTP/1.1",
    ]
    assert b"x-request-id: r1" in state.requests[0].lower()
    assert state.connections == 1  # the TLS connection was kept alive and reused


async def test_an_untrusted_certificate_is_a_connect_error(upstream: tuple[Upstream, int]) -> None:
    state, port = upstream
    # The default context: the system's trust store, which does not know the upstream's self-signed certificate.
    async with httpx.AsyncClient(transport=Http1Transport(max_connections=2), timeout=5.0) as client:
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.get(f"https://localhost:{port}/v1/plans")
    assert state.requests == []


async def test_a_certificate_for_another_host_is_a_connect_error(
    trusting_client: httpx.AsyncClient, upstream: tuple[Upstream, int]
) -> None:
    state, port = upstream
    # The certificate names localhost, not the address 127.0.0.1: the hostname check refuses it.
    with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1|IP address mismatch|hostname"):
        await trusting_client.get(f"https://127.0.0.1:{port}/v1/plans")
    assert state.requests == []


@pytest.mark.parametrize("trusted", [True, False])
async def test_the_gateway_trusts_the_ca_file_it_is_given(
    certificate: tuple[Path, Path], upstream: tuple[Upstream, int], trusted: bool
) -> None:
    state, port = upstream
    settings = GatewaySettings(
        jwt_secret=TEST_JWT_SECRET,  # type: ignore[arg-type]
        upstream_ca_file=certificate[0] if trusted else None,
    )
    upstreams = make_upstreams(settings, {"planning": f"https://localhost:{port}"})
    client = upstreams["planning"].client
    try:
        if trusted:
            assert (await client.get("/v1/plans")).json() == {"served": "over tls"}
        else:
            with pytest.raises(httpx.ConnectError):
                await client.get("/v1/plans")
    finally:
        await client.aclose()
    assert len(state.requests) == (1 if trusted else 0)
