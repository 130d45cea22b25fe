"""Filters and PATCH paths (scim.filter, RFC 7644 §3.4.2.2 / §3.5.2) and in-memory matching."""

from __future__ import annotations

from typing import Any

import pytest

import scim.filter as filter_module
from scim.errors import InvalidFilter, InvalidPath
from scim.filter import (
    And,
    Compare,
    Not,
    Or,
    Present,
    ValuePath,
    matches,
    matches_resource,
    parse_filter,
    parse_path,
)
from scim.filter_lex import FilterSyntaxError, syntax_tree
from scim.schemas import ENTERPRISE_URN, GROUP, USER


def _leaf(text: str) -> Compare:
    node = parse_filter(text, USER)
    assert isinstance(node, Compare)
    return node


def test_comparison_is_resolved_to_canonical_names() -> None:
    node = _leaf('USERNAME Eq "Bjensen"')
    assert (node.path.canonical, node.op, node.value) == ("userName", "eq", "Bjensen")


@pytest.mark.parametrize(("text", "value"), [
    (r'userName eq "a\"b"', 'a"b'),
    (r'userName eq "tab\tand \u00e9 and \\"', "tab\tand é and \\"),
    ('userName eq "with ] and ) and [ inside"', "with ] and ) and [ inside"),
    ('userName eq ""', ""),
])
def test_string_values_are_json_strings(text: str, value: str) -> None:
    assert _leaf(text).value == value


@pytest.mark.parametrize(("text", "value"), [
    ("active eq true", True), ("active eq false", False), ("active ne null", None),
    ('active eq "True"', True),  # a boolean written as a string (Entra writes "False")
])
def test_literals_keep_their_json_type(text: str, value: Any) -> None:
    assert _leaf(text).value is value


def test_urn_qualified_paths() -> None:
    node = _leaf(f'{ENTERPRISE_URN}:manager.value eq "m1"')
    assert node.path.canonical == f"{ENTERPRISE_URN}:manager.value"
    core = _leaf('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"')
    assert core.path.canonical == "name.familyName"


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter('userName eq "a" or userName eq "b" and title pr', USER)
    assert isinstance(node, Or)
    assert isinstance(node.items[0], Compare) and isinstance(node.items[1], And)


def test_chains_flatten_and_parentheses_group() -> None:
    node = parse_filter('title pr and (userType pr and ((nickName pr))) and locale pr', USER)
    assert isinstance(node, And) and len(node.items) == 4
    grouped = parse_filter('(title pr or userType pr) and nickName pr', USER)
    assert isinstance(grouped, And) and isinstance(grouped.items[0], Or)


def test_not_and_value_paths() -> None:
    node = parse_filter('not (emails[type eq "work" and value co "@x"])', USER)
    assert isinstance(node, Not) and isinstance(node.node, ValuePath)
    inner = node.node.filter
    assert isinstance(inner, And)
    assert [leaf.path.canonical for leaf in inner.items] == [  # type: ignore[union-attr]
        "emails.type", "emails.value"]


def test_value_path_with_sub_attribute_means_one_element() -> None:
    node = parse_filter('emails[type eq "work"].value eq "a@x.org"', USER)
    assert isinstance(node, ValuePath) and node.attr.canonical == "emails"
    assert isinstance(node.filter, And)
    assert [(c.path.canonical, c.value) for c in node.filter.items] == [  # type: ignore[union-attr]
        ("emails.type", "work"), ("emails.value", "a@x.org")]


def test_complex_attribute_compared_means_its_value() -> None:
    assert _leaf('emails co "example.com"').path.canonical == "emails.value"
    node = parse_filter("name pr", USER)
    assert isinstance(node, Present) and node.path.canonical == "name"


def test_group_members_and_meta() -> None:
    node = parse_filter('members[value eq "u1"]', GROUP)
    assert isinstance(node, ValuePath) and node.attr.canonical == "members"
    assert _leaf('meta.lastModified gt "2011-05-13T04:42:34Z"').path.canonical == (
        "meta.lastModified")


@pytest.mark.parametrize("text", [
    '(userName eq "x"',  # unbalanced parentheses
    'userName eq "x")',
    'emails[type eq "work"',
    'nosuch eq "x"',  # unknown attribute
    'name.nosuch eq "x"',
    'emails[nosuch eq "x"]',
    'userName regex "x"',  # unknown operator
    'userName eq "x" garbage',  # trailing garbage
    'userName eq "x" and',
    "active gt true",  # RFC 7644 §3.4.2.2: ordering a boolean is invalidFilter
    'x509Certificates.value gt "AAAA"',  # … and a binary
    'active co "t"',
    'userName eq 42',  # the value's type must fit the attribute
    "userName gt null",
    'meta.lastModified gt "yesterday"',
    'name eq "x"',  # a complex attribute without a value sub-attribute
    'emails[type[value eq "x"] eq "y"]',  # nested value paths
    'emails.value[type eq "work"]',
    'emails[urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"]',
    'userName eq "bad \\q escape"',
    'userName eq "unterminated',
    "userName eq x",
    "",
    "   ",
    "not userName pr",
    'password eq "secret"',  # returned "never": not a filter
    "password pr",
])
def test_bad_filters(text: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text, USER)
    assert caught.value.status == 400 and caught.value.scim_type == "invalidFilter"
    assert caught.value.detail


