"""Discovery cost: raw JSON pages through the boundary vs the SDK's typed models, same tenant.

    .venv/bin/python -m bench.graph_discovery [--users 3000]

Runs the Entra emulator in-process (tests/emulator). graph-facts.md says model parsing costs
11-15 ms per User; the raw path should be bounded by HTTP and JSON decoding.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from redis import Redis

from jobs.graph import GraphBoundary, GraphSettings, UsersClient
from jobs.graph.delta import read_page
from jobs.graph.delta_mirror import DeltaMirror, full_round_url
from tests.emulator.server import EntraEmulator

SELECT = ["id", "userPrincipalName", "mail", "displayName", "onPremisesImmutableId"]


def raw(boundary: GraphBoundary) -> int:
    return sum(1 for _ in UsersClient(boundary).discover(select=SELECT))


def delta(boundary: GraphBoundary) -> int:
    """A full users delta round, raw pages: what full-sync discovery reads per page
    (jobs/fullsync/discover.py read_page; user-delta)."""
    url: str | None = full_round_url(boundary, "users", SELECT)
    count = 0
    while url:
        page = read_page(boundary, url)
        count += len(page.get("value", []))
        url = page.get("@odata.nextLink")
    return count


def mirrored(boundary: GraphBoundary, redis_url: str = "redis://127.0.0.1:6379/7") -> int:
    """That round kept in a Redis mirror with two match-key indexes, as discovery keeps it."""
    mirror = DeltaMirror(Redis.from_url(redis_url), "users",
                         prefix=f"bench:mirror:{uuid.uuid4().hex}",
                         index_keys=("mail", "userPrincipalName"))
    try:
        mirror.refresh(boundary, SELECT)
        return len(mirror)
    finally:
        mirror.clear()


def typed(boundary: GraphBoundary) -> int:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphServiceClient
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    async def run() -> int:
        client = GraphServiceClient(request_adapter=boundary._process().adapter)
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=SELECT, top=999)
        page = await client.users.get(RequestConfiguration(query_parameters=query))
        count = len(page.value or [])
        while page.odata_next_link:
            page = await client.users.with_url(page.odata_next_link).get()
            count += len(page.value or [])
        return count

    return asyncio.run_coroutine_threadsafe(run(), boundary.loop).result()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=3000)
    args = parser.parse_args()
    with EntraEmulator() as emu:
        for i in range(args.users):
            emu.state.seed_user(f"bench{i}@example.com", mail=f"bench{i}@example.com")
        config = {k.removeprefix("SCIM2ENTRA_"): v for k, v in emu.env().items()}
        boundary = GraphBoundary(GraphSettings.from_config(config))
        for name, fn in (("raw", raw), ("typed", typed), ("raw again", raw)):
            start = time.perf_counter()
            n = fn(boundary)
            took = time.perf_counter() - start
            print(f"{name:10} {n} users in {took:6.2f} s ({took / n * 1000:.2f} ms/user)")
        boundary.close()


if __name__ == "__main__":
    main()
