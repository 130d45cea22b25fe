"""The Graph boundary and the per-type clients (see boundary.py for the rules)."""

from jobs.graph.batch import BatchRequest, BatchResponse
from jobs.graph.boundary import GraphBoundary, shared_boundary, warm_models
from jobs.graph.directory import Remote
from jobs.graph.dryrun import PlanEntry
from jobs.graph.errors import (
    AlreadyMember,
    AmbiguousWrite,
    AuthFailed,
    BadRequest,
    GraphSyncError,
    NotFound,
    ObjectConflict,
    Throttled,
    Transient,
    render_table,
)
from jobs.graph.groups import GroupsClient, MemberChanges
from jobs.graph.pacing import Pacer, TokenBucketPacer
from jobs.graph.settings import GraphSettings
from jobs.graph.users import UsersClient
from jobs.graph.writer import WriteResult, write

__all__ = [
    "AlreadyMember", "AmbiguousWrite", "AuthFailed", "BadRequest", "BatchRequest",
    "BatchResponse", "GraphBoundary", "GraphSettings", "GraphSyncError", "GroupsClient",
    "MemberChanges", "NotFound", "ObjectConflict", "Pacer", "PlanEntry", "Remote",
    "Throttled", "TokenBucketPacer", "Transient", "UsersClient", "WriteResult",
    "render_table", "shared_boundary", "warm_models", "write",
]
