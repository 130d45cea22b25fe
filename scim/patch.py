"""The PATCH engine (RFC 7644 §3.5.2): operations applied to a copy of a resource document.

    new_doc = apply_patch(GROUP, current_doc, [PatchOperation("add", "members", [...])])

Pure: the input is never changed; the first failing operation raises and nothing applies
(RFC 7644 §3.5.2: "all or nothing"). Operations arrive normalised (`scim.normalize_patch`);
the engine still takes add/replace without a path whose value is an object of attributes.

Decisions:
- unknown `op` → 400 invalidSyntax, as the normaliser does (RFC 7644 §3.5.2 "op" MUST be add,
  remove or replace, so the message does not match its schema, §3.12 invalidSyntax);
- add to a value filter that matches nothing creates the value the filter describes when the
  filter is `eq` terms joined by `and` (Entra adds `emails[type eq "work"].value` to users without
  one); replace with such a filter → noTarget (RFC 7644 §3.5.2.3); remove → nothing to do
  (Okta removes non-members, RFC 7644 §3.5.2.2 leaves it open);
- readOnly attributes may be "changed" to their current value (clients resend id and meta);
  readOnly sub-attributes inside a new value of a writable attribute (`members.display`) are
  ignored; immutable ones may be set while unset (RFC 7644 §3.5.2 intro);
- null or an empty array for add is nothing to add; for replace it removes (RFC 7643 §2.5);
- `emails.type` (a sub-attribute of a multi-valued attribute, no filter) means every value;
  add or replace on an attribute with no values yet creates one.
Callers set meta.lastModified / version; the engine leaves meta as it is.
"""

from __future__ import annotations

from typing import Any

from scim.errors import (
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    NoTarget,
    ScimError,
)
from scim.filter import PathSpec, parse_path
from scim.filter_ast import And, Compare, Node
from scim.patch_doc import Document, assign, element_of, find_key, scalar, unset
from scim.patch_op import PatchOperation
from scim.patch_values import Values, editing
from scim.schemas import Attribute, ResourceType, Schema

__all__ = ["PatchOperation", "apply_patch"]

OPS = ("add", "remove", "replace")


def apply_patch(
    resource_type: ResourceType, resource: dict[str, Any], operations: list[PatchOperation]
) -> dict[str, Any]:
    """A new document: `resource` with `operations` applied in order, or a ScimError."""
    doc = Document(resource_type, resource)
    for number, operation in enumerate(operations, start=1):
        try:
            _apply(doc, operation)
        except ScimError as exc:
            raise type(exc)(f"Operation {number}: {exc.detail}") from exc
    return doc.finish()


def _apply(doc: Document, operation: PatchOperation) -> None:
    op = operation.op.lower() if isinstance(operation.op, str) else None
    if op not in OPS:
        raise InvalidSyntax(f"PATCH op {operation.op!r} is not one of add, remove, replace")
    path = operation.path.strip() if isinstance(operation.path, str) else operation.path
    if path is None or path == "":
        _without_path(doc, op, operation.value)
        return
    if not isinstance(path, str):
        raise InvalidPath(f"PATCH path must be a string, not {path!r}")
    extension = doc.rt.schema_by_urn(path)
    if extension is not None and extension is not doc.rt.core:
        _on_extension(doc, op, extension, operation.value)
    elif path.lower() == "schemas":
        _on_schemas(doc, op, operation.value)
    else:
        spec = parse_path(path, doc.rt)
        if spec.filter is not None and not spec.attr.attribute.multi_valued:
            raise InvalidPath(f"'{spec.attr.canonical}' is single-valued: no '[filter]' on it")
        {"add": _add, "replace": _replace, "remove": _remove}[op](doc, spec, operation.value)


def _without_path(doc: Document, op: str, value: Any) -> None:
    """RFC 7644 §3.5.2.1 / §3.5.2.3: no path targets the resource; the value is attributes."""
    if op == "remove":
        raise NoTarget("A PATCH remove needs a path (RFC 7644 §3.5.2.2)")
    if not isinstance(value, dict):
        raise InvalidValue(f"A PATCH {op} without a path needs an object value")
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidPath(f"{key!r} is not an attribute name")
        _apply(doc, PatchOperation(op, key, item))


