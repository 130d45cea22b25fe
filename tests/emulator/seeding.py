"""How a freshly created user or group looks (the server-set properties of a create response).

Values follow the sample responses of "Create user" and "Create group"
(https://learn.microsoft.com/en-us/graph/api/user-post-users,
https://learn.microsoft.com/en-us/graph/api/group-post-groups).
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

_GROUP_NULLS = [
    "deletedDateTime", "classification", "description", "expirationDateTime",
    "isAssignableToRole", "mail", "membershipRule", "membershipRuleProcessingState",
    "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "preferredDataLocation", "preferredLanguage", "theme", "uniqueName", "visibility",
]
_GROUP_LISTS = [
    "creationOptions", "groupTypes", "proxyAddresses", "resourceBehaviorOptions",
    "resourceProvisioningOptions", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
]


def security_identifier(object_id: str) -> str:
    """Entra's SID form for cloud objects: S-1-12-1 followed by the GUID as four uint32."""
    parts = struct.unpack("<4I", uuid.UUID(object_id).bytes_le)
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


def user_defaults(object_id: str, now: str, default_domain: str,
                  props: dict[str, Any]) -> dict[str, Any]:
    upn = str(props.get("userPrincipalName", f"{object_id}@{default_domain}"))
    local = upn.split("@")[0]
    obj: dict[str, Any] = {
        "id": object_id, "createdDateTime": now, "deletedDateTime": None,
        "accountEnabled": True, "displayName": local, "mailNickname": local, "mail": None,
        "businessPhones": [], "otherMails": [], "proxyAddresses": [], "imAddresses": [],
        "userType": "Member", "creationType": None, "onPremisesSyncEnabled": None,
        "securityIdentifier": security_identifier(object_id),
        "lastPasswordChangeDateTime": now, "passwordPolicies": None,
    }
    obj.update({k: v for k, v in props.items() if k != "passwordProfile"})
    obj["userPrincipalName"] = upn
    # The identities given, then the UPN sign-in Graph adds for every user.
    given = [i for i in props.get("identities") or [] if i.get("signInType") != "userPrincipalName"]
    obj["identities"] = [*given, {
        "signInType": "userPrincipalName", "issuer": default_domain, "issuerAssignedId": upn,
    }]
    return obj


def group_defaults(object_id: str, now: str, default_domain: str,
                   props: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = dict.fromkeys(_GROUP_NULLS)
    obj.update({name: [] for name in _GROUP_LISTS})
    obj.update({
        "id": object_id, "createdDateTime": now, "renewedDateTime": now,
        "displayName": "", "mailEnabled": False, "securityEnabled": True,
        "mailNickname": object_id.split("-")[0],
        "securityIdentifier": security_identifier(object_id),
    })
    obj.update(props)
    if "Unified" in (obj.get("groupTypes") or []):
        # Microsoft 365 groups get an address on the initial domain and a default visibility.
        obj["mail"] = f"{obj['mailNickname']}@{default_domain}"
        obj["proxyAddresses"] = [f"SMTP:{obj['mail']}"]
        obj["visibility"] = obj.get("visibility") or "Public"
    return obj
