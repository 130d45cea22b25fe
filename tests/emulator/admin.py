"""Control endpoints on the Graph port (no authentication; the emulator is local only).

GET  /_emulator                       where things are (URLs, tenant, client id/secret)
POST /_emulator/reset                 back to the seeded tenant
GET|POST /_emulator/knobs             read / change knobs (JSON, see ``apply_knobs``)
GET|POST|DELETE /_emulator/faults     list / add one rule / clear all
GET|DELETE /_emulator/audit           entries (``?since=N`` skips the first N) / clear
POST /_emulator/seed/users|groups     create objects directly (no quota, no audit)
GET  /_emulator/state                 users, groups and memberships
POST /_emulator/expire-delta-tokens   make all issued delta tokens stale (410)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qsl

from .core import Core, json_response
from .httpserver import Request, Response


def info(core: Core) -> dict[str, Any]:
    return {
        "graph_url": f"{core.graph_base}/v1.0", "authority_url": core.authority_base,
        "tenant_id": core.tenant_id, "client_id": core.apps.default_client_id,
        "client_secret": core.apps.default_secret, "default_domain": core.state.default_domain,
    }


def knobs_view(core: Core) -> dict[str, Any]:
    knobs = core.knobs
    quota = {k: v for k, v in asdict(knobs.write_quota).items() if not k.startswith("_")}
    return {
        "latency_ms": knobs.latency_ms, "latency_jitter_ms": knobs.latency_jitter_ms,
        "replication_delay_ms": knobs.replication_delay_ms,
        "replication_hides_lists": knobs.replication_hides_lists,
        "token_lifetime_s": core.tokens.lifetime, "delta_token_ttl_s": core.delta_token_ttl_s,
        "delta_page_max": core.delta_page_max, "clock_offset_s": core.state.clock.offset,
        "signed_in_user": core.apps.signed_in_user,
        "write_quota": quota,
    }


def apply_knobs(core: Core, values: dict[str, Any]) -> None:
    """Set knobs from a dict (the admin endpoint and the Python API share this)."""
    knobs = core.knobs
    simple = {"latency_ms", "latency_jitter_ms", "replication_delay_ms",
              "replication_hides_lists"}
    for key, value in values.items():
        if key in simple:
            setattr(knobs, key, value)
        elif key == "write_quota":
            knobs.write_quota.configure(**value)
        elif key == "token_lifetime_s":
            core.tokens.lifetime = int(value)
        elif key == "delta_token_ttl_s":
            core.delta_token_ttl_s = float(value)
        elif key == "delta_page_max":
            core.delta_page_max = max(1, int(value))
        elif key == "clock_offset_s":
            core.state.clock.offset = float(value)
        elif key == "signed_in_user":
            core.apps.signed_in_user = value
        else:
            raise ValueError(f"unknown knob {key!r}")


def reset(core: Core) -> None:
    core.state.reset()
    core.state.clock.offset = 0.0
    core.apps.reset()
    core.knobs.reset()
    core.tokens.lifetime = 3599
    core.delta_token_ttl_s = 7 * 24 * 3600
    core.delta_page_max = 999
    core.audit.clear()


def state_view(core: Core) -> dict[str, Any]:
    state = core.state
    with state.lock:
        return {
            "users": list(state.users.values()), "groups": list(state.groups.values()),
            "members": {gid: state.members_of(gid) for gid in state.groups},
            "deleted": [{"id": k, "kind": v.kind} for k, v in state.deleted.items()],
        }


def _seed(core: Core, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind == "users":
        upn = body.pop("userPrincipalName", None)
        return core.state.seed_user(upn, **body)
    name = body.pop("displayName", "")
    return core.state.seed_group(name, body.pop("members", []), **body)


def handle(core: Core, req: Request) -> Response:
    try:
        return _route(core, req)
    except (ValueError, TypeError, KeyError) as exc:
        return json_response(400, {"error": str(exc)})


def _route(core: Core, req: Request) -> Response:
    path = req.path.rstrip("/").lower()[len("/_emulator"):]
    body = json.loads(req.body or b"{}") if req.method in ("POST", "PUT") else {}
    ok = json_response(200, {"ok": True})
    if path == "":
        return json_response(200, info(core))
    if path == "/reset" and req.method == "POST":
        reset(core)
        return ok
    if path == "/knobs":
        if req.method == "POST":
            apply_knobs(core, body)
        return json_response(200, knobs_view(core))
    if path == "/faults":
        return _faults(core, req.method, body)
    if path == "/audit":
        if req.method == "DELETE":
            core.audit.clear()
            return ok
        since = int(dict(parse_qsl(req.query)).get("since", 0))
        return json_response(200, [e.to_dict() for e in core.audit.entries()[since:]])
    if path in ("/seed/users", "/seed/groups") and req.method == "POST":
        return json_response(201, _seed(core, path.rsplit("/", 1)[1], body))
    if path == "/state":
        return json_response(200, state_view(core))
    if path == "/expire-delta-tokens" and req.method == "POST":
        core.state.expire_delta_tokens()
        return ok
    return json_response(404, {"error": f"no such control endpoint {req.path}"})


def _faults(core: Core, method: str, body: dict[str, Any]) -> Response:
    faults = core.knobs.faults
    if method == "POST":
        rule = faults.add(**body)
        return json_response(201, rule.to_dict())
    if method == "DELETE":
        faults.clear()
    return json_response(200, [r.to_dict() for r in faults.rules])
