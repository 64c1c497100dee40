"""Collection speed: several accounts and regions behind a ~50 ms latency proxy, concurrent against sequential.

    .venv/bin/python bench/collect_bench.py                # 3 accounts x 2 regions, 50 ms a request
    .venv/bin/python bench/collect_bench.py --latency 0.1
    .venv/bin/python bench/collect_bench.py --tls            # HTTPS, as AWS's endpoints speak it

A moto server (its own process, on 127.0.0.1) holds 3 member accounts x 2 regions, each with a small but
complete network. A forwarding proxy on 127.0.0.1 (asyncio, in a process of its own) holds every request
`--latency` seconds before passing it on, and counts them. With --tls it speaks HTTPS, with a certificate of a
test CA, and AWS_CA_BUNDLE is certifi's CAs with that CA added (tests/tls_certs.py): each new connection then
costs a TLS handshake and its certificate check, as with AWS. The real collection (auditor.collect.collect,
AssumeRole into each account) runs through AWS_ENDPOINT_URL=proxy:

  (a) concurrent, default settings (--max-workers: 32 per worker process the run may use; 16 per region; two
      worker processes per CPU), and the same in one process (--processes 1: --max-workers 64) beside it;
  (b) sequential (--max-workers 1: one call at a time);
  (c) each account and region alone, without any bound (256): the slowest is the critical path of a region.

(a) and (c) run --runs times (default 5), interleaved, and are compared best against best and median against
median: this shared machine's spread from run to run is about 30%.

Targets (issue 5): API calls equal to the minimum the resources require; (a) within 1.5 times (c);
(a) at least 10 times faster than (b). AWS_MAX_ATTEMPTS=1: moto answers what it does not implement with
HTTP 500, which botocore would otherwise retry; with one attempt each of those keys costs exactly one call.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import multiprocessing
import os
import resource
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOOPBACK = "127.0.0.1"
TAKE_PATH = "/__bench/take"
LATENCY_PATH = "/__bench/latency/"  # followed by the new latency in seconds
ROLE = "NetworkAudit"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
HOME = "us-east-1"

os.environ.update(
    AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=HOME,
    AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard", AWS_EC2_METADATA_DISABLED="true",
    NO_PROXY=LOOPBACK, no_proxy=LOOPBACK,
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
    os.environ.pop(_name, None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _serve_moto(port: int) -> None:
    from moto.server import ThreadedMotoServer

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    threading.Event().wait()


def start_moto() -> tuple[str, multiprocessing.Process]:
    """moto in a process of its own, so its CPU time does not share the collection's interpreter."""
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(target=_serve_moto, args=(port,), daemon=True)
    process.start()
    url = f"http://{LOOPBACK}:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=2):
                return url, process
        except OSError:
            time.sleep(0.05)
    raise SystemExit("moto server did not start")


def read_beside(network: Any, region: str) -> tuple[Any, float, Counter[str]]:
    """(collection, seconds, error codes in `region`) of the caller's account in HOME and `region`, read in one
    process by a session whose requests first meet `network` (a `before-send` handler standing for what lies
    between the run and AWS)."""
    import boto3

    from auditor.collect import collect

    session = boto3.Session(region_name=HOME)
    session.events.register("before-send", network)
    started = time.perf_counter()
    collected = collect(session, [HOME, region], max_processes=1)
    seconds = time.perf_counter() - started
    return collected, seconds, Counter(e["code"] for e in collected.document["errors"] if e["region"] == region)


def stop(proxy: ProxyProcess | None, moto_process: multiprocessing.Process) -> None:
    """End the proxy (if it was started) and moto."""
    if proxy is not None:
        proxy.process.terminate()
    moto_process.terminate()
    moto_process.join(timeout=10)


