"""Clients of one run share botocore's API model and client class per service; nothing else is shared."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import boto3
import botocore.credentials
import botocore.handlers
import botocore.hooks
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse

from auditor import client_models
from auditor.accounts import assumed_session
from auditor.aws import Clients

EMPTY_VPCS = b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet/></DescribeVpcsResponse>'


def _session(key: str = "AKIDCALLER", *, own_loader: bool = False) -> boto3.Session:
    """A caller's session; the test suite shares one loader between all sessions (conftest) unless `own_loader`."""
    core = botocore.session.Session()
    if own_loader:
        core.register_component("data_loader", botocore.loaders.Loader())
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key="secret", region_name="us-east-1",
                         botocore_session=core)


def _member(base: boto3.Session, key: str) -> boto3.Session:
    return assumed_session(base, botocore.credentials.Credentials(key, "secret", "token"), "us-east-1")


def _answer_locally(client: Any, sent: list[tuple[str, str]]) -> None:
    """Answer every request in process, recording (whose credentials signed it, URL)."""

    def respond(request: Any, **_: Any) -> AWSResponse:
        authorization = request.headers["Authorization"].decode() if isinstance(
            request.headers["Authorization"], bytes) else request.headers["Authorization"]
        sent.append((authorization.partition("Credential=")[2].split("/")[0], request.url))
        raw = type("Raw", (), {"stream": lambda self, *a, **k: iter([EMPTY_VPCS])})()
        return AWSResponse(request.url, 200, {}, raw)

    client.meta.events.register("before-send", respond)


def test_the_pinned_botocore_has_what_is_wrapped() -> None:
    assert client_models.install() is True
    assert getattr(botocore.client.ClientCreator, "_auditor_shared_models", False) is True


def test_clients_of_one_run_share_model_and_class_across_accounts_and_regions() -> None:
    base = _session()
    caller = Clients(base).get("ec2", "us-east-1")
    first = Clients(_member(base, "AKIDFIRST")).get("ec2", "eu-west-1")
    second = Clients(_member(base, "AKIDSECOND")).get("ec2", "us-east-1")
    assert type(caller) is type(first) is type(second)
    assert caller.meta.service_model is first.meta.service_model is second.meta.service_model
    # what is per client stays per client
    assert first.meta.region_name == "eu-west-1" and second.meta.region_name == "us-east-1"
    assert first.meta.events is not second.meta.events


def test_sessions_with_their_own_loader_share_nothing() -> None:
    one = Clients(_session(own_loader=True)).get("ec2", "us-east-1")
    other = Clients(_session(own_loader=True)).get("ec2", "us-east-1")
    assert type(one) is not type(other)
    assert one.meta.service_model is not other.meta.service_model


def test_shared_clients_sign_with_their_own_credentials_and_reach_their_own_region() -> None:
    base = _session()
    sent: list[tuple[str, str]] = []
    clients = {key: Clients(_member(base, key)).get("ec2", region)
               for key, region in (("AKIDFIRST", "eu-west-1"), ("AKIDSECOND", "us-east-1"))}
    for client in clients.values():
        _answer_locally(client, sent)
    for client in clients.values():
        assert client.describe_vpcs()["Vpcs"] == []
    assert [(key, "eu-west-1" in url) for key, url in sent] == [("AKIDFIRST", True), ("AKIDSECOND", False)]


def test_models_and_classes_go_with_their_loader() -> None:
    base = _session(own_loader=True)
    client = Clients(base).get("ec2", "us-east-1")
    loader = base._session.get_component("data_loader")
    assert loader in client_models._models and loader in client_models._classes
    gone = [weakref.ref(thing) for thing in (loader, client.meta.service_model, type(client))]
    del base, loader, client
    gc.collect()  # the loader: its entries go with it
    gc.collect()  # then what only those entries held
    # nothing here keeps them alive: a client class holds its model (through its methods' docstrings)
    assert [ref() for ref in gone] == [None, None, None]


def test_without_the_wrapped_methods_clients_are_built_as_botocore_builds_them() -> None:
    class Bare:
        pass

    assert client_models.install(Bare) is False
    assert not hasattr(Bare, "_auditor_shared_models")


def test_a_creator_with_them_builds_each_model_and_class_once_per_loader() -> None:
    built: list[str] = []

    class Creator:
        def __init__(self, loader: object) -> None:
            self._loader = loader

        def _load_service_model(self, service_name: str, api_version: str | None = None) -> object:
            built.append(f"model {service_name}")
            return type("Model", (), {})()

        def _create_client_class(self, service_name: str, service_model: object) -> type:
            built.append(f"class {service_name}")
            return type("Client", (), {})

    class Loader:
        pass

    assert client_models.install(Creator) is True
    shared, alone = Loader(), Loader()
    models = [Creator(loader)._load_service_model("ec2") for loader in (shared, shared, alone)]
    classes = [Creator(shared)._create_client_class("ec2", model) for model in models]
    assert models[0] is models[1] and models[2] is not models[0]
    assert classes[0] is classes[1] and classes[2] is not classes[0]
    assert built == ["model ec2", "model ec2", "class ec2", "class ec2"]


