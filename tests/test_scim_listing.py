"""List and search over HTTP (RFC 7644 §3.4): filter, paging, sorting, projection."""

from __future__ import annotations

from typing import Any

from scim.schemas import SEARCH_REQUEST_URN
from tests.test_scim_users import assert_error, new_user


def seed(scim: Any) -> dict[str, str]:
    ids = {}
    for name, title in (("carol@example.com", "CTO"), ("Alice@Example.com", "Dev"),
                        ("bob@example.org", None)):
        extra = {"title": title} if title else {}
        ids[name.lower()] = scim.post("/Users", new_user(name, **extra)).get_json()["id"]
    return ids


def names(body: dict[str, Any]) -> list[str]:
    return [r["userName"] for r in body["Resources"]]


def test_filter_username_eq_ignores_case(scim: Any) -> None:
    ids = seed(scim)
    body = scim.get('/Users?filter=userName eq "alice@example.com"').get_json()
    assert body["totalResults"] == 1 and body["Resources"][0]["id"] == ids["alice@example.com"]
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]


def test_entra_test_connection_filter_returns_empty_list(scim: Any) -> None:
    seed(scim)
    body = scim.get('/Users?filter=userName eq "8f2c6a1e-0d44-4e3f-9a1b-7c1d2e3f4a5b"')
    assert body.status_code == 200
    assert body.get_json()["totalResults"] == 0 and body.get_json()["Resources"] == []


def test_bad_filter_is_invalid_filter(scim: Any) -> None:
    assert_error(scim.get('/Users?filter=userName eq'), 400, "invalidFilter")
    assert_error(scim.get('/Users?filter=(userName eq "a"'), 400, "invalidFilter")
    assert_error(scim.get('/Users?filter=noSuchAttr eq "a"'), 400, "invalidFilter")


def test_paging_and_sorting(scim: Any) -> None:
    seed(scim)
    first = scim.get("/Users?sortBy=userName&startIndex=1&count=2").get_json()
    assert first["totalResults"] == 3 and first["itemsPerPage"] == 2
    assert names(first) == ["Alice@Example.com", "bob@example.org"]
    second = scim.get("/Users?sortBy=userName&startIndex=3&count=2").get_json()
    assert names(second) == ["carol@example.com"] and second["startIndex"] == 3
    desc = scim.get("/Users?sortBy=userName&sortOrder=descending").get_json()
    assert names(desc)[0] == "carol@example.com"
    only_total = scim.get("/Users?count=0").get_json()
    assert only_total["totalResults"] == 3 and only_total["Resources"] == []


def test_attributes_and_excluded_attributes(scim: Any) -> None:
    seed(scim)
    body = scim.get("/Users?attributes=userName,name.givenName&sortBy=userName").get_json()
    first = body["Resources"][0]
    assert set(first) <= {"id", "schemas", "userName", "name", "meta"}
    assert first["name"] == {"givenName": "Alice"}
    excluded = scim.get("/Users?excludedAttributes=emails,name").get_json()["Resources"][0]
    assert "emails" not in excluded and "name" not in excluded and "userName" in excluded


def test_post_search(scim: Any) -> None:
    ids = seed(scim)
    body = scim.post("/Users/.search", {"schemas": [SEARCH_REQUEST_URN],
                                        "filter": 'title pr', "sortBy": "userName"}).get_json()
    assert [r["id"] for r in body["Resources"]] == [ids["alice@example.com"],
                                                     ids["carol@example.com"]]
    root = scim.post("/.search", {"schemas": [SEARCH_REQUEST_URN],
                                   "filter": 'userName sw "bob"'}).get_json()
    assert root["totalResults"] == 1 and root["Resources"][0]["id"] == ids["bob@example.org"]


def test_value_path_filter_on_emails(scim: Any) -> None:
    ids = seed(scim)
    query = '/Users?filter=emails[type eq "work" and value ew "example.org"]'
    body = scim.get(query).get_json()
    assert [r["id"] for r in body["Resources"]] == [ids["bob@example.org"]]
