"""RFC 7643 schema definitions: User, Group, EnterpriseUser and the common attributes.

Pure data plus case-insensitive path resolution; the discovery endpoints, the validator, the
filter and PATCH engines all read these definitions, so what /Schemas publishes is what the
server enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"


@dataclass(frozen=True)
class Attribute:
    """One attribute definition (RFC 7643 §7)."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    sub_attributes: tuple[Attribute, ...] = ()
    description: str = ""

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called `name`, in any letter case (RFC 7643 §2.1)."""
        return self._subs_by_name.get(name.lower())

    @cached_property
    def _subs_by_name(self) -> dict[str, Attribute]:
        # Every request looks sub-attributes up a hundred times (normalise, validate, index).
        return _by_lower_name(self.sub_attributes)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "mutability": self.mutability,
            "returned": self.returned,
        }
        if self.type != "complex" and self.type != "boolean":
            body["caseExact"] = self.case_exact
            body["uniqueness"] = self.uniqueness
        if self.canonical_values:
            body["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            body["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            body["subAttributes"] = [a.to_json() for a in self.sub_attributes]
        return body


@dataclass(frozen=True, eq=False)
class Schema:
    """One schema; compared and hashed by identity (one object per schema URN)."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Attribute]:
        return _by_lower_name(self.attributes)

    def to_json(self, base_url: str = "") -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_json() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{self.id}"},
        }


def _by_lower_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    """Attributes by lower-cased name; the first wins should two names differ in case only."""
    return {a.name.lower(): a for a in reversed(attributes)}


def _s(name: str, **kw: Any) -> Attribute:
    return Attribute(name=name, **kw)


def _multi(name: str, types: tuple[str, ...], value_type: str = "string", **kw: Any) -> Attribute:
    """A multi-valued complex attribute with the RFC 7643 §2.4 sub-attributes."""
    value_kw: dict[str, Any] = {"type": value_type}
    if value_type == "reference":
        value_kw["reference_types"] = ("external",)
    subs = (
        _s("value", **value_kw),
        _s("display"),
        _s("type", canonical_values=types),
        _s("primary", type="boolean"),
    )
    return Attribute(name=name, type="complex", multi_valued=True, sub_attributes=subs, **kw)


# RFC 7643 §3.1: attributes every resource has.
COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    _s("id", case_exact=True, mutability="readOnly", returned="always", uniqueness="server"),
    _s("externalId", case_exact=True),
    Attribute(
        name="meta",
        type="complex",
        mutability="readOnly",
        sub_attributes=(
            _s("resourceType", case_exact=True, mutability="readOnly"),
            _s("created", type="dateTime", mutability="readOnly"),
            _s("lastModified", type="dateTime", mutability="readOnly"),
            _s("location", type="reference", case_exact=True, mutability="readOnly",
               reference_types=("uri",)),
            _s("version", case_exact=True, mutability="readOnly"),
        ),
    ),
)

_NAME = Attribute(
    name="name",
    type="complex",
    sub_attributes=tuple(
        _s(n) for n in ("formatted", "familyName", "givenName", "middleName",
                        "honorificPrefix", "honorificSuffix")
    ),
)

_ADDRESSES = Attribute(
    name="addresses",
    type="complex",
    multi_valued=True,
    sub_attributes=(
        *(_s(n) for n in ("formatted", "streetAddress", "locality", "region", "postalCode",
                          "country")),
        _s("type", canonical_values=("work", "home", "other")),
        _s("primary", type="boolean"),
    ),
)

_USER_GROUPS = Attribute(
    name="groups",
    type="complex",
    multi_valued=True,
    mutability="readOnly",
    sub_attributes=(
        _s("value", mutability="readOnly"),
        _s("$ref", type="reference", mutability="readOnly", reference_types=("User", "Group")),
        _s("display", mutability="readOnly"),
        _s("type", mutability="readOnly", canonical_values=("direct", "indirect")),
    ),
)

