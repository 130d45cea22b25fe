"""Which users sync at all: service-account exclusion and the filter groups.

authentik's "User filtering" (seed 004): service accounts can be excluded, and a group can
limit the sync to its members. Here both are settings (CONTRACT.md) and the scope is decided
at every sync of a user, so leaving or entering it takes effect at once, not at the next
full sync (authentik-lessons.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from webapp.config import as_bool, as_list
from webapp.extensions import db
from webapp.models import Membership, ScimGroup, ScimUser


def service_account_types(settings: Mapping[str, Any]) -> set[str]:
    return {t.casefold() for t in as_list(settings.get("SERVICE_ACCOUNT_TYPES"))}


def filter_group_keys(settings: Mapping[str, Any]) -> set[str]:
    """The filter groups' names as the store keys them (display_name_key, case-folded)."""
    return {name.casefold() for name in as_list(settings.get("FILTER_GROUPS"))}


def out_of_scope(user: ScimUser, settings: Mapping[str, Any]) -> str | None:
    """Why `user` must not be in Entra, or None when it must be."""
    excluding = as_bool(settings.get("EXCLUDE_SERVICE_ACCOUNTS", "true"))
    if excluding and (user.user_type or "").casefold() in service_account_types(settings):
        return f"service account (userType {user.user_type!r}) excluded by settings"
    wanted = filter_group_keys(settings)
    if wanted and not _member_of_any(user.id, wanted):
        names = ", ".join(sorted(as_list(settings.get("FILTER_GROUPS"))))
        return f"not a direct member of the filter groups ({names})"
    return None


def _member_of_any(user_id: str, group_keys: set[str]) -> bool:
    found = db.session.scalar(
        select(Membership.group_id)
        .join(ScimGroup, ScimGroup.id == Membership.group_id)
        .where(Membership.member_id == user_id, ScimGroup.display_name_key.in_(group_keys))
        .limit(1))
    return found is not None


def is_filter_group(name: str | None, settings: Mapping[str, Any]) -> bool:
    return bool(name) and str(name).casefold() in filter_group_keys(settings)
