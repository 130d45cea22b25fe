# A mapping is a function body: the engine wraps it in a def that supplies the names.
# Default user mapping: authentik's default, improved. To change it, copy this file into
# $SCIM2ENTRA_MAPPINGS_DIR/user/ (that folder then replaces the shipped user mappings).
# Keys are Graph user properties in snake_case.
from msgraph.generated.models.password_profile import PasswordProfile

from mappings.helpers import email_domain, looks_like_email, mail_nickname, strong_password

upn = request.user.email
if upn is None and looks_like_email(request.user.username):
    # Many clients put the sign-in address in userName and send no emails.
    upn = request.user.username
if not upn:
    raise ObjectError(
        f"user {request.user.username!r} has no email and its userName is not an email address;"
        " cannot derive a userPrincipalName"
    )

# Graph refuses a UPN outside the tenant's verified domains; say so in plain words instead
# of letting the create fail with a generic 400.
domain = email_domain(upn)
if provider.verified_domains and domain not in provider.verified_domains:
    raise ObjectError(
        f"email domain '{domain}' is not a verified domain of the tenant; verify it in Entra"
        " (Settings > Domain names) or use an email-verified-users mapping (seed 001)"
    )

entra_user = {
    "display_name": request.user.name,
    "account_enabled": request.user.is_active,
    "mail_nickname": mail_nickname(request.user.username, fallback=f"user-{request.user.uid}"),
    "user_principal_name": upn,
}
if connection is None:
    # First create: Graph requires a password; without one from SCIM, a random strong one
    # (users sign in through SSO or a reset). Write-once: not hashed, not sent on updates.
    entra_user["password_profile"] = PasswordProfile(
        password=request.user.password or strong_password(),
        force_change_password_next_sign_in=False,
    )
    entra_user["on_premises_immutable_id"] = request.user.uid
else:
    # Keep the immutable id the object already has (it may predate us, found by discovery).
    immutable_id = connection.attributes.get("on_premises_immutable_id")
    if immutable_id is not None:
        entra_user["on_premises_immutable_id"] = immutable_id
return entra_user
