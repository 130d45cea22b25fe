"""The operator docs agree with the code: configuration table, env example, permissions."""

from __future__ import annotations

import re
from pathlib import Path

from webapp.config import DEFAULTS, PREFIX

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PACKAGES = ("webapp", "scim", "jobs", "mappings")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def table_variables() -> set[str]:
    """Every variable named in the first column of README's configuration table; a row
    may abbreviate further names of one family (`SCIM2ENTRA_TENANT_ID`, `_CLIENT_ID`)."""
    names: set[str] = set()
    for line in section("Configuration").splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        names |= {PREFIX + n.removeprefix(PREFIX).lstrip("_")
                  for n in re.findall(r"`((?:SCIM2ENTRA)?_[A-Z0-9_]+)`", first)}
    return names


def read_by_code(name: str) -> bool:
    return any(name in path.read_text() for package in PACKAGES
               for path in (ROOT / package).rglob("*.py"))


def test_every_setting_is_documented_and_every_documented_one_exists() -> None:
    documented = table_variables()
    missing = {PREFIX + key for key in DEFAULTS} - documented
    assert not missing, f"add to README's configuration table: {sorted(missing)}"
    unknown = {name for name in documented - {PREFIX + key for key in DEFAULTS}
               if not read_by_code(name)}
    assert not unknown, f"README documents variables no code reads: {sorted(unknown)}"


def test_env_example_names_only_real_settings() -> None:
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*(SCIM2ENTRA_[A-Z0-9_]+)=", example, re.M))
    assert named, "the env example sets no SCIM2ENTRA_ variable"
    known = {PREFIX + key for key in DEFAULTS}
    unknown = {name for name in named - known if not read_by_code(name)}
    assert not unknown, f".env.example sets variables no code reads: {sorted(unknown)}"


def test_app_registration_lists_exactly_the_seed_permissions() -> None:
    text = section("Entra app registration")
    permissions = set(re.findall(r"^\s*- `([A-Za-z.]+)`$", text, re.M))
    assert permissions == {"Group.Create", "Group.ReadWrite.All", "GroupMember.ReadWrite.All",
                           "User.Read", "User.ReadWrite.All"}
    assert "Application permissions" in text and "admin consent" in text


def test_operator_sections_exist() -> None:
    assert "docker compose up" in section("Deploying with docker compose")
    assert "--scale worker=" in section("Scaling workers")
    assert "db upgrade" in section("Upgrading")
    assert "pg_dump" in section("Backups")
    troubleshooting = section("Troubleshooting").lower()
    for topic in ("verified domain", "permission", "429", "heartbeat"):
        assert topic in troubleshooting, topic
