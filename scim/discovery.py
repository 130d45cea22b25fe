"""Discovery documents (RFC 7644 §4; RFC 7643 §5, §6, §7): what this server supports.

Everything is built from `scim.schemas` and the caller's settings, so a client that reads
these (authentik reads /ServiceProviderConfig first; scim2-tester builds its models from
/Schemas and /ResourceTypes) sees exactly what the server enforces.
"""

from __future__ import annotations

from typing import Any

from scim.schemas import ALL_SCHEMAS, LIST_RESPONSE_URN, RESOURCE_TYPES

SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
# RFC 7643 §5 documentationUri: where a human reads about this provider's SCIM service.
DOCUMENTATION_URI = "https://www.rfc-editor.org/rfc/rfc7644"
BEARER_SPEC_URI = "https://www.rfc-editor.org/rfc/rfc6750"


def service_provider_config(
    base_url: str,
    *,
    bulk_max_operations: int,
    bulk_max_payload: int,
    filter_max_results: int,
    change_password: bool = False,
    documentation_uri: str = DOCUMENTATION_URI,
) -> dict[str, Any]:
    """/ServiceProviderConfig (RFC 7643 §5).

    `bulk_max_operations` should be generous: authentik chunks member PATCHes by it
    (scim-clients.md). `change_password` defaults to false: a password is accepted and kept
    for the first Entra create, but later changes are not pushed to Entra, and saying
    otherwise would promise clients a password change that never reaches the directory.
    """
    return {
        "schemas": [SPC_URN],
        "documentationUri": documentation_uri,
        "patch": {"supported": True},
        "bulk": {
            "supported": True,
            "maxOperations": bulk_max_operations,
            "maxPayloadSize": bulk_max_payload,
        },
        "filter": {"supported": True, "maxResults": filter_max_results},
        "changePassword": {"supported": change_password},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token (RFC 6750) issued by "
                           "`scim2entra token create`",
            "specUri": BEARER_SPEC_URI,
            "documentationUri": documentation_uri,
            "primary": True,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def list_response(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 7644 §3.4.2: discovery lists are ListResponses, complete in one page (§4)."""
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


def resource_types_list(base_url: str) -> dict[str, Any]:
    """/ResourceTypes (RFC 7643 §6)."""
    return list_response([rt.to_json(base_url) for rt in RESOURCE_TYPES.values()])


def resource_type(base_url: str, name: str) -> dict[str, Any] | None:
    """/ResourceTypes/{name}, the name in any letter case; None when there is none."""
    found = next((rt for rt in RESOURCE_TYPES.values() if rt.name.lower() == name.lower()),
                 None)
    return None if found is None else found.to_json(base_url)


def schemas_list(base_url: str) -> dict[str, Any]:
    """/Schemas (RFC 7643 §7): the core schemas and the enterprise extension."""
    return list_response([schema.to_json(base_url) for schema in ALL_SCHEMAS])


def schema(base_url: str, urn: str) -> dict[str, Any] | None:
    """/Schemas/{urn}, the URN in any letter case; None when there is none."""
    found = next((s for s in ALL_SCHEMAS if s.id.lower() == urn.lower()), None)
    return None if found is None else found.to_json(base_url)