def test_deep_nesting_is_an_invalid_filter_not_a_crash() -> None:
    assert parse_filter("not (" * 30 + "title pr" + ")" * 30, USER) is not None
    with pytest.raises(InvalidFilter, match="nested"):
        parse_filter("not (" * 400 + "title pr" + ")" * 400, USER)


def test_long_or_chains_do_not_recurse() -> None:
    text = " or ".join(f'userName eq "u{i}"' for i in range(3000))
    node = parse_filter(text, USER)
    assert isinstance(node, Or) and len(node.items) == 3000


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("-3", -3), ("4.5", 4.5), ("1e3", 1000.0), ("0", 0),
])
def test_numbers(text: str, value: float) -> None:
    tree = syntax_tree(f"x eq {text}")
    assert tree.expr.comp_value.value.value == value


def test_keywords_are_whole_words() -> None:
    tree = syntax_tree('trueish eq "x"')
    assert tree.expr.attr_path.attr_name == "trueish"
    with pytest.raises(FilterSyntaxError):
        syntax_tree("x eq 01")


# PATCH paths (RFC 7644 §3.5.2, Figure 7)

def test_paths() -> None:
    assert parse_path("NAME.GIVENNAME", USER).attr.canonical == "name"
    assert parse_path("NAME.GIVENNAME", USER).sub.name == "givenName"  # type: ignore[union-attr]
    spec = parse_path('emails[type eq "work"].value', USER)
    assert spec.attr.canonical == "emails" and spec.sub is not None and spec.sub.name == "value"
    assert isinstance(spec.filter, Compare) and spec.filter.path.canonical == "emails.type"
    manager = parse_path(f"{ENTERPRISE_URN}:manager", USER)
    assert manager.attr.canonical == f"{ENTERPRISE_URN}:manager" and manager.sub is None


def test_member_selector_fast_path_equals_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = ['members[value eq "2819c223"]', 'MEMBERS[ Value EQ "a\\"b" ]']
    fast = [parse_path(p, GROUP) for p in paths]
    monkeypatch.setattr(filter_module, "_value_eq_path", lambda *_: None)
    assert fast == [parse_path(p, GROUP) for p in paths]


@pytest.mark.parametrize(("text", "error"), [
    ("nosuch", InvalidPath),
    ("name.nosuch", InvalidPath),
    ("userName.sub", InvalidPath),
    ('userName[value eq "x"]', InvalidPath),
    ('emails[type eq "work"', InvalidPath),
    ('emails[type eq]', InvalidFilter),
    ('emails[nosuch eq "x"]', InvalidFilter),
    ('emails[type eq "work"].nosuch', InvalidPath),
    ('userName eq "x"', InvalidPath),
    ("title pr or nickName", InvalidPath),
    ("emails[", InvalidPath),
])
def test_bad_paths(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_path(text, USER)


# In-memory matching (PATCH value filters)

def _value_filter(text: str) -> Any:
    spec = parse_path(text, USER)
    assert spec.filter is not None
    return spec.filter


@pytest.mark.parametrize(("path", "element", "expected"), [
    ('emails[type eq "WORK"]', {"value": "a@x", "type": "work"}, True),  # not caseExact
    ('emails[TYPE eq "work"]', {"Type": "work"}, True),  # names in any case
    ('emails[type eq "work" and value ew "@X"]', {"value": "a@x", "type": "work"}, True),
    ('emails[type eq "work" and value ew "@y"]', {"value": "a@x", "type": "work"}, False),
    ('emails[type ne "work"]', {"value": "a@x"}, True),  # absent is "not equal"
    ("emails[primary eq true]", {"primary": True}, True),
    ("emails[primary eq true]", {"primary": "true"}, True),
    ("emails[primary eq true]", {}, False),
    ('emails[not (type pr)]', {"value": "a@x"}, True),
    ('emails[value sw "A" or value co "zz"]', {"value": "abc"}, True),
    ('emails[value gt "b"]', {"value": "C"}, True),
])
def test_matches_elements(path: str, element: dict[str, Any], expected: bool) -> None:
    assert matches(_value_filter(path), element) is expected


def test_matches_honours_case_exact_member_values() -> None:
    spec = parse_path('members[value eq "Abc"]', GROUP)
    assert spec.filter is not None
    assert matches(spec.filter, {"value": "Abc"}) and not matches(spec.filter, {"value": "abc"})


def test_datetimes_compare_as_instants() -> None:
    resource = {"meta": {"lastModified": "2011-05-13T06:42:34+02:00"}}
    equal = parse_filter('meta.lastModified eq "2011-05-13T04:42:34Z"', USER)
    later = parse_filter('meta.lastModified gt "2011-05-13T04:42:33.999Z"', USER)
    assert matches_resource(equal, resource) and matches_resource(later, resource)


def test_matches_resource_extension_and_multi_values() -> None:
    resource = {
        "userName": "Bjensen",
        "emails": [{"value": "a@x", "type": "home"}, {"value": "b@y", "type": "work"}],
        ENTERPRISE_URN.upper(): {"Manager": {"value": "m1"}},
    }
    assert matches_resource(parse_filter('userName eq "bjensen"', USER), resource)
    assert matches_resource(parse_filter(f'{ENTERPRISE_URN}:manager.value eq "m1"', USER),
                            resource)
    assert matches_resource(parse_filter('emails.value ew "@y"', USER), resource)
    assert not matches_resource(parse_filter('emails[type eq "home" and value ew "@y"]', USER),
                                resource)