# RFC 7643 §8.7.1, urn:ietf:params:scim:schemas:core:2.0:User
USER_SCHEMA = Schema(
    id=USER_URN,
    name="User",
    description="User Account",
    attributes=(
        _s("userName", required=True, uniqueness="server"),
        _NAME,
        _s("displayName"),
        _s("nickName"),
        _s("profileUrl", type="reference", reference_types=("external",)),
        _s("title"),
        _s("userType"),
        _s("preferredLanguage"),
        _s("locale"),
        _s("timezone"),
        _s("active", type="boolean"),
        _s("password", mutability="writeOnly", returned="never"),
        _multi("emails", ("work", "home", "other")),
        _multi("phoneNumbers", ("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", ("photo", "thumbnail"), value_type="reference"),
        _ADDRESSES,
        _USER_GROUPS,
        _multi("entitlements", ()),
        _multi("roles", ()),
        _multi("x509Certificates", (), value_type="binary"),
    ),
)

# RFC 7643 §8.7.1, urn:ietf:params:scim:schemas:core:2.0:Group
GROUP_SCHEMA = Schema(
    id=GROUP_URN,
    name="Group",
    description="Group",
    attributes=(
        # §4.2 calls displayName REQUIRED; Entra and authentik match groups on it.
        _s("displayName", required=True, uniqueness="server"),
        Attribute(
            name="members",
            type="complex",
            multi_valued=True,
            sub_attributes=(
                _s("value", case_exact=True, mutability="immutable"),
                _s("$ref", type="reference", mutability="immutable",
                   reference_types=("User", "Group")),
                _s("type", mutability="immutable", canonical_values=("User", "Group")),
                _s("display", mutability="readOnly"),
            ),
        ),
    ),
)

# RFC 7643 §8.7.1 / §4.3, the enterprise user extension
ENTERPRISE_SCHEMA = Schema(
    id=ENTERPRISE_URN,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _s("employeeNumber"),
        _s("costCenter"),
        _s("organization"),
        _s("division"),
        _s("department"),
        Attribute(
            name="manager",
            type="complex",
            sub_attributes=(
                _s("value", case_exact=True),
                _s("$ref", type="reference", reference_types=("User",)),
                _s("displayName", mutability="readOnly"),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class ResolvedPath:
    """An attribute path resolved against a resource type, names in canonical case."""

    schema: Schema | None  # None for the common attributes (id, externalId, meta)
    attribute: Attribute
    sub_attribute: Attribute | None = None

    @property
    def target(self) -> Attribute:
        return self.sub_attribute or self.attribute

    @property
    def canonical(self) -> str:
        """The path as it is indexed and reported: URN-prefixed for extensions."""
        tail = self.attribute.name
        if self.sub_attribute is not None:
            tail = f"{tail}.{self.sub_attribute.name}"
        if self.schema is not None and self.schema.id == ENTERPRISE_URN:
            return f"{self.schema.id}:{tail}"
        return tail


@dataclass(frozen=True, eq=False)
class ResourceType:
    """A resource type; compared and hashed by identity (there is one object per type)."""

    name: str
    endpoint: str
    core: Schema
    extensions: tuple[Schema, ...] = field(default=())
    # Every request resolves the same few dozen paths many times over.
    _resolved: dict[str, ResolvedPath | None] = field(default_factory=dict, repr=False)

    @property
    def schemas(self) -> tuple[Schema, ...]:
        return (self.core, *self.extensions)

    def schema_by_urn(self, urn: str) -> Schema | None:
        return self._schemas_by_urn.get(urn.lower())

    @cached_property
    def _schemas_by_urn(self) -> dict[str, Schema]:
        return {s.id.lower(): s for s in reversed(self.schemas)}

    def resolve(self, path: str) -> ResolvedPath | None:
        """Resolve `name`, `name.sub` or `urn:…:name.sub` in any letter case (RFC 7644 §3.10).

        Returns None when no such attribute exists.
        """
        try:
            return self._resolved[path]
        except KeyError:
            found = self._resolve(path)
            if len(self._resolved) < 10_000:  # bounded: paths come from clients
                self._resolved[path] = found
            return found

    def _resolve(self, path: str) -> ResolvedPath | None:
        schema, rest = self._split_urn(path)
        if schema is None and rest is None:
            return None
        head, _, sub_name = (rest or "").partition(".")
        attribute = self._find(schema, head)
        if attribute is None:
            return None
        owner = None if attribute in COMMON_ATTRIBUTES else (schema or self.core)
        if not sub_name:
            return ResolvedPath(owner, attribute)
        sub = attribute.sub(sub_name)
        if sub is None or "." in sub_name:
            return None
        return ResolvedPath(owner, attribute, sub)

    def _split_urn(self, path: str) -> tuple[Schema | None, str | None]:
        if not path.lower().startswith("urn:"):
            return None, path
        # Longest schema URN that prefixes the path, followed by ":" (RFC 7644 §3.10).
        for schema in sorted(self.schemas, key=lambda s: -len(s.id)):
            prefix = schema.id.lower() + ":"
            if path.lower().startswith(prefix):
                return schema, path[len(prefix):]
        return None, None

    def _find(self, schema: Schema | None, name: str) -> Attribute | None:
        if schema is not None:
            found = schema.attribute(name)
            if found is not None or schema is not self.core:
                return found
        lowered = name.lower()
        common = next((a for a in COMMON_ATTRIBUTES if a.name.lower() == lowered), None)
        return common or self.core.attribute(name)

    def to_json(self, base_url: str = "") -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.core.description,
            "schema": self.core.id,
            "schemaExtensions": [{"schema": s.id, "required": False} for s in self.extensions],
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{base_url}/ResourceTypes/{self.name}",
            },
        }


USER = ResourceType("User", "/Users", USER_SCHEMA, (ENTERPRISE_SCHEMA,))
GROUP = ResourceType("Group", "/Groups", GROUP_SCHEMA)
RESOURCE_TYPES: dict[str, ResourceType] = {"User": USER, "Group": GROUP}
ALL_SCHEMAS: tuple[Schema, ...] = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA)
