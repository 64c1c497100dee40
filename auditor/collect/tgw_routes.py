"""Read every route of a transit gateway route table, although one search returns at most 1,000.

SearchTransitGatewayRoutes needs a filter and stops at 1,000 routes with AdditionalRoutesAvailable
(newer API versions also page with NextToken, which is followed). When a search is truncated it
is split: by route type, then by destination prefix (the exact prefix, and each half below it),
until no search is truncated. A /32 or /128 that is still truncated cannot be split: reported.

No destination-prefix filter matches a route whose destination is a prefix list, so after a split
those routes are searched by their prefix lists' ids, which GetTransitGatewayPrefixListReferences
lists for the table. When that call fails, the table is reported incomplete, with the reason.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.collect.context import CallContext

MAX_SEARCHES_PER_TABLE = 600
PREFIX_LISTS_PER_SEARCH = 200  # values of one filter
ROUTE_TYPES = ("static", "propagated")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Search:
    def __init__(self, ctx: CallContext, table_id: str) -> None:
        self.ctx = ctx
        self.table_id = table_id
        self.calls = 0
        self.complete = True
        self.reason = ""  # why the routes are incomplete, when it is not a search that stayed truncated
        self.routes: dict[tuple[str, str, str], dict[str, Any]] = {}

    def run(self, *filters: dict[str, Any]) -> bool:
        """Search once (following NextToken); keep the routes; True when the result was truncated."""
        # MaxResults is left at the API's default (1,000, the maximum); moto 5.2.5 fails when it is set.
        params: dict[str, Any] = {"TransitGatewayRouteTableId": self.table_id, "Filters": list(filters)}
        while True:
            if self.calls >= MAX_SEARCHES_PER_TABLE:
                self.complete = False
                return False
            self.calls += 1
            response = self.ctx.client.search_transit_gateway_routes(**params)
            for route in response.get("Routes", []):
                identity = (route.get("DestinationCidrBlock", ""), route.get("PrefixListId", ""),
                            route.get("Type", ""))
                self.routes[identity] = route
            if not response.get("NextToken"):
                return bool(response.get("AdditionalRoutesAvailable"))
            params["NextToken"] = response["NextToken"]

    def by_prefix(self, route_type: str, network: Network) -> None:
        type_filter = {"Name": "type", "Values": [route_type]}
        self.run(type_filter, {"Name": "route-search.exact-match", "Values": [str(network)]})
        for half in network.subnets(prefixlen_diff=1):
            truncated = self.run(type_filter, {"Name": "route-search.subnet-of-match", "Values": [str(half)]})
            if not truncated:
                continue
            if half.prefixlen >= half.max_prefixlen:
                self.complete = False
            else:
                self.by_prefix(route_type, half)


    def by_prefix_lists(self) -> None:
        """The routes to the prefix lists the table references, a search per group of prefix list ids."""
        operation = "GetTransitGatewayPrefixListReferences"
        try:
            references = self.ctx.items(operation, "TransitGatewayPrefixListReferences",
                                        TransitGatewayRouteTableId=self.table_id)
        except Exception as error:  # noqa: BLE001 - recorded; the table is then known to be incomplete
            self.ctx.record(operation, error, self.table_id)
            self.complete = False
            self.reason = (f"its routes to prefix lists could not be listed ({operation} failed: "
                           f"{self.ctx.errors[-1].code}); the routes stored for this table are incomplete")
            return
        ids = sorted({str(reference["PrefixListId"]) for reference in references if reference.get("PrefixListId")})
        for start in range(0, len(ids), PREFIX_LISTS_PER_SEARCH):
            group = ids[start:start + PREFIX_LISTS_PER_SEARCH]
            if not self.run({"Name": "prefix-list-id", "Values": group}):
                continue
            if len(group) == 1:
                self.complete = False
                continue
            for prefix_list_id in group:
                if self.run({"Name": "prefix-list-id", "Values": [prefix_list_id]}):
                    self.complete = False


def search_all_routes(ctx: CallContext, table_id: str) -> tuple[list[dict[str, Any]], bool, str]:
    """(every route of the table, whether the list is known to be complete, why not when it is not a search
    that stayed truncated)."""
    search = _Search(ctx, table_id)
    if search.run({"Name": "type", "Values": list(ROUTE_TYPES)}):
        for route_type in ROUTE_TYPES:
            if search.run({"Name": "type", "Values": [route_type]}):
                search.by_prefix(route_type, ipaddress.ip_network("0.0.0.0/0"))
                search.by_prefix(route_type, ipaddress.ip_network("::/0"))
        # A search split by destination prefix never returns a route whose destination is a prefix list.
        search.by_prefix_lists()
    routes = sorted(search.routes.values(), key=lambda r: (
        r.get("DestinationCidrBlock", ""), r.get("PrefixListId", ""), r.get("Type", "")))
    return routes, search.complete, search.reason
