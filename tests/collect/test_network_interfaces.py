"""ec2:NetworkInterfaces against botocore's Stubber: every page read, every kind of interface kept verbatim.

moto 5.2.5 never pages and calls every interface `interface`; AWS pages, and marks the interfaces it manages
for a service (endpoints, NAT gateways, load balancers) with their own InterfaceType and attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from auditor.aws import Clients
from auditor.collect.registry import REGISTRY
from auditor.collect.runner import AccountCollection, collect_account
from tests.collect.stub_data import ACCOUNT_ID, HOME, WHEN, instance_interface, rid

KEY = "ec2:NetworkInterfaces"
Item = dict[str, Any]


def endpoint_interface(n: int) -> Item:
    """An interface endpoint's interface: managed by AWS, attached to no instance of the account."""
    address = f"10.1.2.{10 + n}"
    return {"NetworkInterfaceId": rid("eni", n), "InterfaceType": "vpc_endpoint", "Status": "in-use",
            "SubnetId": rid("subnet", 2), "VpcId": rid("vpc", 1), "AvailabilityZone": "us-east-1b",
            "Description": f"VPC Endpoint Interface {rid('vpce', n)}", "OwnerId": ACCOUNT_ID,
            "RequesterManaged": True, "SourceDestCheck": True, "MacAddress": f"12:4d:6e:8f:a0:{n:02x}",
            "PrivateIpAddress": address, "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": address}],
            "Ipv6Addresses": [], "Groups": [{"GroupId": rid("sg", 9), "GroupName": "endpoints"}],
            "Attachment": {"AttachmentId": rid("ela-attach", n), "AttachTime": WHEN, "DeleteOnTermination": False,
                           "DeviceIndex": 1, "NetworkCardIndex": 0, "InstanceOwnerId": "amazon-aws",
                           "Status": "attached"},
            "TagSet": []}


def refuse_send(**_: Any) -> None:
    raise RuntimeError("a request reached the network layer: the client was not stubbed")


@pytest.fixture
def clients() -> Clients:
    session = boto3.Session(region_name=HOME)
    session.events.register("before-send", refuse_send)
    return Clients(session)


@pytest.fixture
def ec2(clients: Clients) -> Iterator[Stubber]:
    with Stubber(clients.get("ec2", HOME)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def collect(clients: Clients) -> AccountCollection:
    return collect_account(clients, ACCOUNT_ID, [HOME], HOME, collectors=[REGISTRY[KEY]], max_workers=1)


def test_every_page_is_read_and_items_are_stored_verbatim_in_id_order(clients: Clients, ec2: Stubber) -> None:
    endpoint, instance = endpoint_interface(2), instance_interface(1)
    ec2.add_response("describe_network_interfaces", {"NetworkInterfaces": [endpoint], "NextToken": "page-2"}, {})
    ec2.add_response("describe_network_interfaces", {"NetworkInterfaces": [instance]}, {"NextToken": "page-2"})

    result = collect(clients)

    assert result.regions[HOME][KEY] == [instance_interface(1), endpoint_interface(2)]
    assert result.errors == []
    assert clients.calls == 2


def test_a_denied_read_is_an_error_and_the_key_is_absent(clients: Clients, ec2: Stubber) -> None:
    message = "You are not authorized to perform this operation."
    ec2.add_client_error("describe_network_interfaces", "UnauthorizedOperation", message, 403, expected_params={})

    result = collect(clients)

    assert KEY not in result.regions[HOME]
    assert [error.as_dict() for error in result.errors] == [{
        "account_id": ACCOUNT_ID, "region": HOME, "key": KEY, "operation": "DescribeNetworkInterfaces",
        "code": "UnauthorizedOperation", "message": message}]
