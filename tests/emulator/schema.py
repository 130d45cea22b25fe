"""Property sets and value rules of the user and group resources.

user: https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
group: https://learn.microsoft.com/en-us/graph/api/resources/group?view=graph-rest-1.0
"""

from __future__ import annotations

import re
from typing import Any

from . import errors

STR, BOOL, LIST, OBJ = "str", "bool", "list", "obj"

# "Default properties" of GET /users (user-list / user-get pages): returned without $select.
USER_DEFAULT = [
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
]

USER_WRITABLE: dict[str, str] = {
    "accountEnabled": BOOL, "ageGroup": STR, "birthday": STR, "businessPhones": LIST,
    "city": STR, "companyName": STR, "consentProvidedForMinor": STR, "country": STR,
    "customSecurityAttributes": OBJ, "department": STR, "displayName": STR,
    "employeeHireDate": STR, "employeeLeaveDateTime": STR, "employeeId": STR,
    "employeeOrgData": OBJ, "employeeType": STR, "faxNumber": STR, "givenName": STR,
    "hireDate": STR, "identities": LIST, "interests": LIST, "jobTitle": STR, "mail": STR,
    "mailNickname": STR, "mobilePhone": STR, "mySite": STR, "officeLocation": STR,
    "onPremisesExtensionAttributes": OBJ, "onPremisesImmutableId": STR, "otherMails": LIST,
    "passwordPolicies": STR, "passwordProfile": OBJ, "pastProjects": LIST, "postalCode": STR,
    "preferredDataLocation": STR, "preferredLanguage": STR, "preferredName": STR,
    "responsibilities": LIST, "schools": LIST, "skills": LIST, "state": STR,
    "streetAddress": STR, "surname": STR, "usageLocation": STR, "userPrincipalName": STR,
    "userType": STR, "aboutMe": STR,
}
USER_READONLY = {
    "id", "createdDateTime", "creationType", "deletedDateTime", "externalUserState",
    "externalUserStateChangeDateTime", "imAddresses", "isResourceAccount",
    "lastPasswordChangeDateTime", "legalAgeGroupClassification", "onPremisesDistinguishedName",
    "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName", "proxyAddresses", "securityIdentifier",
    "signInSessionsValidFromDateTime", "assignedLicenses", "assignedPlans", "provisionedPlans",
    "licenseAssignmentStates", "serviceProvisioningErrors",
}
USER_REQUIRED = ["accountEnabled", "displayName", "mailNickname", "userPrincipalName",
                 "passwordProfile"]

# Properties GET /groups returns without $select (group-list page, v1.0 sample response).
GROUP_DEFAULT = [
    "id", "deletedDateTime", "classification", "createdDateTime", "creationOptions",
    "description", "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole",
    "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
    "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
    "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled",
    "securityIdentifier", "theme", "uniqueName", "visibility", "onPremisesProvisioningErrors",
    "serviceProvisioningErrors",
]
GROUP_WRITABLE: dict[str, str] = {
    "classification": STR, "description": STR, "displayName": STR, "groupTypes": LIST,
    "isAssignableToRole": BOOL, "mailEnabled": BOOL, "mailNickname": STR,
    "membershipRule": STR, "membershipRuleProcessingState": STR, "preferredDataLocation": STR,
    "preferredLanguage": STR, "securityEnabled": BOOL, "theme": STR, "visibility": STR,
    "uniqueName": STR, "resourceBehaviorOptions": LIST, "resourceProvisioningOptions": LIST,
}
GROUP_READONLY = set(GROUP_DEFAULT) - set(GROUP_WRITABLE)
GROUP_REQUIRED = ["displayName", "mailEnabled", "mailNickname", "securityEnabled"]

COLLECTIONS = {
    k for table in (USER_WRITABLE, GROUP_WRITABLE) for k, v in table.items() if v == LIST
} | {"proxyAddresses", "imAddresses", "assignedLicenses", "assignedPlans", "provisionedPlans",
     "onPremisesProvisioningErrors", "serviceProvisioningErrors", "creationOptions",
     "licenseAssignmentStates"}

