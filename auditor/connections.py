"""The connections of a process's clients: one pool per endpoint, and one TLS context per CA bundle.

**One pool per endpoint.** botocore gives each client connections of its own, and a run has a client per
account, region and service: reading several accounts in one process, each account's EC2 client in a region
opened its own connections to the same endpoint, a TLS handshake each (up to 16 an account and region, one per
call in flight). A connection carries no credentials (each request is signed on its own), so `share` has the
clients of one endpoint, with the same connection settings, use one HTTP session: the accounts of a process take
turns on its connections. Its pools may keep up to POOL_SIZE connections, the most calls a run can have in
flight, so that no connection is ever discarded for want of room. The sessions are per process: a forked worker
makes its own, never the caller's.

**One TLS context per CA bundle, read once.** botocore gives each HTTP session its own TLS context and names the
CA bundle (certifi's, or AWS_CA_BUNDLE) on every connection pool; urllib3 then reads the whole bundle into the
context again for every new connection (urllib3 issue 3623, botocore issue 3171). With OpenSSL 3 that is about
35 ms of CPU a connection here, several times what the TLS handshake itself costs. Each shared session gets the
process's context for its bundle, with the bundle already in it, and stops naming the bundle on its pools that
use that context. Verification is unchanged: certificates are still required and checked against the same
bundle, and host names are checked as before. Sessions that do not verify, or that present a client certificate
(which urllib3 loads into the context), keep botocore's own context.

botocore has no public hook for any of this: `share` replaces the client's endpoint's HTTP session, and sets two
attributes of that session and two entries of its PoolManager's pool arguments, checked for in the pinned
botocore and urllib3 (constraints.txt) by tests/test_connections.py. When a release no longer has them, the
client is left as botocore made it: slower, never less safe.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from typing import Any

from botocore.httpsession import URLLib3Session, get_cert_path

POOL_SIZE = 256  # the most calls a run can have in flight: --max-workers' upper bound (config.WHOLE_NUMBERS)

_lock = threading.RLock()  # share holds it while it calls context_for
_contexts: dict[str, ssl.SSLContext] = {}  # CA bundle path -> a context with that bundle in it
_sessions: dict[tuple[Any, ...], URLLib3Session] = {}  # (process, endpoint, settings) -> the session they share


def share(client: Any) -> bool:
    """Have the client use this process's HTTP session for its endpoint and settings (made from its own, the
    first time). False when it cannot: the client is then unchanged."""
    endpoint = getattr(client, "_endpoint", None)
    http = getattr(endpoint, "http_session", None)
    key = _settings(http)
    host = getattr(endpoint, "host", None)
    if key is None or not isinstance(host, str):
        return False
    with _lock:
        shared = _sessions.get((os.getpid(), host, key))
        if shared is None:
            http._manager.connection_pool_kw["maxsize"] = max(  # type: ignore[union-attr]  # no pool made yet
                POOL_SIZE, http._manager.connection_pool_kw.get("maxsize") or 0)  # type: ignore[union-attr]
            share_context(http)
            shared = _sessions[(os.getpid(), host, key)] = http  # type: ignore[assignment]
    endpoint.http_session = shared  # type: ignore[union-attr]
    return True


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
    the first time."""
    with _lock:
        context = _contexts.get(bundle)
        if context is None:
            context = make()
            context.load_verify_locations(bundle)
            _contexts[bundle] = context
        return context


def share_context(http: Any) -> bool:
    """Have the HTTP session's connections use the process's context for its CA bundle. False when it cannot
    (then it is unchanged): no TLS verification, a client certificate, or a botocore without these attributes."""
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
