# A mapping is a function body: the engine wraps it in a def that supplies the names.
# Default group mapping: a security group named like the SCIM group. To change it, copy
# this file into $SCIM2ENTRA_MAPPINGS_DIR/group/ (that folder then replaces the defaults).
from mappings.helpers import group_mail_nickname

if not group.name:
    raise ObjectError(f"group {group.uid!r} has no displayName")

return {
    "display_name": group.name,
    "mail_enabled": False,
    "security_enabled": True,
    # Required by Graph even for security groups; a valid slug, never empty.
    "mail_nickname": group_mail_nickname(group.name, group.uid),
}
