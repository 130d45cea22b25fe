"""Make a mapped payload acceptable to Graph where the fix is unambiguous.

Seed 001 (authentik's email-verified-users mapping) sets `mail_nickname` to the username;
SCIM clients send an email there, and Graph refuses `@` in a mailNickname (user-post-users:
"mailNickname ... cannot contain @ () \\ [] " ; : <> , SPACE"). The local part, with the
forbidden characters replaced, is what the admin meant: every user would fail otherwise.
"""

from __future__ import annotations

from typing import Any

from mappings import payload_hash
from mappings.helpers import group_mail_nickname, mail_nickname


def conform(kind: str, graph_json: dict[str, Any], uid: str) -> dict[str, Any]:
    nickname = graph_json.get("mailNickname")
    if not isinstance(nickname, str):
        return graph_json
    fixed = (mail_nickname(nickname, fallback=f"user-{uid}") if kind == "user"
             else group_mail_nickname(nickname, uid))
    if fixed == nickname:
        return graph_json
    return {**graph_json, "mailNickname": fixed}


def digest_of(graph_json: dict[str, Any]) -> str:
    return payload_hash(graph_json)
