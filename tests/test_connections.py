"""The clients of a run share one HTTP session per endpoint, and every client one TLS context per CA bundle, read
once (auditor.connections)."""

from __future__ import annotations

import gc
import ssl
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest
import urllib3.connection

from auditor import aws, config, connections
from auditor.errors import UserError
from tests import tls_certs
from tests.cli import run_cli

EMPTY_VPCS = b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet/></DescribeVpcsResponse>'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections, as botocore's pools use them
    timeout = 10  # a connection the client left open ends on its own

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        key_id = self.headers["Authorization"].partition("Credential=")[2].split("/")[0]
        self.server.signed.append(key_id)  # type: ignore[attr-defined]
        self.server.barrier.wait()  # type: ignore[attr-defined]  # calls overlap: each needs its own connection
        self.send_response(200)
        self.send_header("Content-Length", str(len(EMPTY_VPCS)))
        self.end_headers()
        self.wfile.write(EMPTY_VPCS)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def files(tmp_path: Path) -> tls_certs.TlsFiles:
    return tls_certs.make(tmp_path)


@pytest.fixture
def signed() -> list[str]:
    """The access key id of each request the HTTPS servers received, in order."""
    return []


@pytest.fixture
def https(files: tls_certs.TlsFiles, signed: list[str]) -> Iterator[Callable[[int], str]]:
    """Start an HTTPS server on 127.0.0.1 with a certificate of the test CA, answering in groups of `n` calls."""
    servers: list[ThreadingHTTPServer] = []

    def start(together: int) -> str:
        server = ThreadingHTTPServer((tls_certs.LOOPBACK, 0), _Handler)
        server.daemon_threads = False
        server.barrier = threading.Barrier(together, timeout=10)  # type: ignore[attr-defined]
        server.signed = signed  # type: ignore[attr-defined]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(files.cert, files.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, name="test-https", daemon=True).start()
        servers.append(server)
        return f"https://{tls_certs.LOOPBACK}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()  # joins the connections' threads


