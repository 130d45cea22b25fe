"""Property mappings: authentik-compatible Python expression files -> Graph payloads.

    engine = MappingEngine.load(os.environ.get("SCIM2ENTRA_MAPPINGS_DIR"))
    payload = engine.evaluate_user(scim_resource, password, connection, provider)
    payload.graph_json, payload.patch_json, payload.digest

Outcomes other than a payload are exceptions: SkipObject, ObjectError, MappingConfigError.
"""

from mappings.compiler import CompiledMapping, compile_mapping
from mappings.context import (
    Connection,
    ConnectionLike,
    MappingRequest,
    ProviderContext,
    ScimGroup,
    ScimUser,
)
from mappings.engine import ENV_VAR, KINDS, MappedPayload, MappingEngine, deep_merge
from mappings.errors import MappingConfigError, ObjectError, SkipObject
from mappings.graph_json import (
    WRITE_ONCE_FIELDS,
    canonical_json,
    graph_key,
    payload_hash,
    to_graph_json,
    without_write_once,
)
from mappings.preview import preview

__all__ = [
    "ENV_VAR",
    "KINDS",
    "WRITE_ONCE_FIELDS",
    "CompiledMapping",
    "Connection",
    "ConnectionLike",
    "MappedPayload",
    "MappingConfigError",
    "MappingEngine",
    "MappingRequest",
    "ObjectError",
    "ProviderContext",
    "ScimGroup",
    "ScimUser",
    "SkipObject",
    "canonical_json",
    "compile_mapping",
    "deep_merge",
    "graph_key",
    "payload_hash",
    "preview",
    "to_graph_json",
    "without_write_once",
]