def _on_extension(doc: Document, op: str, schema: Schema, value: Any) -> None:
    """A path naming a whole extension (`urn:…:enterprise:2.0:User`): its attributes."""
    if op == "remove":
        key = find_key(doc.data, schema.id)
        if key is not None:
            del doc.data[key]
            doc.touched.add(schema.id)
        return
    if _unset(value):
        return
    if not isinstance(value, dict):
        raise InvalidValue(f"'{schema.id}' takes an object of its attributes")
    for key, item in value.items():
        _apply(doc, PatchOperation(op, f"{schema.id}:{key}", item))


def _on_schemas(doc: Document, op: str, value: Any) -> None:
    """`schemas` (RFC 7643 §3): known URNs only; the extensions with data are added at the end."""
    if op == "remove":
        raise InvalidValue("'schemas' is required and cannot be removed")
    urns = value if isinstance(value, list) else [value]
    known = [doc.rt.schema_by_urn(u) if isinstance(u, str) else None for u in urns]
    if any(s is None for s in known):
        raise InvalidValue(f"'schemas' may only list {[s.id for s in doc.rt.schemas]}")
    current = [] if op == "replace" else list(doc.data.get("schemas") or [])
    canonical = [_canonical_urn(doc.rt, u) for u in current]
    given = [s.id for s in known if s is not None]
    doc.data["schemas"] = list(dict.fromkeys([doc.rt.core.id, *canonical, *given]))
    doc.touched.update(s.id for s in doc.rt.extensions)  # listed exactly when they have data


def _canonical_urn(rt: ResourceType, urn: Any) -> Any:
    schema = rt.schema_by_urn(urn) if isinstance(urn, str) else None
    return schema.id if schema is not None else urn


def _unset(value: Any) -> bool:
    return value is None or value == []


def _add(doc: Document, spec: PathSpec, value: Any) -> None:
    """RFC 7644 §3.5.2.1."""
    if _unset(value):
        return
    attribute, where = spec.attr.attribute, _where(spec)
    if spec.filter is not None:
        _add_filtered(doc, spec, value)
    elif attribute.multi_valued and spec.sub is not None:
        _set_sub_everywhere(doc, spec, value)
    elif attribute.multi_valued:
        with editing(doc.values(spec.attr), where) as values:
            for item in value if isinstance(value, list) else [value]:
                element = element_of(attribute, item, where)
                if element not in ({}, None):
                    values.add(element)  # an equal value already there is not added again
    elif spec.sub is not None or attribute.type == "complex":
        _merge(doc, spec, value)
    else:
        container = doc.container(spec.attr, create=True)
        assert container is not None
        assign(container, attribute, scalar(attribute, value, where), where)


def _replace(doc: Document, spec: PathSpec, value: Any) -> None:
    """RFC 7644 §3.5.2.3."""
    if _unset(value):
        _remove(doc, spec, None)
        return
    attribute, where = spec.attr.attribute, _where(spec)
    if spec.filter is not None:
        with editing(doc.values(spec.attr), where) as values:
            matched = values.select(spec.filter)
            if not matched:
                raise NoTarget(f"No value of '{spec.attr.canonical}' matches the filter")
            for element in matched:
                if spec.sub is not None:
                    assign(element, spec.sub, scalar(spec.sub, value, where), where)
                else:
                    values.replace(element, element_of(attribute, _one(value, where), where))
    elif attribute.multi_valued and spec.sub is not None:
        _set_sub_everywhere(doc, spec, value)
    elif attribute.multi_valued:
        with editing(doc.values(spec.attr), where) as values:
            items = [element_of(attribute, v, where) for v in _many(value)]
            values.set_all([e for e in items if e not in ({}, None)])
    elif spec.sub is not None or attribute.type == "complex":
        _merge(doc, spec, value)  # sub-attributes not given are left unchanged
    else:
        container = doc.container(spec.attr, create=True)
        assert container is not None
        assign(container, attribute, scalar(attribute, value, where), where)