USER_ALL = set(USER_WRITABLE) | USER_READONLY
GROUP_ALL = set(GROUP_WRITABLE) | GROUP_READONLY

# user resource, userPrincipalName: "The allowed characters are A-Z a-z 0-9 ' . - _ ! # ^ ~".
UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]{1,64}$")
# group resource, mailNickname: ASCII 0-127 except @ () \ [] " ; : . <> , SPACE (create group
# page); user mailNickname has the same list without the period.
GROUP_NICK_BAD = set('@()\\[]";:.<>, ')
USER_NICK_BAD = set('@()\\[]";:<>, ')
PASSWORD_MSG = (
    "The specified password does not comply with password complexity requirements. Please "
    "provide a different password."
)


def reject_unknown(body: dict[str, Any], writable: dict[str, str], readonly: set[str],
                   odata_type: str, binds: tuple[str, ...] = ()) -> None:
    """Unknown, read-only, extension and badly typed properties give 400 like the service."""
    for key, value in body.items():
        if key == "@odata.type":
            if str(value).lstrip("#") != odata_type:
                raise errors.bad_request(f"Invalid @odata.type '{value}'.")
            continue
        if key in binds:
            continue
        if key.startswith("extension_"):
            msg = f"The following extension properties are not available: {key}."
            raise errors.GraphError(400, "Request_BadRequest", msg)
        if key in readonly:
            raise errors.bad_request(f"Property '{key}' is read-only and cannot be set.", key)
        if key not in writable:
            msg = f"Property '{key}' does not exist as a declared property or extension property."
            raise errors.GraphError(400, "Request_BadRequest", msg)
        check_type(key, value, writable[key], odata_type.split(".")[-1].capitalize())


def check_type(key: str, value: Any, kind: str, resource: str) -> None:
    if value is None:
        return
    ok = {
        STR: isinstance(value, str), BOOL: isinstance(value, bool),
        LIST: isinstance(value, list), OBJ: isinstance(value, dict),
    }[kind]
    if not ok:
        raise errors.invalid_value(key, resource)


def check_required(body: dict[str, Any], names: list[str]) -> None:
    for name in names:
        if body.get(name) in (None, ""):
            raise errors.required(name)


def check_password(password: Any) -> None:
    """Entra password policy: 8-256 characters, three of the four character classes."""
    if not isinstance(password, str) or not 8 <= len(password) <= 256:
        raise errors.GraphError(400, "Request_BadRequest", PASSWORD_MSG)
    classes = [
        any(c.islower() for c in password), any(c.isupper() for c in password),
        any(c.isdigit() for c in password), any(not c.isalnum() for c in password),
    ]
    if sum(classes) < 3:
        raise errors.GraphError(400, "Request_BadRequest", PASSWORD_MSG)


def check_upn(upn: str, verified: set[str]) -> None:
    local, at, domain = upn.rpartition("@")
    bad = not at or not UPN_LOCAL.match(local) or local.startswith(".") or local.endswith(".")
    if bad or ".." in local:
        raise errors.bad_request("Property userPrincipalName is invalid.", "userPrincipalName")
    if domain.lower() not in verified:
        msg = ("The domain portion of the userPrincipalName property is invalid. You must use "
               "one of the verified domain names in your organization.")
        raise errors.bad_request(msg, "userPrincipalName")


def check_nickname(nick: Any, resource: str) -> None:
    bad = GROUP_NICK_BAD if resource == "Group" else USER_NICK_BAD
    if not isinstance(nick, str) or not 1 <= len(nick) <= 64:
        raise errors.invalid_value("mailNickname", resource)
    if any(ord(c) > 127 or c in bad for c in nick):
        raise errors.invalid_value("mailNickname", resource)


def project(obj: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Selected properties; unset ones come back as null (or [] for collections) like Graph."""
    out: dict[str, Any] = {}
    for name in names:
        out[name] = obj.get(name, [] if name in COLLECTIONS else None)
    return out
