"""The objects a mapping sees: ``request``, ``user``, ``group``, ``connection``, ``provider``.

They mirror the attributes authentik's Entra mappings use (``request.user.email`` …) but are
built from a stored SCIM resource, so mappings written for authentik run unchanged. They are
frozen: a mapping computes a payload, it must not alter the object it describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


def scim_get(resource: Mapping[str, Any], key: str) -> Any:
    """Read a top-level SCIM attribute; SCIM attribute names are case-insensitive (RFC 7643)."""
    if key in resource:
        return resource[key]
    lowered = key.lower()
    for name, value in resource.items():
        if name.lower() == lowered:
            return value
    return None


def _text(value: Any) -> str | None:
    """A non-blank string, or None: SCIM clients send "" where they mean "absent"."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _truthy(value: Any, default: bool) -> bool:
    # Some clients send "True"/"False" strings; the SCIM layer should normalise, we tolerate.
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def primary_email(emails: Any) -> str | None:
    """The ``primary: true`` entry, else the first with a value, else None (never invented)."""
    if not isinstance(emails, list):
        return None
    values = [e for e in emails if isinstance(e, Mapping) and _text(e.get("value"))]
    for entry in values:
        if _truthy(entry.get("primary"), default=False):
            return _text(entry.get("value"))
    return _text(values[0].get("value")) if values else None


def display_name(resource: Mapping[str, Any]) -> str | None:
    """displayName, else name.formatted, else "given family", else userName."""
    name = scim_get(resource, "name")
    name = name if isinstance(name, Mapping) else {}
    parts = [_text(name.get("givenName")), _text(name.get("familyName"))]
    given_family = " ".join(p for p in parts if p) or None
    return (
        _text(scim_get(resource, "displayName"))
        or _text(name.get("formatted"))
        or given_family
        or _text(scim_get(resource, "userName"))
    )


@dataclass(frozen=True, slots=True)
class ScimUser:
    """``request.user`` / ``user`` in a user mapping."""

    username: str | None
    name: str | None
    email: str | None
    is_active: bool
    uid: str | None
    password: str | None
    attributes: Mapping[str, Any]

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any], password: str | None = None) -> ScimUser:
        uid = scim_get(resource, "id")
        return cls(
            username=_text(scim_get(resource, "userName")),
            name=display_name(resource),
            email=primary_email(scim_get(resource, "emails")),
            is_active=_truthy(scim_get(resource, "active"), default=True),
            uid=None if uid is None else str(uid),
            password=password or None,
            attributes=resource,
        )


@dataclass(frozen=True, slots=True)
class ScimGroup:
    """``group`` in a group mapping."""

    name: str | None
    uid: str | None
    attributes: Mapping[str, Any]

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> ScimGroup:
        uid = scim_get(resource, "id")
        return cls(
            name=_text(scim_get(resource, "displayName")),
            uid=None if uid is None else str(uid),
            attributes=resource,
        )


@dataclass(frozen=True, slots=True)
class MappingRequest:
    """``request``: present in group mappings too, with ``user=None``, so
    ``request.user`` never raises AttributeError in a mapping shared by both kinds."""

    user: ScimUser | None = None


class ConnectionLike(Protocol):
    """Anything with ``.attributes`` works, e.g. the sync engine's own link row."""

    @property
    def attributes(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Connection:
    """``connection``: the existing link; ``attributes`` are the last remote attributes
    in snake_case (``{"on_premises_immutable_id": "..."}``)."""

    attributes: Mapping[str, Any] = field(default_factory=dict)
    entra_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """``provider``: tenant facts and settings supplied by the caller."""

    name: str = "scim2entra"
    tenant_id: str | None = None
    verified_domains: frozenset[str] = frozenset()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        name: str = "scim2entra",
        tenant_id: str | None = None,
        verified_domains: Iterable[str] = (),
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        # Domains compare case-insensitively; normalise once here, not in every mapping.
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "tenant_id", tenant_id)
        domains = frozenset(d.strip().lower() for d in verified_domains if d and d.strip())
        object.__setattr__(self, "verified_domains", domains)
        object.__setattr__(self, "settings", dict(settings or {}))