@pytest.fixture
def wrapped(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The CA bundle urllib3 is told to read for each TLS connection it opens (None: none)."""
    named: list[str | None] = []
    wrap = urllib3.connection.ssl_wrap_socket

    def counting(*args: Any, **kwargs: Any) -> Any:
        named.append(kwargs.get("ca_certs"))
        return wrap(*args, **kwargs)

    monkeypatch.setattr(urllib3.connection, "ssl_wrap_socket", counting)
    return named


def _clients(monkeypatch: pytest.MonkeyPatch, url: str, bundle: Path, key: str = "AKIDFIRST",
             same_run: aws.Clients | None = None) -> aws.Clients:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    session = boto3.Session(region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key="secret")
    return aws.Clients(session, max_pool_connections=8, same_run=same_run)


def _together(client: Any, calls: int) -> list[Any]:
    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(lambda _: client.describe_vpcs()["Vpcs"], range(calls)))


def test_connections_verify_the_server_without_reading_the_bundle_again(monkeypatch, https, files, wrapped) -> None:
    clients = _clients(monkeypatch, https(4), files.bundle)
    try:
        for region in ("us-east-1", "eu-west-1"):
            assert _together(clients.get("ec2", region), 4) == [[]] * 4
    finally:
        for client in clients._clients.values():
            client.close()
    # four connections (the calls overlapped), which both regions' clients took turns on: here every endpoint
    # is the one test server's
    assert len(wrapped) == 4
    assert wrapped == [None] * 4  # none of them read the bundle
    context = connections._contexts[str(files.bundle)]  # it was read once, into the context they all used
    assert context.cert_store_stats()["x509_ca"] > 100  # certifi's CAs and the test CA
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_server_the_bundle_does_not_trust_is_refused(monkeypatch, https, files, tmp_path, wrapped) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one connection a client: a refused one is not tried again
    url = https(1)
    trusted = _clients(monkeypatch, url, files.bundle).get("ec2", "us-east-1")
    assert trusted.describe_vpcs()["Vpcs"] == []  # the process has a context for that bundle now
    trusted.close()
    (tmp_path / "other").mkdir()
    other = tls_certs.make(tmp_path / "other", with_certifi=False)
    stranger = _clients(monkeypatch, url, other.bundle).get("ec2", "us-east-1")  # another CA only
    with pytest.raises(botocore.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        stranger.describe_vpcs()
    stranger.close()
    assert wrapped == [None, None]


def test_clients_that_do_not_verify_or_present_a_certificate_keep_their_own_context(files) -> None:
    session = boto3.Session(region_name="us-east-1")
    unverified = session.client("ec2", verify=False)
    assert connections.share_context(unverified) is False
    config = botocore.config.Config(client_cert=(str(files.cert), str(files.key)))
    presenting = session.client("ec2", config=config)
    assert connections.share_context(presenting) is False
    context = presenting._endpoint.http_session._manager.connection_pool_kw["ssl_context"]
    assert context not in connections._contexts.values()


def test_the_pinned_botocore_has_what_is_changed(files) -> None:
    client = boto3.Session(region_name="us-east-1").client("ec2", verify=str(files.bundle))
    assert connections.share_context(client) is True
    http = client._endpoint.http_session
    assert http._manager.connection_pool_kw["ssl_context"] is connections._contexts[str(files.bundle)]
    assert http._get_ssl_context() is connections._contexts[str(files.bundle)]  # the pools behind a proxy too
    assert connections.share_context(object()) is False


def test_a_bundle_that_cannot_be_read_is_one_line_and_exit_2(monkeypatch, https, tmp_path, capsys) -> None:
    """A wrong AWS_CA_BUNDLE is bad input: one line naming it, exit 2, nothing written, before any call."""
    missing = tmp_path / "no-such-bundle.pem"
    client = boto3.Session(region_name="us-east-1").client("ec2", verify=str(missing))
    with pytest.raises(UserError, match="cannot read the CA bundle"):
        connections.share_context(client)
    assert str(missing) not in connections._contexts
    monkeypatch.setenv("AWS_ENDPOINT_URL", https(1))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(missing))
    output = tmp_path / "snapshot.json"
    code, out, err = run_cli(capsys, "collect", "--regions", "us-east-1", "--output", str(output))
    assert (code, out) == (2, "")
    assert err == (f"auditor: error: cannot read the CA bundle {missing} (AWS_CA_BUNDLE, or the profile's "
                   "ca_bundle): No such file or directory\n")
    assert not output.exists()


def test_accounts_take_turns_on_the_connections_of_an_endpoint(monkeypatch, https, files, wrapped, signed) -> None:
    url = https(4)
    caller = _clients(monkeypatch, url, files.bundle, "AKIDFIRST")
    first = caller.get("ec2", "eu-west-1")
    # another account's clients of the same run share the caller's pools, as collect's members do
    second = _clients(monkeypatch, url, files.bundle, "AKIDSECOND", caller).get("ec2", "eu-west-1")
    try:
        assert first._endpoint.http_session is second._endpoint.http_session
        assert _together(first, 4) == [[]] * 4
        assert _together(second, 4) == [[]] * 4
        assert _together(first, 4) == [[]] * 4
    finally:
        first.close()
    assert len(wrapped) == 4  # the second account used the first's connections, and the first again after it
    assert signed == ["AKIDFIRST"] * 4 + ["AKIDSECOND"] * 4 + ["AKIDFIRST"] * 4  # each signed with its own key


def test_other_endpoints_settings_runs_or_processes_get_sessions_of_their_own(monkeypatch, files) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(files.bundle))
    clients = aws.Clients(boto3.Session(region_name="us-east-1"))
    east, west = clients.get("ec2", "us-east-1"), clients.get("ec2", "eu-west-1")
    again = aws.Clients(boto3.Session(region_name="us-east-1"), max_pool_connections=3, same_run=clients)
    assert east._endpoint.http_session is again.get("ec2", "us-east-1")._endpoint.http_session  # the same endpoint
    assert east._endpoint.http_session is not west._endpoint.http_session
    assert east._endpoint.http_session._manager.connection_pool_kw["maxsize"] == connections.POOL_SIZE
    unverified = boto3.Session(region_name="us-east-1").client("ec2", verify=False)
    assert clients.pools.share(unverified) is True
    assert unverified._endpoint.http_session is not east._endpoint.http_session
    other_run = aws.Clients(boto3.Session(region_name="us-east-1")).get("ec2", "us-east-1")
    assert other_run._endpoint.http_session is not east._endpoint.http_session
    monkeypatch.setattr(connections.os, "getpid", lambda: -1)  # a forked worker: never the caller's connections
    forked = aws.Clients(boto3.Session(region_name="us-east-1"), same_run=clients).get("ec2", "us-east-1")
    assert forked._endpoint.http_session is not east._endpoint.http_session
    clients.forget()  # what a worker does first: the caller's sessions are gone from the pools
    assert clients.pools._sessions == {}


def test_the_sessions_and_their_connections_go_with_the_runs_clients() -> None:
    clients = aws.Clients(boto3.Session(region_name="us-east-1"))
    session = weakref.ref(clients.get("ec2", "us-east-1")._endpoint.http_session)
    del clients
    gc.collect()
    assert session() is None  # nothing of the process keeps a run's connections open after it


def test_the_pools_have_room_for_every_call_a_run_can_have_in_flight() -> None:
    assert connections.POOL_SIZE == config.WHOLE_NUMBERS["max_workers"]
    assert connections.Pools().share(object()) is False
