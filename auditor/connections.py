"""The TLS context of every client of a process: one per CA bundle, the bundle read into it once.

botocore gives each client's HTTP session its own TLS context and names the CA bundle (certifi's, or
AWS_CA_BUNDLE) on every connection pool; urllib3 then reads the whole bundle into the context again for every new
connection (urllib3 issue 3623, botocore issue 3171). With OpenSSL 3 that is about 35 ms of CPU a connection here,
several times what the TLS handshake itself costs, and a run opens many connections: one per call in flight, per
account, region and service, so up to 16 for a region's EC2 client alone. Read once, the bundle costs that once
per process (worker processes inherit the context: it holds no connection).

`share_context` gives a client's HTTP session the process's context for its bundle, with the bundle already in
it, and stops naming the bundle on its connection pools that use that context. Verification is unchanged:
certificates are still required and checked against the same bundle, and host names are checked as before.
Sessions that do not verify, or that present a client certificate (which urllib3 loads into the context), keep
botocore's own context. A bundle that cannot be read is bad input, said in one line before any call (botocore
said "SSL validation failed ... No such file or directory" at the first call, without the path).

botocore has no public hook for this: `share_context` sets two attributes of the client's URLLib3Session and one
entry of its PoolManager's pool arguments, checked for in the pinned botocore and urllib3 (constraints.txt) by
tests/test_connections.py. When a release no longer has them, the client is left as botocore made it: slower,
never less safe.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from typing import Any

from botocore.httpsession import URLLib3Session, get_cert_path

from auditor.errors import UserError

_lock = threading.Lock()
_contexts: dict[str, ssl.SSLContext] = {}  # CA bundle path -> a context with that bundle in it


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
