"""MappingEngine: load the mappings once, evaluate them per object, merge, convert.

Pure: no database, no Flask, no network. The sync engine gives it a stored SCIM resource,
the link (if any) and tenant facts, and gets back a MappedPayload or one of three
exceptions: SkipObject (record and skip), ObjectError (this object failed),
MappingConfigError (a mapping is broken: pause the sync and show name + line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mappings.compiler import CompiledMapping, error_line, load_folder
from mappings.context import (
    ConnectionLike,
    MappingRequest,
    ProviderContext,
    ScimGroup,
    ScimUser,
)
from mappings.errors import MappingConfigError, ObjectError, SkipObject
from mappings.graph_json import payload_hash, to_graph_json, without_write_once

KINDS = ("user", "group")
ENV_VAR = "SCIM2ENTRA_MAPPINGS_DIR"
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


@dataclass(frozen=True, slots=True)
class MappedPayload:
    """The desired state of one Entra object.

    ``data``: merged mapping results (snake_case, may hold msgraph models);
    ``graph_json``: the Graph body for a create (camelCase, plain JSON);
    ``digest``: payload_hash(graph_json), stable and blind to write-once fields.
    """

    kind: str
    data: dict[str, Any]
    graph_json: dict[str, Any]
    digest: str

    @property
    def patch_json(self) -> dict[str, Any]:
        """The body for updating an existing object (no passwordProfile)."""
        return without_write_once(self.graph_json)


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``base`` in place: nested dicts merge, anything else (scalars,
    lists, models) replaces. Unlike authentik's deepmerge, lists are not concatenated: a
    later mapping that sets ``identities`` means those identities, not more of them.
    Dicts are copied on the way in, so a mapping's returned objects are never mutated."""
    for key, value in extra.items():
        current = base.get(key)
        if isinstance(value, Mapping):
            target = current if isinstance(current, dict) else {}
            base[key] = deep_merge(target, value)
        elif isinstance(value, list):
            base[key] = list(value)
        else:
            base[key] = value
    return base


class MappingEngine:
    """Compiled user and group mappings; build once per process, share between threads."""

    def __init__(self, mappings: Mapping[str, Sequence[CompiledMapping]]) -> None:
        self.mappings: dict[str, tuple[CompiledMapping, ...]] = {
            kind: tuple(mappings[kind]) for kind in KINDS
        }

    @classmethod
    def load(cls, mappings_dir: str | os.PathLike[str] | None = None) -> MappingEngine:
        """Compile every mapping now, so a broken file fails at start, not mid-sync.

        A kind's subfolder in ``mappings_dir`` replaces the shipped defaults for that kind;
        the other kind keeps its defaults. None or "" means defaults only.
        """
        root = Path(mappings_dir) if mappings_dir else None
        if root is not None:
            _check_root(root)
        loaded: dict[str, tuple[CompiledMapping, ...]] = {}
        for kind in KINDS:
            if root is not None and (root / kind).is_dir():
                loaded[kind] = load_folder(root / kind, kind, "custom")
            else:
                loaded[kind] = load_folder(DEFAULTS_DIR / kind, kind, "default")
        return cls(loaded)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MappingEngine:
        """``load`` from SCIM2ENTRA_MAPPINGS_DIR (unset or empty: shipped defaults)."""
        env = os.environ if environ is None else environ
        return cls.load(env.get(ENV_VAR, "").strip() or None)

    def describe(self) -> list[dict[str, str]]:
        """What is loaded, in evaluation order (for the dashboard and the CLI)."""
        return [
            {"kind": m.kind, "name": m.name, "origin": m.origin}
            for kind in KINDS
            for m in self.mappings[kind]
        ]

    def evaluate_user(
        self,
        resource: Mapping[str, Any],
        password: str | None = None,
        connection: ConnectionLike | None = None,
        provider: ProviderContext | None = None,
    ) -> MappedPayload:
        user = ScimUser.from_scim(resource, password)
        args = (MappingRequest(user), user, None, connection, provider or ProviderContext())
        return self._evaluate("user", args)

    def evaluate_group(
        self,
        resource: Mapping[str, Any],
        connection: ConnectionLike | None = None,
        provider: ProviderContext | None = None,
    ) -> MappedPayload:
        group = ScimGroup.from_scim(resource)
        args = (MappingRequest(None), None, group, connection, provider or ProviderContext())
        return self._evaluate("group", args)

    def evaluate(
        self,
        kind: str,
        resource: Mapping[str, Any],
        *,
        password: str | None = None,
        connection: ConnectionLike | None = None,
        provider: ProviderContext | None = None,
    ) -> MappedPayload:
        """``evaluate_user`` or ``evaluate_group`` by name (``password`` is for users)."""
        if kind == "user":
            return self.evaluate_user(resource, password, connection, provider)
        if kind == "group":
            return self.evaluate_group(resource, connection, provider)
        raise ValueError(f"unknown mapping kind {kind!r}; expected one of {KINDS}")

    def _evaluate(self, kind: str, args: tuple[Any, ...]) -> MappedPayload:
        merged: dict[str, Any] = {}
        for mapping in self.mappings[kind]:
            result = _call(mapping, args)
            if result is not None:
                deep_merge(merged, result)
        if not merged:
            # Data-dependent (every mapping chose to return None for this object), so it
            # fails this object only rather than pausing the sync.
            raise ObjectError(f"the {kind} mappings produced no properties for this object")
        try:
            body = to_graph_json(merged)
        except (TypeError, ValueError) as exc:
            raise MappingConfigError(f"{kind} mappings", None, str(exc), kind=kind) from exc
        return MappedPayload(kind, merged, body, payload_hash(body))


def _call(mapping: CompiledMapping, args: tuple[Any, ...]) -> Mapping[str, Any] | None:
    """Run one mapping and sort its outcome into our three exception kinds."""
    try:
        result = mapping.function(*args, SkipObject, ObjectError)
    except (SkipObject, ObjectError) as exc:
        exc.mapping = exc.mapping or mapping.name
        raise
    except Exception as exc:  # any other failure means the mapping itself is wrong
        line = error_line(exc, mapping.path)
        message = f"{type(exc).__name__}: {exc}"
        raise MappingConfigError(mapping.name, line, message, kind=mapping.kind) from exc
    if result is None or isinstance(result, Mapping):
        return result
    raise MappingConfigError(
        mapping.name,
        None,
        f"returned {type(result).__name__}; a mapping must return a dict or None",
        kind=mapping.kind,
    )


def _check_root(root: Path) -> None:
    """Catch the two likely mistakes early: a wrong path, or files without kind folders."""
    if not root.is_dir():
        raise MappingConfigError(str(root), None, f"{ENV_VAR} is not a directory")
    if not any((root / kind).is_dir() for kind in KINDS) and any(root.glob("*.py")):
        raise MappingConfigError(
            str(root), None, "mapping files must be in user/ or group/ subfolders"
        )