def test_clients_share_one_cache_of_aliased_event_names() -> None:
    base = _session()
    first = Clients(_member(base, "AKIDFIRST")).get("directconnect", "eu-west-1")
    second = Clients(_member(base, "AKIDSECOND")).get("ec2", "us-east-1")
    assert first.meta.events._alias_name_cache is second.meta.events._alias_name_cache
    # the handlers stay per client: only the names are shared, and they are still aliased
    fired: list[str] = []
    first.meta.events.register("before-call.directconnect.DescribeConnections",
                               lambda **kwargs: fired.append(kwargs["event_name"]))
    sent: list[tuple[str, str]] = []

    def respond(request: Any, **_: Any) -> AWSResponse:
        sent.append(("", request.url))
        raw = type("Raw", (), {"stream": lambda self, *a, **k: iter([b'{"connections": []}'])})()
        return AWSResponse(request.url, 200, {}, raw)

    first.meta.events.register("before-send", respond)
    assert first.describe_connections()["connections"] == []
    assert fired == ["before-call.direct-connect.DescribeConnections"]
    assert client_models._event_names["before-call.directconnect.DescribeConnections"] == \
        "before-call.direct-connect.DescribeConnections"
    _answer_locally(second, sent)
    assert second.describe_vpcs()["Vpcs"] == [] and fired == ["before-call.direct-connect.DescribeConnections"]


def test_an_emitter_with_other_aliases_keeps_its_own_names() -> None:
    client = Clients(_session()).get("ec2", "us-east-1")
    events = client.meta.events
    events._event_aliases = {"ec2": "elastic-compute"}
    events._alias_name_cache = {}
    assert client_models.share_event_names(client) is False
    assert events._alias_name_cache is not client_models._event_names
    assert client_models.share_event_names(object()) is False


def _handlers(emitter: Any, event_name: str) -> list[Any]:
    return list(emitter._handlers.prefix_search(event_name))


def test_a_new_session_gets_a_copy_of_botocores_own_handlers_and_nothing_else() -> None:
    hooks = client_models.session_event_hooks()
    assert isinstance(hooks, botocore.hooks.HierarchicalEmitter)
    fresh = botocore.session.Session()._original_handler  # a session that registered them itself
    names = {spec[0] for spec in botocore.handlers.BUILTIN_HANDLERS}
    names |= {name.replace(".ec2", ".ec2.DescribeVpcs") for name in names}  # and the operations below them
    assert len(names) > 100
    for name in sorted(names):
        aliased = botocore.hooks.EventAliaser(fresh)._alias_event_name(name)
        assert _handlers(hooks, aliased) == _handlers(fresh, aliased), name
    # each session its own copy: what one registers (its account's guard) is in no other one
    other = client_models.session_event_hooks()
    def guard(**_: Any) -> None:
        pass

    hooks.register("before-call.ec2.DescribeVpcs", guard)
    assert guard in _handlers(hooks, "before-call.ec2.DescribeVpcs")
    assert guard not in _handlers(other, "before-call.ec2.DescribeVpcs")
    assert guard not in _handlers(client_models.session_event_hooks(), "before-call.ec2.DescribeVpcs")


def test_an_accounts_session_has_botocores_handlers_but_none_of_the_callers() -> None:
    base = _session()
    mine: list[str] = []
    base.events.register("before-call.ec2.DescribeVpcs", lambda **kwargs: mine.append("caller"))
    member = _member(base, "AKIDMEMBER")
    events = member._session._original_handler
    assert _handlers(events, "before-parameter-build.ec2") == \
        _handlers(botocore.session.Session()._original_handler, "before-parameter-build.ec2")
    client = Clients(member).get("ec2", "us-east-1")
    sent: list[tuple[str, str]] = []
    _answer_locally(client, sent)
    assert client.describe_vpcs()["Vpcs"] == [] and sent[0][0] == "AKIDMEMBER"
    assert mine == []  # the caller's handler stayed with the caller


def test_accounts_sessions_do_not_add_to_the_shared_loaders_search_paths() -> None:
    base = _session(own_loader=True)
    loader = base._session.get_component("data_loader")
    before = list(loader.search_paths)
    for key in ("AKIDONE", "AKIDTWO", "AKIDTHREE"):
        _member(base, key)
    assert loader.search_paths == before


def test_without_a_sessions_emitter_to_copy_each_session_registers_botocores_handlers(monkeypatch) -> None:
    monkeypatch.setattr(client_models, "session_event_hooks", lambda: None)
    member = _member(_session(), "AKIDMEMBER")
    assert _handlers(member._session._original_handler, "before-parameter-build.ec2") == \
        _handlers(botocore.session.Session()._original_handler, "before-parameter-build.ec2")
    client = Clients(member).get("ec2", "us-east-1")
    sent: list[tuple[str, str]] = []
    _answer_locally(client, sent)
    assert client.describe_vpcs()["Vpcs"] == [] and sent[0][0] == "AKIDMEMBER"
