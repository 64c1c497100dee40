"""One API model and one client class per service, shared by every client of a run.

botocore builds, for every client it creates, the service's API model anew and a Python class with a method
per operation (EC2 has about 750), and then each operation's model again on its first call on that client. A
run creates a client per account, region and service, so most calls are first calls: about 5 ms of CPU each
against 1.8 ms on a client that has made the call before, plus 20 to 50 ms for each new client. The run is
bound by that CPU, not by the network (README, Speed).

Clients whose sessions share one data loader (the caller's session and every account's session built from it,
see accounts.assumed_session) share the model and the class here: they read the same files, and the class is
made from nothing but the model and the session's `creating-client-class` handlers, which such sessions have
alike. Sessions with a loader of their own (every session a test or a user builds) share nothing.

Each client also gets its own copy of the session's event emitter, and with it an empty cache of event names
after botocore's aliasing (`before-call.directconnect.X` is `before-call.direct-connect.X`): aliasing a name
takes about 0.15 ms and a call emits a dozen, so a client's first call of an operation spent about 2 ms there.
The aliases are botocore's fixed table, so `share_event_names` gives every client one cache of them.

Each account's session (accounts.assumed_session) is a new botocore session, which registers botocore's
built-in event handlers one by one: about 10 ms of CPU a session (each handler's signature is inspected, each
event name aliased), as much as three of its API calls. `session_event_hooks` registers them once in a process
and gives each new session a copy (about 0.7 ms): the same handlers, in the same order.

botocore has no public hook for any of this: `install` wraps two methods of botocore.client.ClientCreator,
`share_event_names` replaces one attribute of a client's emitter and `session_event_hooks` reads a new
session's emitter, checked for in the pinned botocore (constraints.txt) by tests/test_client_models.py. When a
botocore release no longer has them, clients and sessions are built and emit as botocore makes them: slower,
never wrong.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import Any

import botocore.session
from botocore.client import ClientCreator
from botocore.hooks import EventAliaser, HierarchicalEmitter
from botocore.utils import EVENT_ALIASES

WRAPPED = ("_load_service_model", "_create_client_class")

_lock = threading.Lock()
# loader -> {(service, api_version): ServiceModel}; a loader that is gone takes its models with it.
_models: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], Any]] = weakref.WeakKeyDictionary()
# loader -> {ServiceModel: client class}: per loader too, as a class holds its model (its methods' docstrings do)
_classes: weakref.WeakKeyDictionary[Any, dict[Any, type]] = weakref.WeakKeyDictionary()
# event name -> its name after EVENT_ALIASES, for every client whose emitter aliases with that table
_event_names: dict[str, str] = {}
# the event handlers of a new botocore session, registered once; each new session gets a copy
_session_hooks: list[HierarchicalEmitter] = []


def install(creator: type = ClientCreator) -> bool:
    """Share models and classes from now on in this process (idempotent). False when botocore cannot."""
    with _lock:
        if getattr(creator, "_auditor_shared_models", False):
            return True
        if not all(callable(getattr(creator, name, None)) for name in WRAPPED):
            return False
        load_model = creator._load_service_model  # noqa: SLF001 - see the module docstring
        make_class = creator._create_client_class  # noqa: SLF001

        def _load_service_model(self: Any, service_name: str, api_version: str | None = None) -> Any:
            with _lock:
                per_loader = _models.setdefault(self._loader, {})  # noqa: SLF001
                model = per_loader.get((service_name, api_version))
            if model is None:  # built outside the lock: two threads may both build it, one is kept
                model = load_model(self, service_name, api_version)
                with _lock:
                    model = per_loader.setdefault((service_name, api_version), model)
            return model

        def _create_client_class(self: Any, service_name: str, service_model: Any) -> type:
            with _lock:
                per_loader = _classes.setdefault(self._loader, {})  # noqa: SLF001
                cls = per_loader.get(service_model)
            if cls is None:
                cls = make_class(self, service_name, service_model)
                with _lock:
                    cls = per_loader.setdefault(service_model, cls)
            return cls

        creator._load_service_model = _load_service_model  # noqa: SLF001
        creator._create_client_class = _create_client_class  # noqa: SLF001
        creator._auditor_shared_models = True  # noqa: SLF001
        return True


def share_event_names(client: Any) -> bool:
    """Give the client's event emitter the process's cache of aliased event names. False when it cannot."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if not isinstance(events, EventAliaser) or not isinstance(getattr(events, "_alias_name_cache", None), dict):
        return False
    if getattr(events, "_event_aliases", None) != EVENT_ALIASES:  # another table: its own names
        return False
    events._alias_name_cache = _event_names  # noqa: SLF001 - see the module docstring
    return True


def session_event_hooks() -> HierarchicalEmitter | None:
    """A copy of the event handlers botocore registers in every new session, for a new session's `event_hooks`
    (with include_builtin_handlers=False). None when this botocore's sessions do not keep them where expected."""
    with _lock:
        if not _session_hooks:
            hooks = getattr(botocore.session.Session(), "_original_handler", None)
            if not isinstance(hooks, HierarchicalEmitter):
                return None
            _session_hooks.append(hooks)  # never given out itself: every session changes its own copy
        return copy.copy(_session_hooks[0])
