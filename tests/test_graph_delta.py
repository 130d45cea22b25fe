"""Delta rounds through the boundary (raw pages) against the emulator's /users/delta and
/groups/delta, 410 -> DeltaExpired, the deltaLinks kept in SyncControl, and the Redis
mirror a full sync discovers from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask

from jobs.graph import GraphBoundary, UsersClient
from jobs.graph.delta import (
    DeltaExpired,
    forget_delta_link,
    groups_delta,
    load_delta_link,
    read_page,
    save_delta_link,
    users_delta,
)
from jobs.graph.delta_mirror import DeltaMirror
from tests.emulator.server import EntraEmulator

SELECT = ["id", "userPrincipalName", "displayName", "jobTitle"]


def delta_reads(entra: EntraEmulator) -> int:
    return entra.audit.count(method="GET", path_re=r"^/(users|groups)/delta")


def test_users_rounds_read_only_what_changed(entra: EntraEmulator,
                                             graph: GraphBoundary) -> None:
    users = [entra.state.seed_user(f"d{n:04}@example.com")["id"] for n in range(1200)]
    first = users_delta(graph, None, SELECT)
    assert len({c.id for c in first}) == 1200 and first.delta_link
    assert first.pages == 2  # Prefer odata.maxpagesize=999: 999 + 201
    assert delta_reads(entra) == 2
    quiet = users_delta(graph, first.delta_link, SELECT)
    assert list(quiet) == [] and quiet.pages == 1
    UsersClient(graph).update(users[5], {"jobTitle": "Boss"})
    UsersClient(graph).delete(users[7])
    changed = list(users_delta(graph, quiet.delta_link, SELECT))
    assert [(c.id, c.removed) for c in changed] == [(users[5], None), (users[7], "changed")]
    assert changed[0].attributes["jobTitle"] == "Boss"
    assert set(changed[0].attributes) <= set(SELECT)


def test_groups_round_carries_member_changes(entra: EntraEmulator,
                                             graph: GraphBoundary) -> None:
    alice = entra.state.seed_user("alice@example.com")["id"]
    bob = entra.state.seed_user("bob@example.com")["id"]
    group = entra.state.seed_group("Delta team", members=[alice])["id"]
    first = groups_delta(graph, None, ["displayName", "members"])
    [initial] = list(first)
    assert (initial.id, initial.members_added, initial.members_removed) == (group, [alice], [])
    assert initial.attributes["displayName"] == "Delta team"
    entra.state.add_member(group, bob)
    entra.state.remove_member(group, alice)
    [later] = list(groups_delta(graph, first.delta_link, ["displayName", "members"]))
    assert (later.members_added, later.members_removed) == ([bob], [alice])
    assert "members@delta" not in later.attributes


def test_expired_link_raises_delta_expired(entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.state.seed_user("eve@example.com")
    first = users_delta(graph, None, SELECT)
    list(first)
    entra.expire_delta_tokens()
    with pytest.raises(DeltaExpired, match="410"):
        list(users_delta(graph, first.delta_link, SELECT))
    garbage = f"{entra.graph_url}/users/delta()?$deltatoken=garbage"
    with pytest.raises(DeltaExpired, match="resyncRequired"):
        list(users_delta(graph, garbage, SELECT))


def test_delta_links_are_kept_per_kind(app: Flask) -> None:
    with app.app_context():
        assert load_delta_link("users") is None
        save_delta_link("users", "https://graph.example/users/delta?$deltatoken=a")
        save_delta_link("users", "https://graph.example/users/delta?$deltatoken=b")
        save_delta_link("groups", "https://graph.example/groups/delta?$deltatoken=g")
        assert str(load_delta_link("users")).endswith("=b")
        forget_delta_link("users")
        assert load_delta_link("users") is None
        assert load_delta_link("groups") is not None
        with pytest.raises(ValueError):
            load_delta_link("devices")


@pytest.fixture
def mirror(redis_url: str) -> Iterator[DeltaMirror]:
    conn = redis_lib.Redis.from_url(redis_url)
    kept = DeltaMirror(conn, "users", prefix=f"test:mirror:{uuid.uuid4().hex}")
    yield kept
    kept.clear()
    conn.close()


def test_mirror_keeps_every_user_and_reads_only_changes(
        entra: EntraEmulator, graph: GraphBoundary, mirror: DeltaMirror) -> None:
    users = [entra.state.seed_user(f"m{n:04}@example.com")["id"] for n in range(1200)]
    assert mirror.refresh(graph, SELECT) == 2 and len(mirror) == 1200
    UsersClient(graph).update(users[3], {"jobTitle": "Lead"})
    UsersClient(graph).delete(users[4])
    before = delta_reads(entra)
    assert mirror.refresh(graph, SELECT) == 1  # one page: only the two changes
    assert delta_reads(entra) - before == 1
    kept = {u["id"]: u for u in mirror.objects()}
    assert len(kept) == 1199 and users[4] not in kept
    assert kept[users[3]]["jobTitle"] == "Lead"
    assert kept[users[3]]["userPrincipalName"] == "m0003@example.com"  # merged, not replaced


def test_mirror_starts_over_after_410_or_a_lost_link(
        entra: EntraEmulator, graph: GraphBoundary, mirror: DeltaMirror) -> None:
    for n in range(5):
        entra.state.seed_user(f"r{n}@example.com")
    mirror.refresh(graph, SELECT)
    entra.expire_delta_tokens()
    late = entra.state.seed_user("late@example.com")["id"]
    mirror.refresh(graph, SELECT)  # 410, then a full round
    assert len(mirror) == 6 and late in {u["id"] for u in mirror.objects()}
    mirror.redis.delete(mirror.link_key)  # e.g. Redis lost the link: never trust the rest
    mirror.redis.hset(mirror.objects_key, "stale", "{}")
    mirror.refresh(graph, SELECT)
    assert len(mirror) == 6 and "stale" not in {u.get("id") for u in mirror.objects()}


def keyed_mirror(redis_url: str, kind: str, **options: Any) -> DeltaMirror:
    conn = redis_lib.Redis.from_url(redis_url)
    return DeltaMirror(conn, kind, prefix=f"test:mirror:{uuid.uuid4().hex}", **options)


def dump(mirror: DeltaMirror) -> dict[bytes, Any]:
    return {key: mirror.redis.hgetall(key) for key in mirror.redis.scan_iter(
        match=f"{mirror.base}:*") if mirror.redis.type(key) == b"hash"}


def test_mirror_indexes_follow_changes_and_a_page_twice_changes_nothing(
        entra: EntraEmulator, graph: GraphBoundary, redis_url: str) -> None:
    mirror = keyed_mirror(redis_url, "users", index_keys=("mail",))
    select = [*SELECT, "mail"]
    a = entra.state.seed_user("a@example.com", mail="a@example.com")["id"]
    b = entra.state.seed_user("b@example.com", mail="b@example.com")["id"]
    c = entra.state.seed_user("c@example.com", mail="Shared@example.com")["id"]
    d = entra.state.seed_user("d@example.com", mail="shared@example.com")["id"]
    try:
        mirror.refresh(graph, select)
        assert mirror.ids_for("mail", "SHARED@example.com") == [c, d]  # ambiguous: both
        UsersClient(graph).update(a, {"mail": "a.new@example.com"})
        UsersClient(graph).delete(b)
        UsersClient(graph).update(d, {"mail": "d@example.com"})
        link = mirror.kept_link(mirror.full_url(graph, select))
        assert link is not None
        page = read_page(graph, link)
        assert mirror.apply_page(page) is None
        once = dump(mirror)
        assert mirror.apply_page(page) is None  # a resumed job applies its page again
        assert dump(mirror) == once
        assert mirror.ids_for("mail", "a@example.com") == []
        assert mirror.ids_for("mail", "A.New@example.com") == [a]
        assert mirror.ids_for("mail", "b@example.com") == [] and mirror.get(b) is None
        assert mirror.ids_for("mail", "shared@example.com") == [c]
        asked = [("mail", "A.New@example.com"), ("mail", None), ("mail", ""),
                 ("userPrincipalName", "nobody@example.com"), ("mail", "SHARED@example.com")]
        assert mirror.ids_for_each(asked) == [[a], [], [], [], [c]]  # (ids_for: one of them)
        assert mirror.ids_for("mail", "d@example.com") == [d]
    finally:
        mirror.clear()


def test_mirror_keeps_each_groups_members(entra: EntraEmulator, graph: GraphBoundary,
                                          redis_url: str) -> None:
    mirror = keyed_mirror(redis_url, "groups", members=True)
    select = ["displayName", "members"]
    alice = entra.state.seed_user("alice@example.com")["id"]
    bob = entra.state.seed_user("bob@example.com")["id"]
    team = entra.state.seed_group("Team", members=[alice])["id"]
    empty = entra.state.seed_group("Empty")["id"]
    try:
        mirror.refresh(graph, select)
        assert mirror.members_of(team) == {alice} and mirror.members_of(empty) == set()
        assert mirror.members_of("no-such-group") is None  # not known: read the list
        entra.state.add_member(team, bob)
        entra.state.remove_member(team, alice)
        entra.state.add_member(empty, alice)
        assert mirror.refresh(graph, select) == 1
        assert mirror.members_of(team) == {bob} and mirror.members_of(empty) == {alice}
        entra.state.delete(empty)
        mirror.refresh(graph, select)
        assert mirror.members_of(empty) is None
        assert not mirror.redis.exists(mirror.members_key(empty))
        mirror.redis.sadd(mirror.members_key(team), "stale")
        entra.expire_delta_tokens()
        mirror.refresh(graph, select)  # 410: a full round, members read again
        assert mirror.members_of(team) == {bob}
        without = DeltaMirror(mirror.redis, "groups", prefix=mirror.base.rsplit(":", 1)[0])
        assert without.members_of(team) is None  # rounds without members: not known
    finally:
        mirror.clear()


def test_clear_removes_every_key_of_the_mirror_and_nothing_else(
        entra: EntraEmulator, graph: GraphBoundary, redis_url: str) -> None:
    alice = entra.state.seed_user("alice@example.com", mail="alice@example.com")["id"]
    entra.state.seed_group("Team", members=[alice])
    users = keyed_mirror(redis_url, "users", index_keys=("mail",))
    prefix = users.base.rsplit(":", 1)[0]
    groups = DeltaMirror(users.redis, "groups", prefix=prefix, index_keys=("displayName",),
                         members=True)
    neighbour = f"{prefix}-other:users:idx:mail"  # another deployment's key, same Redis
    users.redis.hset(neighbour, "x", "[]")
    try:
        users.refresh(graph, [*SELECT, "mail"])
        groups.refresh(graph, ["displayName", "members"])
        assert users.redis.exists(users.index_key("mail"))
        # match keys changed since: the new mirror must still empty the old key's index
        DeltaMirror(users.redis, "users", prefix=prefix, index_keys=("userPrincipalName",)
                    ).clear()
        groups.clear()
        assert list(users.redis.scan_iter(match=f"{prefix}:*")) == []
        assert users.redis.exists(neighbour)
    finally:
        users.redis.delete(neighbour)
        users.clear()
