"""Discovery documents: truthful, and readable by scim2_models (which scim2-tester uses)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from scim2_models import (
    Context,
    ListResponse,
    Meta,
    ResourceType,
    Schema,
    ScimProvider,
    ServiceProviderConfig,
)
from scim2_tester.filling import fill_with_random_values

from scim import discovery
from scim.normalize import normalize_resource
from scim.schemas import ALL_SCHEMAS, ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN
from scim.validation import validate_resource

BASE = "https://scim.example.test/scim/v2"
QUERY = Context.RESOURCE_QUERY_RESPONSE


def spc(**kw: Any) -> dict[str, Any]:
    settings = {"bulk_max_operations": 1000, "bulk_max_payload": 1048576,
                "filter_max_results": 200, **kw}
    return discovery.service_provider_config(BASE, **settings)


def test_service_provider_config_is_truthful() -> None:
    body = spc()
    assert body["patch"] == {"supported": True}
    assert body["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}
    assert body["filter"] == {"supported": True, "maxResults": 200}
    assert body["changePassword"] == {"supported": False}
    assert body["sort"] == {"supported": True}
    assert body["etag"] == {"supported": True}
    assert body["documentationUri"].startswith("https://")
    [scheme] = body["authenticationSchemes"]
    assert scheme["type"] == "oauthbearertoken"
    assert scheme["primary"] is True
    assert body["meta"]["location"] == f"{BASE}/ServiceProviderConfig"


def test_service_provider_config_arguments() -> None:
    body = spc(bulk_max_operations=5, change_password=True, documentation_uri="https://d.test")
    assert body["bulk"]["maxOperations"] == 5
    assert body["changePassword"] == {"supported": True}
    assert body["documentationUri"] == "https://d.test"


def test_scim2_models_parses_service_provider_config() -> None:
    parsed = ServiceProviderConfig.model_validate(spc(), scim_ctx=QUERY)
    assert parsed.bulk is not None and parsed.bulk.max_operations == 1000
    assert parsed.filter is not None and parsed.filter.max_results == 200
    assert parsed.authentication_schemes and parsed.authentication_schemes[0].primary


def test_resource_types_list() -> None:
    body = discovery.resource_types_list(BASE)
    assert body["totalResults"] == body["itemsPerPage"] == 2
    assert body["startIndex"] == 1
    by_name = {r["name"]: r for r in body["Resources"]}
    assert by_name["User"]["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False}]
    assert by_name["Group"]["endpoint"] == "/Groups"


def test_resource_type_by_name_any_case() -> None:
    found = discovery.resource_type(BASE, "user")
    assert found is not None and found["id"] == "User"
    assert discovery.resource_type(BASE, "Device") is None


def test_schemas_list_is_built_from_the_definitions() -> None:
    body = discovery.schemas_list(BASE)
    assert [s["id"] for s in body["Resources"]] == [s.id for s in ALL_SCHEMAS]
    assert body["totalResults"] == len(ALL_SCHEMAS)


@pytest.mark.parametrize("urn", [USER_URN, GROUP_URN.lower(), ENTERPRISE_URN.upper()])
def test_schema_by_urn_any_case(urn: str) -> None:
    found = discovery.schema(BASE, urn)
    assert found is not None and found["id"].lower() == urn.lower()
    assert found["meta"]["location"] == f"{BASE}/Schemas/{found['id']}"


def test_unknown_schema_is_none() -> None:
    assert discovery.schema(BASE, "urn:nope") is None


def test_scim2_models_parses_schemas_and_resource_types() -> None:
    schemas = ListResponse[Schema].model_validate(discovery.schemas_list(BASE), scim_ctx=QUERY)
    types = ListResponse[ResourceType].model_validate(discovery.resource_types_list(BASE),
                                                      scim_ctx=QUERY)
    assert {s.id for s in schemas.resources or []} == {s.id for s in ALL_SCHEMAS}
    assert {t.id for t in types.resources or []} == {"User", "Group"}
    single = Schema.model_validate(discovery.schema(BASE, USER_URN), scim_ctx=QUERY)
    assert single.attributes and any(a.name == "userName" for a in single.attributes)
    ResourceType.model_validate(discovery.resource_type(BASE, "Group"), scim_ctx=QUERY)


def provider() -> ScimProvider:
    schemas = ListResponse[Schema].model_validate(discovery.schemas_list(BASE)).resources or []
    types = ListResponse[ResourceType].model_validate(
        discovery.resource_types_list(BASE)).resources or []
    config = ServiceProviderConfig.model_validate(spc())
    return ScimProvider.from_discovery(schemas, types, config)


def test_scim2_models_builds_a_provider_from_discovery() -> None:
    built = provider()
    assert {m.__name__ for m in built.models} == {"User", "Group", "EnterpriseUser"}


@pytest.mark.parametrize(("name", "rt"), [("User", USER), ("Group", GROUP)])
def test_what_scim2_tester_would_send_validates(name: str, rt: Any) -> None:
    """scim2-tester fills every writable attribute the published schemas declare: all of it
    must pass normalisation and validation, nothing dropped as unknown."""
    built = provider()

    def register(model: Any) -> Any:
        obj = model(id=str(uuid.uuid4()))
        obj.meta = Meta(resource_type=name, location=f"{BASE}/{name}s/{obj.id}")
        return obj

    context: Any = SimpleNamespace(
        client=SimpleNamespace(get_resource_model=built.model_for),
        resource_manager=SimpleNamespace(create_and_register=register, resources=[]))
    model = built.model_for(name)
    assert model is not None
    payload = fill_with_random_values(context, model()).model_dump(
        scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    validated = validate_resource(rt, normalize_resource(rt, payload))
    assert validated.ignored == ()
    assert set(payload) - set(validated.doc) <= {"password"}
    if name == "User":
        assert validated.password == payload["password"]
        assert validated.doc[ENTERPRISE_URN] == payload[ENTERPRISE_URN] | {
            "manager": {k: v for k, v in payload[ENTERPRISE_URN]["manager"].items()
                        if k != "displayName"}}
