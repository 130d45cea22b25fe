"""The SCIM 2.0 service provider at /scim/v2 (RFC 7644 §3)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from scim import discovery, service, store
from scim.auth import require_token
from scim.errors import (
    MethodNotAllowed,
    NotFound,
    NotImplementedFeature,
    PayloadTooLarge,
    ScimError,
)
from scim.http import error_response, install_error_handlers, json_body, scim_response
from scim.listing import ListQuery, list_resources, search_all
from scim.render import render
from scim.schemas import ALL_SCHEMAS, RESOURCE_TYPES, USER, ResourceType

PREFIX = "/scim/v2"
bp = Blueprint("scim", __name__, url_prefix=PREFIX)
bp.before_request(require_token)
install_error_handlers(bp)


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(413)
def _routing_error(error: HTTPException) -> Response | HTTPException:
    """Routing errors happen before the blueprint is known; give SCIM paths SCIM bodies."""
    if not request.path.startswith(PREFIX):
        return error
    if error.code == 413:
        return error_response(PayloadTooLarge("request body is too large"))
    scim_error = ScimError(error.description or error.name)
    scim_error.status = error.code or 404
    return error_response(scim_error)


def base_url() -> str:
    return request.url_root.rstrip("/") + PREFIX


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = current_app.config["SCIM2ENTRA"]
    return settings


# --- discovery (RFC 7644 §4) -------------------------------------------------------------

@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    settings = _settings()
    return scim_response(discovery.service_provider_config(
        base_url(),
        bulk_max_operations=int(settings["BULK_MAX_OPERATIONS"]),
        bulk_max_payload=int(settings["BULK_MAX_PAYLOAD_BYTES"]),
        filter_max_results=int(settings["FILTER_MAX_RESULTS"]),
    ))


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    return scim_response(discovery.resource_types_list(base_url()))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    found = discovery.resource_type(base_url(), name)
    if found is None:
        raise NotFound(f"no resource type {name!r}")
    return scim_response(found)


@bp.get("/Schemas")
def schemas() -> Response:
    return scim_response(discovery.schemas_list(base_url()))


@bp.get("/Schemas/<schema_id>")
def schema(schema_id: str) -> Response:
    found = next((s for s in ALL_SCHEMAS if s.id.lower() == schema_id.lower()), None)
    if found is None:
        raise NotFound(f"no schema {schema_id!r}")
    return scim_response(found.to_json(base_url()))


@bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def me() -> Response:
    # RFC 7644 §3.11: /Me is optional; a provider without it answers 501.
    raise NotImplementedFeature("/Me is not supported: SCIM clients here act for an app")


# --- resources (RFC 7644 §3.2–3.6) -------------------------------------------------------

def _rt(endpoint: str) -> ResourceType:
    return RESOURCE_TYPES["User" if endpoint == "Users" else "Group"]


def _one(rt: ResourceType, row: store.Row, status: int = 200) -> Response:
    query = ListQuery.from_args(request.args, _settings())
    doc = store.full_document(rt, row, new_user=status == 201 and rt is USER)
    body = render(rt, doc, base_url(), query.attributes, query.excluded)
    headers = {"ETag": store.etag(row.version)}
    if status == 201:
        headers["Location"] = body["meta"]["location"]
    return scim_response(body, status, headers)


for _endpoint in ("Users", "Groups"):

    def _collection(endpoint: str = _endpoint) -> Response:
        rt = _rt(endpoint)
        if request.method == "POST":
            return _one(rt, service.create(rt, json_body()), 201)
        query = ListQuery.from_args(request.args, _settings())
        return scim_response(list_resources(rt, query, base_url()))

    def _item(resource_id: str, endpoint: str = _endpoint) -> Response:
        rt = _rt(endpoint)
        if_match = request.headers.get("If-Match")
        if request.method == "GET":
            row = service.get(rt, resource_id)
            if_none = request.headers.get("If-None-Match")
            if if_none and store.etag(row.version) in {t.strip() for t in if_none.split(",")}:
                return Response(status=304, headers={"ETag": store.etag(row.version)})
            return _one(rt, row)
        if request.method == "PUT":
            return _one(rt, service.replace(rt, resource_id, json_body(), if_match))
        if request.method == "PATCH":
            return _one(rt, service.patch(rt, resource_id, json_body(), if_match))
        service.delete(rt, resource_id, if_match)
        return Response(status=204)

    def _search(endpoint: str = _endpoint) -> Response:
        query = ListQuery.from_body(json_body(), _settings())
        return scim_response(list_resources(_rt(endpoint), query, base_url()))

    bp.add_url_rule(f"/{_endpoint}", f"{_endpoint}_collection", _collection,
                    methods=["GET", "POST"])
    bp.add_url_rule(f"/{_endpoint}/<resource_id>", f"{_endpoint}_item", _item,
                    methods=["GET", "PUT", "PATCH", "DELETE"])
    bp.add_url_rule(f"/{_endpoint}/.search", f"{_endpoint}_search", _search, methods=["POST"])


@bp.post("/.search")
def search_root() -> Response:
    # RFC 7644 §3.4.3: a search at the root spans every resource type.
    query = ListQuery.from_body(json_body(), _settings())
    return scim_response(search_all(list(RESOURCE_TYPES.values()), query, base_url()))


@bp.post("/Bulk")
def bulk() -> Response:
    from scim.bulk import run_bulk

    settings = _settings()
    body = json_body(limit=int(settings["BULK_MAX_PAYLOAD_BYTES"]))
    return scim_response(run_bulk(body, int(settings["BULK_MAX_OPERATIONS"])))


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_path(unknown: str) -> Response:
    allowed = _methods_of(request.path)
    if allowed:
        # The path exists, the method does not (RFC 9110 §15.5.6: 405 with Allow).
        error = MethodNotAllowed(f"{request.method} is not allowed on /{unknown}")
        response = error_response(error)
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    raise NotFound(f"no SCIM endpoint /{unknown}")


def _methods_of(path: str) -> set[str]:
    """Methods the other rules accept for `path` (the catch-all above hides werkzeug's 405)."""
    adapter = current_app.url_map.bind("localhost")
    methods: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint != "scim.unknown_path":
            methods.add(method)
    return methods