class LatencyProxy:
    """An HTTP/1.1 forwarding proxy on 127.0.0.1, on asyncio: every request waits `latency` seconds, and is counted.

    It stands for the network, which costs the client's machine no CPU, so it is kept cheap: one event loop, no
    thread per connection, headers split by hand. (The threaded http.server it replaces spent about 0.7 ms of CPU
    a request, a tenth of what the two cores had to give to the collection.)
    """

    def __init__(self, upstream_port: int, latency: float, replay: bool = True, port: int = 0,
                 tls: tuple[str, str] | None = None) -> None:
        self.upstream_port = upstream_port
        self.tls = tls  # (certificate, key) files: serve HTTPS
        self.latency = latency
        self.replay = replay
        self.port = port
        self.cache: dict[tuple[str, str, str, bytes], bytes] = {}
        self.replayed = 0
        self.requests = 0
        self.connections = 0  # opened by the client: with --tls, a handshake each
        self.cpu_mark = time.process_time()
        self.operations: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.local = threading.local()

    def take(self) -> tuple[int, int, float, int]:
        """(requests, of which replayed, CPU seconds this process spent, connections opened) since the last take."""
        with self.lock:
            count, self.requests = self.requests, 0
            replayed, self.replayed = self.replayed, 0
            cpu, self.cpu_mark = time.process_time() - self.cpu_mark, time.process_time()
            connections, self.connections = self.connections, 0
            return count, replayed, cpu, connections

    def serve_forever(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        context = None
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls)
        server = await asyncio.start_server(self._connection, LOOPBACK, self.port, backlog=512, ssl=context)
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # One write per response, but still: without this, Nagle's algorithm and the client's delayed ACK can add
        # about 40 ms to a response, on top of the latency asked for.
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = dict(line.split(":", 1) for line in header_lines)
                lowered = {name.strip().lower(): value.strip() for name, value in headers.items()}
                body = await reader.readexactly(int(lowered.get("content-length") or 0))
                writer.write(await self._answer(method, path, headers, lowered, body))
                await writer.drain()
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, headers: dict[str, str], lowered: dict[str, str],
                      body: bytes) -> bytes:
        if path == TAKE_PATH:  # the benchmark asking for the counts (not a request to measure)
            counts = json.dumps(dict(zip(("requests", "replayed", "cpu", "connections"), self.take(),
                                         strict=True))).encode()
            return _response(200, [], counts)
        if path.startswith(LATENCY_PATH):  # the benchmark setting the latency of the requests from now on
            self.latency = float(path[len(LATENCY_PATH):])
            return _response(200, [], b"")
        target = lowered.get("x-amz-target", "")
        action = target.rsplit(".", 1)[-1] if target else next(
            (part[7:] for part in body.decode(errors="replace").split("&") if part.startswith("Action=")), "?")
        with self.lock:
            self.requests += 1
            self.operations[action] += 1
        await asyncio.sleep(self.latency)
        # The same request from the same credentials (key id, region, service: the date left out) gets the
        # answer moto gave the first time, so moto's own CPU time is not what is measured.
        scope = lowered.get("authorization", "").partition("Credential=")[2].split(",")[0].split("/")
        key = ("/".join(scope[:1] + scope[2:4]), method, path, body)
        cached = self.cache.get(key) if self.replay else None
        if cached is not None:
            with self.lock:
                self.replayed += 1
            return cached
        forwarded = {name.strip(): value.strip() for name, value in headers.items()
                     if name.strip().lower() not in ("connection", "keep-alive")}
        answer = await asyncio.get_running_loop().run_in_executor(None, self._upstream, method, path, forwarded, body)
        self.cache[key] = answer
        return answer

    def _upstream(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        """moto's answer, through this thread's own connection to it (the first pass only: then replayed)."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(LOOPBACK, self.upstream_port, timeout=60)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        kept = [(name, value) for name, value in response.getheaders()
                if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date")]
        return _response(response.status, kept, response.read())


def _response(status: int, headers: list[tuple[str, str]], payload: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{name}: {value}" for name, value in headers),
             f"Content-Length: {len(payload)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + payload


def _serve_proxy(upstream_port: int, latency: float, replay: bool, port: int, tls: tuple[str, str] | None) -> None:
    LatencyProxy(upstream_port, latency, replay, port, tls).serve_forever()


class ProxyProcess:
    """The latency proxy in a process of its own, as the network would be: holding requests costs the
    collection's interpreter nothing (in its process, the proxy's HTTP handling took a share of its CPU)."""

    def __init__(self, upstream_port: int, latency: float, replay: bool, tls: Any = None) -> None:
        """`tls`: tests.tls_certs.TlsFiles, to serve HTTPS with its certificate (and ask for counts trusting it)."""
        port = _free_port()
        self.url = f"{'https' if tls else 'http'}://{LOOPBACK}:{port}"
        self.context = ssl.create_default_context(cafile=str(tls.ca)) if tls else None
        self.last_replayed = 0
        self.last_cpu = 0.0
        self.last_connections = 0
        served = (str(tls.cert), str(tls.key)) if tls else None
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve_proxy, args=(upstream_port, latency, replay, port, served), daemon=True)
        self.process.start()
        for _ in range(200):
            try:
                self.take()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("latency proxy did not start")

    def set_latency(self, seconds: float) -> None:
        """Hold each request `seconds` from now on."""
        with urllib.request.urlopen(f"{self.url}{LATENCY_PATH}{seconds}", timeout=5, context=self.context):
            pass

    def take(self) -> int:
        with urllib.request.urlopen(f"{self.url}{TAKE_PATH}", timeout=5, context=self.context) as response:
            counts = json.loads(response.read())
        self.last_replayed = counts["replayed"]
        self.last_cpu = counts["cpu"]
        self.last_connections = counts["connections"] - 1  # not the one this asked on
        return int(counts["requests"])


def add_tls_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls", action="store_true", help="the proxy speaks HTTPS (a test CA's certificate)")


def start_proxy(moto_url: str, latency: float, *, replay: bool = True, tls: bool = False) -> ProxyProcess:
    """The latency proxy in front of the moto server at `moto_url`; with `tls`, over HTTPS (see tls_files)."""
    return ProxyProcess(int(moto_url.rsplit(":", 1)[1]), latency, replay, tls_files() if tls else None)


def tls_files() -> Any:
    """A test CA's certificate for the proxy, and AWS_CA_BUNDLE set to certifi's CAs with that CA added."""
    from tests import tls_certs

    files = tls_certs.make(Path(tempfile.mkdtemp(prefix="auditor-bench-tls-")))
    os.environ["AWS_CA_BUNDLE"] = str(files.bundle)
    return files


def _client(url: str, service: str, account_id: str, region: str) -> Any:
    import boto3

    sts = boto3.client("sts", region_name=HOME, endpoint_url=url)
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}",
                                  RoleSessionName="seed")["Credentials"]
    return boto3.client(service, region_name=region, endpoint_url=url,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def seed(url: str, accounts: tuple[str, ...] = ACCOUNTS) -> Counter[str]:
    """Per account and region: 3 VPCs, 6 subnets, route tables with routes, 2 peerings, gateway and interface
    endpoints, an NLB behind an endpoint service with a permission, a prefix list, IGW, NAT, a network interface
    (moto adds the NAT's and the interface endpoint's), a TGW with a route table and two VPC attachments, a VPN.
    Returns what was created, counted by kind. (Past 12 accounts, their CIDRs repeat: nothing reads them across.)"""
    created: Counter[str] = Counter()
    for n, account_id in enumerate(accounts):
        for r, region in enumerate(REGIONS):
            created += seed_region(url, account_id, region, n % 12, r, accounts[(n + 1) % len(accounts)])
    return created


def seed_region(url: str, account_id: str, region: str, n: int, r: int, allowed: str) -> Counter[str]:
    """One account's region (see seed): its CIDRs are 10.(20n + 10r + v).0.0/16 for VPC v; its endpoint service
    allows the account `allowed`."""
    created: Counter[str] = Counter()
    ec2 = _client(url, "ec2", account_id, region)
    elbv2 = _client(url, "elbv2", account_id, region)
    az = f"{region}a"
    vpcs, subnets = [], []
    for v in range(3):
        vpc = ec2.create_vpc(CidrBlock=f"10.{n * 20 + r * 10 + v}.0.0/16")["Vpc"]["VpcId"]
        vpcs.append(vpc)
        for s in range(2):
            subnets.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n * 20 + r * 10 + v}.{s}.0/24",
                                             AvailabilityZone=az)["Subnet"]["SubnetId"])
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[-1])
        created.update(vpc=1, subnet=2, route_table=1)
    for a, b in ((0, 1), (1, 2)):
        pcx = ec2.create_vpc_peering_connection(VpcId=vpcs[a], PeerVpcId=vpcs[b])["VpcPeeringConnection"]
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
        created.update(peering=1)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpcs[0])
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)
    ec2.create_network_interface(SubnetId=subnets[1], Description="app server")
    ec2.create_managed_prefix_list(PrefixListName="onprem", MaxEntries=5, AddressFamily="IPv4",
                                   Entries=[{"Cidr": "172.16.0.0/12"}])
    ec2.create_vpc_endpoint(VpcId=vpcs[0], ServiceName=f"com.amazonaws.{region}.s3",
                            VpcEndpointType="Gateway")
    ec2.create_vpc_endpoint(VpcId=vpcs[1], ServiceName=f"com.amazonaws.{region}.sts",
                            VpcEndpointType="Interface", SubnetIds=[subnets[2]])
    nlb = elbv2.create_load_balancer(Name=f"nlb-{n}-{r}", Type="network", Scheme="internal",
                                     Subnets=[subnets[4]])["LoadBalancers"][0]["LoadBalancerArn"]
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb], AcceptanceRequired=True)["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service, AddAllowedPrincipals=[f"arn:aws:iam::{allowed}:root"])
    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
    tgw_table = ec2.create_transit_gateway_route_table(
        TransitGatewayId=tgw)["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    for v in (0, 2):
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=vpcs[v], SubnetIds=[subnets[v * 2]],
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=tgw_table,
                                         DestinationCidrBlock=f"10.{n * 20 + r * 10 + v}.0.0/16",
                                         TransitGatewayAttachmentId=attachment)
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpcId=vpcs[2], VpnGatewayId=vgw)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65000,
                                      PublicIp=f"203.0.113.{n * 2 + r + 1}")["CustomerGateway"]
    ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"],
                              VpnGatewayId=vgw, Options={"StaticRoutesOnly": True})
    created.update(igw=1, nat=1, network_interface=1, prefix_list=1, endpoint=2, endpoint_service=1, tgw=1,
                   tgw_route_table=1, tgw_attachment=2, vpn=1)
    return created


# Calls one parent item costs each child key: everything not listed is one (paginated, never paged by moto).
PER_PARENT_CALLS = {"ec2:VpcDnsAttributes": 2}  # enableDnsSupport and enableDnsHostnames


def minimum_calls(document: dict[str, Any], accounts: int, assumed: bool = True) -> tuple[int, Counter[str]]:
    """The fewest calls that can read what the snapshot holds: per account and region one call per root key
    (one page each), per parent item the child's calls; plus GetCallerIdentity, and per account AssumeRole
    (unless `assumed` is False: the caller's own account) and DescribeRegions. A key that failed (moto does not
    implement it) cost its one call; its children were not read, so cost nothing."""
    from auditor.collect.registry import GLOBAL_REGION_KEY, REGISTRY

    parts: Counter[str] = Counter(setup=1 + (2 if assumed else 1) * accounts)
    failed = {(e["account_id"], e["region"], e["key"]) for e in document["errors"] if not e.get("resource_id")}
    for account_id, account in document["accounts"].items():
        for region, data in account["regions"].items():
            for collector in REGISTRY.values():
                if (collector.scope == "global") != (region == GLOBAL_REGION_KEY):
                    continue
                if collector.parent is None:
                    parts["list pages"] += 1
                    continue
                parent_read = collector.parent in data
                if not parent_read and (account_id, region, collector.parent) in failed:
                    continue
                parents = len(data.get(collector.parent, []))
                if collector.batched:  # one call for all its parents, when one of them needs it at all
                    parts[f"batched {collector.key.split(':')[1]}"] += int(bool(data.get(collector.key)))
                    continue
                parts[f"per {collector.parent.split(':')[1]}: {collector.key.split(':')[1]}"] += \
                    parents * PER_PARENT_CALLS.get(collector.key, 1)
    return sum(parts.values()), parts


class Run(NamedTuple):
    seconds: float
    collected: Any
    requests: int  # at the proxy
    cpu: float  # CPU seconds of the collection: this process and its worker processes
    proxy_cpu: float  # CPU seconds the proxy spent meanwhile
    connections: int  # opened to the proxy


def run(proxy: ProxyProcess, *, accounts: tuple[str, ...], regions: tuple[str, ...],
        max_workers: int | None, per_account: int | None, processes: int | None = None) -> Run:
    import boto3

    from auditor.account_request import AccountRequest
    from auditor.collect import collect

    # Each run starts as a new process would: without the garbage of the runs before it. Left in place, an
    # earlier run's sessions and models (about 150,000 objects) were collected inside the next run's timing.
    gc.collect()
    session = boto3.Session(region_name=HOME)
    proxy.take()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    collected = collect(session, list(regions), max_workers=max_workers, max_workers_per_account=per_account,
                        accounts=AccountRequest(role_name=ROLE, account_ids=accounts), max_processes=processes)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before  # this process and its workers (joined by now)
    return Run(seconds, collected, proxy.take(), cpu, proxy.last_cpu, proxy.last_connections)


def _cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and of its children that have ended."""
    return sum(usage.ru_utime + usage.ru_stime
               for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _spread(times: list[float]) -> str:
    return f"best {min(times):5.2f} s, median {statistics.median(times):5.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each request is held (default 0.05)")
    parser.add_argument("--no-replay", dest="replay", action="store_false",
                        help="send every request to moto (its CPU time, about 20 ms a request here, then dominates)")
    parser.add_argument("--runs", type=int, default=5, help="runs of (a) and of each region alone (default 5)")
    add_tls_flag(parser)
    args = parser.parse_args()

    moto_url, moto_process = start_moto()
    proxy: ProxyProcess | None = None
    try:
        created = seed(moto_url)
        proxy = start_proxy(moto_url, args.latency, replay=args.replay, tls=args.tls)
        os.environ["AWS_ENDPOINT_URL"] = proxy.url
        print(f"moto on {moto_url}, latency proxy on {proxy.url} ({args.latency * 1000:.0f} ms a request), "
              f"AWS_MAX_ATTEMPTS=1, {os.cpu_count()} CPUs")
        print(f"seeded {len(ACCOUNTS)} accounts x {len(REGIONS)} regions: "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(created.items())))

        from auditor.collect import max_workers_default, per_region_default

        default: dict[str, Any] = {"max_workers": None, "per_account": None}
        total = max_workers_default()
        # Warm-up: the first pass through moto, one call at a time (moto's server can answer HTTP 500 when it builds
        # an account's backend for two requests at once; the proxy would replay that), then every region alone.
        run(proxy, accounts=ACCOUNTS, regions=REGIONS, max_workers=1, per_account=None)
        for account_id in ACCOUNTS:
            for region in REGIONS:
                run(proxy, accounts=(account_id,), regions=(region,), max_workers=256, per_account=256)
        # Interleaved, so that the machine's slow and fast spells fall on every kind of run alike.
        concurrent_runs: list[Run] = []
        one_process_times: list[float] = []
        alone: dict[tuple[str, str], list[float]] = {(a, r): [] for a in ACCOUNTS for r in REGIONS}
        alone_connections: dict[tuple[str, str], int] = {}
        for _ in range(args.runs):
            concurrent_runs.append(run(proxy, accounts=ACCOUNTS, regions=REGIONS, **default))
            replayed = proxy.last_replayed
            one_process_times.append(run(proxy, accounts=ACCOUNTS, regions=REGIONS, processes=1, **default).seconds)
            for account_id, region in alone:
                one = run(proxy, accounts=(account_id,), regions=(region,), max_workers=256, per_account=256)
                alone[(account_id, region)].append(one.seconds)
                alone_connections[(account_id, region)] = one.connections
        concurrent, concurrent_requests = concurrent_runs[-1].collected, concurrent_runs[-1].requests
        concurrent_times = [r.seconds for r in concurrent_runs]
        sequential_s, sequential, sequential_requests, *_ = run(proxy, accounts=ACCOUNTS, regions=REGIONS,
                                                                max_workers=1, per_account=None)
        # The slowest region is the one whose own best (and own median) is the highest.
        slowest = max(alone, key=lambda key: min(alone[key]))
        critical_best = min(alone[slowest])
        critical_median = max(statistics.median(times) for times in alone.values())
        concurrent_best, concurrent_median = min(concurrent_times), statistics.median(concurrent_times)
        minimum, parts = minimum_calls(concurrent.document, len(ACCOUNTS))

        same = concurrent.document["accounts"] == sequential.document["accounts"]
        if args.replay:
            print(f"\nreplayed from the first pass through moto: {replayed} of {concurrent_requests} requests in (a)")
        print(f"(a) concurrent, defaults (--max-workers {total}, per region "
              f"{per_region_default(total)}, {concurrent.processes} worker processes): "
              f"{_spread(concurrent_times)}; {concurrent.api_calls} API calls counted by the guard, "
              f"{concurrent_requests} requests at the proxy")
        print(f"    the same in one process (--processes 1):    {_spread(one_process_times)}")
        cpu = statistics.median(r.cpu for r in concurrent_runs)
        proxy_cpu = statistics.median(r.proxy_cpu for r in concurrent_runs)
        cpus = os.cpu_count() or 1
        print(f"    CPU time of (a), median: {cpu:.2f} s in the collection's processes, {proxy_cpu:.2f} s in the "
              f"proxy; on {cpus} CPUs that alone takes {(cpu + proxy_cpu) / cpus:.2f} s; "
              f"{statistics.median(r.connections for r in concurrent_runs):.0f} connections opened (median)")
        print(f"(b) sequential, --max-workers 1:                {sequential_s:5.2f} s, "
              f"{sequential.api_calls} API calls, {sequential_requests} requests; same snapshot as (a): {same}")
        print(f"(c) slowest region alone ({slowest[0]} {slowest[1]}, unbounded): best {critical_best:5.2f} s; "
              f"the highest median of any region {critical_median:5.2f} s "
              f"(fastest region's best {min(min(times) for times in alone.values()):.2f} s); "
              f"{alone_connections[slowest]} connections opened")
        print(f"\nminimum calls for these resources: {minimum} = "
              + " + ".join(f"{n} {part}" for part, n in sorted(parts.items()) if n))
        errors = Counter(f"{e['key']} {e['code']}" for e in concurrent.document["errors"])
        print(f"keys moto does not serve (one call each, then an error record): {sum(errors.values())} "
              f"({len(errors)} kinds)")
        print(f"\ntargets ({args.runs} runs each, best against best and median against median):")
        print(f"  API calls = minimum:              {concurrent.api_calls} vs {minimum}: "
              f"{'met' if concurrent.api_calls == minimum else 'NOT met'}")
        for label, wall, critical in (("best", concurrent_best, critical_best),
                                      ("median", concurrent_median, critical_median)):
            print(f"  wall <= 1.5 x slowest region ({label}):   {wall / critical:.2f} x: "
                  f"{'met' if wall <= 1.5 * critical else 'NOT met'}")
        for label, wall in (("best", concurrent_best), ("median", concurrent_median)):
            print(f"  >= 10 x faster than sequential ({label}): {sequential_s / wall:.1f} x: "
                  f"{'met' if sequential_s >= 10 * wall else 'NOT met'}")
    finally:
        stop(proxy, moto_process)


if __name__ == "__main__":
    main()
