"""The connections of a run's clients: one HTTP session per endpoint, and one TLS context per CA bundle.

**One HTTP session per endpoint.** botocore gives each client connections of its own, and a run has a client per
account, region and service: reading several accounts in one process, each account's EC2 client in a region
opened its own connections to the same endpoint, a TLS handshake each (up to 16 an account and region, one per
call in flight). A connection carries no credentials (each request is signed on its own), so the clients of one
run (the caller's aws.Clients and every account's made from it share one `Pools`) that reach one endpoint with the
same connection settings use one HTTP session: the accounts take turns on its connections. Its pools may keep up
to POOL_SIZE connections, the most calls a run can have in flight, so that no connection is ever discarded for
want of room. A forked worker makes sessions of its own, never the caller's; and the sessions go, their
connections closed, with the run's clients.

**One TLS context per CA bundle, read once.** botocore gives each HTTP session its own TLS context and names the
CA bundle (certifi's, or AWS_CA_BUNDLE) on every connection pool; urllib3 then reads the whole bundle into the
context again for every new connection (urllib3 issue 3623, botocore issue 3171). With OpenSSL 3 that is about
35 ms of CPU a connection here, several times what the TLS handshake itself costs. `share_context` gives a
client's HTTP session the process's context for its bundle, with the bundle already in it (a context holds no
connection: worker processes inherit it), and stops naming the bundle on its connection pools that use that
context. Verification is unchanged: certificates are still required and checked against the same bundle, and
host names are checked as before. Sessions that do not verify, or that present a client certificate (which
urllib3 loads into the context), keep botocore's own context. A bundle that cannot be read is bad input, said in
one line before any call (botocore said "SSL validation failed ... No such file or directory" at the first call,
without the path).

botocore has no public hook for any of this: `Pools.share` replaces the client's endpoint's HTTP session, and
`share_context` sets two attributes of that session and one entry of its PoolManager's pool arguments (`Pools`
one more), checked for in the pinned botocore and urllib3 (constraints.txt) by tests/test_connections.py. When a
release no longer has them, the client is left as botocore made it: slower, never less safe.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from typing import Any

from botocore.httpsession import URLLib3Session, get_cert_path

from auditor.errors import UserError

POOL_SIZE = 256  # the most calls a run can have in flight: --max-workers' upper bound (config.WHOLE_NUMBERS)

_lock = threading.Lock()
_contexts: dict[str, ssl.SSLContext] = {}  # CA bundle path -> a context with that bundle in it


class Pools:
    """The HTTP sessions of one run's clients, one per (process, endpoint, connection settings)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[Any, ...], URLLib3Session] = {}

    def share(self, client: Any) -> bool:
        """Have the client use the run's HTTP session for its endpoint and settings (made from its own, with the
        process's TLS context, the first time). False when it cannot: the client then keeps its own session."""
        endpoint = getattr(client, "_endpoint", None)
        http = getattr(endpoint, "http_session", None)
        settings = _settings(http)
        host = getattr(endpoint, "host", None)
        if settings is None or not isinstance(host, str):
            share_context(client)
            return False
        key = (os.getpid(), host, settings)
        with self._lock:
            shared = self._sessions.get(key)
            if shared is None:
                share_context(client)
                arguments = http._manager.connection_pool_kw  # type: ignore[union-attr]  # no pool made yet
                arguments["maxsize"] = max(POOL_SIZE, arguments.get("maxsize") or 0)
                shared = self._sessions[key] = http  # type: ignore[assignment]
        endpoint.http_session = shared  # type: ignore[union-attr]
        return True

    def clear(self) -> None:
        """Forget the sessions (in a forked worker: the caller's, whose connections are the caller's)."""
        with self._lock:
            self._sessions.clear()


def _settings(http: Any) -> tuple[Any, ...] | None:
    """What a client's connections are made with, when this botocore keeps it where expected (else None)."""
    if not isinstance(http, URLLib3Session):
        return None
    manager = getattr(http, "_manager", None)
    proxies = getattr(http, "_proxy_config", None)
    if not isinstance(getattr(manager, "connection_pool_kw", None), dict) or proxies is None:
        return None
    try:
        return (repr(http._verify), repr(http._timeout), repr(http._socket_options), http._cert_file,
                http._key_file, repr(proxies._proxies), repr(proxies._proxies_settings))
    except AttributeError:
        return None


def context_for(bundle: str, make: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """The process's context for `bundle`: made by `make()` (botocore's own way of making one) and given the bundle,
    the first time. A bundle that cannot be read (a wrong AWS_CA_BUNDLE) is a UserError, before any call."""
    with _lock:
        context = _contexts.get(bundle)
        if context is None:
            context = make()
            try:
                context.load_verify_locations(bundle)
            except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
                reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                raise UserError(f"cannot read the CA bundle {bundle} (AWS_CA_BUNDLE, or the profile's ca_bundle): "
                                f"{reason}") from None
            _contexts[bundle] = context
        return context


def share_context(client: Any) -> bool:
    """Have the client's connections use the process's context for its CA bundle. False when it cannot (then the
    client is unchanged): no TLS verification, a client certificate, or a botocore without these attributes."""
    http = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if not isinstance(http, URLLib3Session):
        return False
    verify = getattr(http, "_verify", None)
    manager_arguments = getattr(getattr(http, "_manager", None), "connection_pool_kw", None)
    setup = getattr(http, "_setup_ssl_cert", None)
    make = getattr(http, "_get_ssl_context", None)
    if not verify or getattr(http, "_cert_file", None) is not None or not callable(setup) or not callable(make) \
            or not isinstance(manager_arguments, dict) or "ssl_context" not in manager_arguments:
        return False
    bundle = get_cert_path(verify)
    context = context_for(bundle, make)
    manager_arguments["ssl_context"] = context  # the pools are made on the first call to each host: none yet
    http._get_ssl_context = lambda: context  # for the pools behind a proxy, made later from the same arguments

    def setup_ssl_cert(pool: Any, url: str, verify: Any) -> None:
        setup(pool, url, verify)
        # the bundle is in the pool's context already: naming it would have urllib3 read it again per connection
        if getattr(pool, "ca_certs", None) == bundle and getattr(pool, "conn_kw", {}).get("ssl_context") is context:
            pool.ca_certs = None

    http._setup_ssl_cert = setup_ssl_cert
    return True