def _remove(doc: Document, spec: PathSpec, value: Any) -> None:
    """RFC 7644 §3.5.2.2; a filter that matches nothing removes nothing."""
    attribute, where = spec.attr.attribute, _where(spec)
    if attribute.multi_valued:
        with editing(doc.values(spec.attr), where) as values:
            chosen = values.select(spec.filter) if spec.filter is not None else values.elements()
            if spec.sub is not None:
                for element in chosen:
                    if isinstance(element, dict):
                        unset(element, spec.sub, where)
            elif spec.filter is None and isinstance(value, list) and value:
                _remove_listed(values, attribute, value, where)  # Entra's value-list selector
            else:
                values.remove(list(chosen))
        return
    container = doc.container(spec.attr, create=False)
    if container is None:
        return
    key = find_key(container, attribute.name)
    current = container.get(key) if key is not None else None
    if spec.sub is not None and isinstance(current, dict) and key is not None:
        unset(current, spec.sub, where)
        if not current:
            del container[key]
    elif spec.sub is None:
        unset(container, attribute, where)


def _remove_listed(values: Values, attribute: Attribute, listed: list[Any], where: str) -> None:
    values.remove(values.equal_to([element_of(attribute, v, where) for v in listed]))


def _add_filtered(doc: Document, spec: PathSpec, value: Any) -> None:
    attribute, where = spec.attr.attribute, _where(spec)
    assert spec.filter is not None
    with editing(doc.values(spec.attr), where) as values:
        matched = values.select(spec.filter)
        if not matched:
            seed = _described(spec.filter)
            if seed is None:
                raise NoTarget(f"No value of '{spec.attr.canonical}' matches the filter")
            extra = {spec.sub.name: value} if spec.sub is not None else _one(value, where)
            if not isinstance(extra, dict):
                raise InvalidValue(f"'{where}' takes an object")
            values.add(element_of(attribute, {**seed, **extra}, where))
            return
        for element in matched:
            _merge_into(element, attribute, spec.sub, value, where)


def _described(node: Node) -> dict[str, Any] | None:
    """The value a filter of `eq` terms joined by `and` describes, e.g. {"type": "work"}."""
    terms = node.items if isinstance(node, And) else (node,)
    seed: dict[str, Any] = {}
    for term in terms:
        if not isinstance(term, Compare) or term.op != "eq" or term.value is None:
            return None
        if term.path.sub_attribute is None:
            return None
        seed[term.path.sub_attribute.name] = term.value
    return seed


def _set_sub_everywhere(doc: Document, spec: PathSpec, value: Any) -> None:
    """`emails.type` without a filter: every value; with none yet, one new value."""
    attribute, where = spec.attr.attribute, _where(spec)
    assert spec.sub is not None
    with editing(doc.values(spec.attr), where) as values:
        if not values.elements():
            values.add(element_of(attribute, {spec.sub.name: value}, where))
        for element in values.elements():
            assign(element, spec.sub, scalar(spec.sub, value, where), where)


def _merge(doc: Document, spec: PathSpec, value: Any) -> None:
    """A complex singular attribute (`name`, `manager`, `meta`): sub-attributes set one by one."""
    attribute, where = spec.attr.attribute, _where(spec)
    container = doc.container(spec.attr, create=True)
    assert container is not None
    key = find_key(container, attribute.name)
    current = container.get(key) if key is not None else None
    target = current if isinstance(current, dict) else {}
    _merge_into(target, attribute, spec.sub, value, where)
    if key is not None and key != attribute.name:
        del container[key]
    if target or key is not None:
        container[attribute.name] = target


def _merge_into(
    target: dict[str, Any], attribute: Attribute, sub: Attribute | None, value: Any, where: str
) -> None:
    if sub is not None:
        assign(target, sub, scalar(sub, value, where), where)
        return
    for name, item in element_of(attribute, _one(value, where), where).items():
        assign(target, attribute.sub(name) or attribute, item, f"{where}.{name}")


def _one(value: Any, where: str) -> Any:
    if isinstance(value, list):
        if len(value) != 1:
            raise InvalidValue(f"'{where}' takes one value, not a list")
        return value[0]
    return value


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _where(spec: PathSpec) -> str:
    return spec.attr.canonical + (f".{spec.sub.name}" if spec.sub is not None else "")
