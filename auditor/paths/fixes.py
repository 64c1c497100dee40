"""The AWS CLI command that would remove each blocker, filled in with the snapshot's ids. Pure text."""

from __future__ import annotations

from auditor.index import Network

TARGET_OPTIONS = {"pcx-": "--vpc-peering-connection-id", "tgw-": "--transit-gateway-id", "vgw-": "--gateway-id",
                  "igw-": "--gateway-id", "nat-": "--nat-gateway-id", "eni-": "--network-interface-id",
                  "vpce-": "--vpc-endpoint-id", "eigw-": "--egress-only-internet-gateway-id"}


def destination_option(destination: Network) -> str:
    flag = "--destination-ipv6-cidr-block" if destination.version == 6 else "--destination-cidr-block"
    return f"{flag} {destination}"


def create_route(table_id: str, destination: Network, target: str | None) -> str:
    if target is None:
        return (f"aws ec2 create-route --route-table-id {table_id} {destination_option(destination)} "
                "--<target-option> <peering, transit gateway or gateway id>")
    option = next((flag for prefix, flag in TARGET_OPTIONS.items() if target.startswith(prefix)), "--gateway-id")
    return f"aws ec2 create-route --route-table-id {table_id} {destination_option(destination)} {option} {target}"


def replace_blackhole(table_id: str, destination: str) -> str:
    flag = "--destination-prefix-list-id" if destination.startswith("pl-") else (
        "--destination-ipv6-cidr-block" if ":" in destination else "--destination-cidr-block")
    return (f"aws ec2 replace-route --route-table-id {table_id} {flag} {destination} --<target-option> <live target>"
            f"  (or: aws ec2 delete-route --route-table-id {table_id} {flag} {destination})")


def peer_vpcs(vpc_id: str, peer_vpc_id: str | None) -> str:
    if peer_vpc_id is None:
        return ("peering is not transitive: connect the customer network to the VPC through its own VPN or a "
                "transit gateway")
    return (f"aws ec2 create-vpc-peering-connection --vpc-id {vpc_id} --peer-vpc-id {peer_vpc_id}  "
            "(peering is not transitive: peer the two VPCs directly, or route both through a transit gateway)")


def activate_peering(pcx_id: str, status: str) -> str:
    if status == "pending-acceptance":
        return f"aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id {pcx_id}"
    return f"recreate the peering: aws ec2 create-vpc-peering-connection (this one is {status})"


def attach_vpc(tgw_id: str, vpc_id: str) -> str:
    return (f"aws ec2 create-transit-gateway-vpc-attachment --transit-gateway-id {tgw_id} --vpc-id {vpc_id} "
            "--subnet-ids <one subnet per Availability Zone>")


def associate(table_id: str | None, attachment_id: str) -> str:
    return (f"aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id "
            f"{table_id or '<tgw-rtb-id>'} --transit-gateway-attachment-id {attachment_id}")


def tgw_route(table_id: str, destination: Network, attachment_id: str | None) -> str:
    if attachment_id is None:
        return (f"aws ec2 create-transit-gateway-route --transit-gateway-route-table-id {table_id} "
                f"--destination-cidr-block {destination} --transit-gateway-attachment-id <attachment id>")
    return (f"aws ec2 create-transit-gateway-route --transit-gateway-route-table-id {table_id} "
            f"--destination-cidr-block {destination} --transit-gateway-attachment-id {attachment_id}  (or: aws ec2 "
            f"enable-transit-gateway-route-table-propagation --transit-gateway-route-table-id {table_id} "
            f"--transit-gateway-attachment-id {attachment_id})")


def replace_tgw_blackhole(table_id: str, destination: str) -> str:
    return (f"aws ec2 replace-transit-gateway-route --transit-gateway-route-table-id {table_id} "
            f"--destination-cidr-block {destination} --transit-gateway-attachment-id <attachment id>")


def acl_entry(acl_id: str, *, egress: bool, peer: Network, protocol: str, ports: tuple[int, int]) -> str:
    port_range = f" --port-range From={ports[0]},To={ports[1]}" if protocol in ("6", "17") else ""
    cidr = f"--ipv6-cidr-block {peer}" if peer.version == 6 else f"--cidr-block {peer}"
    return (f"aws ec2 create-network-acl-entry --network-acl-id {acl_id} --rule-number <number below the deny> "
            f"{'--egress' if egress else '--ingress'} --protocol {protocol}{port_range} {cidr} --rule-action allow")


def group_rule(group_id: str, *, egress: bool, peer: Network, protocol: str, ports: tuple[int, int]) -> str:
    verb = "egress" if egress else "ingress"
    if protocol == "-1":  # "any": opening every protocol and port is not the advice; name the service instead
        return (f"aws ec2 authorize-security-group-{verb} --group-id {group_id} --protocol <tcp|udp> --port <port> "
                f"--cidr {peer}  (the question was about all traffic: ask about one service with --protocol and "
                "--port)")
    name = {"6": "tcp", "17": "udp", "1": "icmp", "-1": "-1"}.get(protocol, protocol)
    port = f" --port {ports[0]}" if ports[0] == ports[1] else f" --port {ports[0]}-{ports[1]}"
    port = port if protocol in ("6", "17") else ""
    if peer.version == 6:
        return (f"aws ec2 authorize-security-group-{verb} --group-id {group_id} --ip-permissions "
                f"IpProtocol={name},FromPort={ports[0]},ToPort={ports[1]},Ipv6Ranges=[{{CidrIpv6={peer}}}]")
    return f"aws ec2 authorize-security-group-{verb} --group-id {group_id} --protocol {name}{port} --cidr {peer}"
