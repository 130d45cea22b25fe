"""How much do compiled, file-based mappings cost per user? (prints, asserts nothing)

    python bench/mappings_eval.py [--users 10000]

Compares, in one run, the shipped default user mapping through MappingEngine with a plain
Python function that builds the same dict, for the update path (a link exists) and the
first-create path (random password + PasswordProfile model serialised by kiota).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from msgraph.generated.models.password_profile import PasswordProfile

from mappings import (
    Connection,
    MappingEngine,
    ProviderContext,
    payload_hash,
    to_graph_json,
)
from mappings.context import display_name, primary_email
from mappings.helpers import email_domain, mail_nickname, strong_password

PROVIDER = ProviderContext(tenant_id="bench", verified_domains={"example.com"})


def make_users(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{i:08d}-7f76-453a-919d-413861904646",
            "userName": f"user.{i}@example.com",
            "name": {"givenName": f"Given{i}", "familyName": "Family"},
            "emails": [{"value": f"user.{i}@example.com", "primary": True}],
            "active": i % 10 != 0,
        }
        for i in range(count)
    ]


def baseline(resource: dict[str, Any], connection: Connection | None) -> dict[str, Any]:
    """The default user mapping written as an ordinary function (no engine)."""
    upn = primary_email(resource.get("emails"))
    if upn is None or email_domain(upn) not in PROVIDER.verified_domains:
        raise ValueError("unexpected in this bench")
    user: dict[str, Any] = {
        "display_name": display_name(resource),
        "account_enabled": resource.get("active", True),
        "mail_nickname": mail_nickname(resource["userName"], fallback=f"user-{resource['id']}"),
        "user_principal_name": upn,
    }
    if connection is None:
        user["password_profile"] = PasswordProfile(
            password=strong_password(), force_change_password_next_sign_in=False
        )
        user["on_premises_immutable_id"] = resource["id"]
    elif (immutable_id := connection.attributes.get("on_premises_immutable_id")) is not None:
        user["on_premises_immutable_id"] = immutable_id
    return user


def rate(fn: Callable[[dict[str, Any]], object], users: list[dict[str, Any]]) -> float:
    fn(users[0])  # warm up lazy imports (msgraph models) outside the timing
    start = time.perf_counter()
    for resource in users:
        fn(resource)
    return len(users) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    users = make_users(parser.parse_args().users)
    engine = MappingEngine.load(None)
    print(f"{len(users)} users, Python {sys.version.split()[0]}")
    measure("update (link)", engine, users, Connection({"on_premises_immutable_id": "x"}))
    measure("first create", engine, users, None)


def measure(
    label: str, engine: MappingEngine, users: list[dict[str, Any]], link: Connection | None
) -> None:
    def plain(resource: dict[str, Any]) -> object:
        return baseline(resource, link)

    def plain_json(resource: dict[str, Any]) -> object:
        return payload_hash(to_graph_json(baseline(resource, link)))

    def mapped(resource: dict[str, Any]) -> object:
        return engine.evaluate_user(resource, None, link, PROVIDER)

    base, base_json, engine_rate = rate(plain, users), rate(plain_json, users), rate(mapped, users)
    print(
        f"{label:14} baseline dict {base:9.0f}/s | baseline+json+hash {base_json:9.0f}/s"
        f" | engine (dict+json+hash) {engine_rate:9.0f}/s"
        f" | ratio baseline dict/engine {base / engine_rate:4.1f}x,"
        f" baseline+json+hash/engine {base_json / engine_rate:4.1f}x"
    )


if __name__ == "__main__":
    main()
