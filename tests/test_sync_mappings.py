"""Custom property mappings in a real sync: seed 001, SkipObject, a broken mapping."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from tests.test_scim_users import patch_body
from tests.test_sync_users import create, entra_user

SEED_001 = Path(__file__).parent / "samples" / "mappings" / "seed-001-email-verified-users.py"


def mappings_dir(tmp_path: Path, **files: str) -> Path:
    """A SCIM2ENTRA_MAPPINGS_DIR with `user/<name>.py` files (names use _ for -)."""
    root = tmp_path / "mappings"
    (root / "user").mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (root / "user" / f"{name.replace('_', '-')}.py").write_text(body)
    return root


def test_seed_001_runs_unchanged_for_verified_and_unverified_domains(sync: Any,
                                                                      tmp_path: Path) -> None:
    root = mappings_dir(tmp_path)
    shutil.copy(SEED_001, root / "user" / "10-seed-001.py")
    # The seed lists company.com and example.com as verified; the tenant verifies example.com.
    sync.configure(MAPPINGS_DIR=str(root))
    verified = create(sync, "vera@example.com", password="Vera-Passw0rd!")
    guest = create(sync, "gus@gmail.com", password="Gus-Passw0rd!x")
    sync.drain()

    remote = entra_user(sync, "vera@example.com")
    assert remote is not None and remote["onPremisesImmutableId"] == verified
    assert sync.state("user", verified).status == "synced"

    guest_state = sync.state("user", guest)
    assert guest_state.status == "synced", guest_state.last_error
    created = sync.entra.state.get(guest_state.entra_id)
    assert created["mail"] == "gus@gmail.com"
    assert created["passwordPolicies"] == "DisablePasswordExpiration"
    assert {"signInType": "federated", "issuer": "mail",
            "issuerAssignedId": "gus@gmail.com"} in created["identities"]
    # request.user.password came from the SCIM password
    assert sync.entra.state.passwords[guest_state.entra_id] == "Gus-Passw0rd!x"


def test_skip_object_marks_skipped_with_reason(sync: Any, tmp_path: Path) -> None:
    skip = ('if request.user.username.startswith("test-"):\n'
            '    raise SkipObject("test accounts stay out of Entra")\n'
            'return None\n')
    root = mappings_dir(tmp_path, **{"20_skip": skip})
    shutil.copytree(Path("mappings/defaults/user"), root / "user", dirs_exist_ok=True)
    sync.configure(MAPPINGS_DIR=str(root))
    skipped = create(sync, "test-bot@example.com")
    kept = create(sync, "real@example.com")
    sync.drain()
    state = sync.state("user", skipped)
    assert state.status == "skipped" and state.skipped_reason == "test accounts stay out of Entra"
    assert entra_user(sync, "test-bot@example.com") is None
    assert sync.state("user", kept).status == "synced"


def test_broken_mapping_pauses_then_resumes_with_nothing_lost(sync: Any,
                                                             tmp_path: Path) -> None:
    broken = 'user = {"display_name": request.user.name}\nreturn user["department"]\n'
    root = mappings_dir(tmp_path, **{"10_broken": broken})
    sync.configure(MAPPINGS_DIR=str(root))
    first = create(sync, "one@example.com")
    second = create(sync, "two@example.com")
    sync.drain()
    from jobs.sync import control

    with sync.app.app_context():
        pause = control.current_pause()
    assert pause is not None and pause["reason"] == "mapping"
    assert "10-broken.py" in pause["mapping"] and pause["line"] == 2
    assert sync.state("user", first).status == "pending"
    assert sync.state("user", second).status == "pending"
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 0

    # the admin fixes the mapping; the next job notices and everything held back goes out
    time.sleep(0.01)
    (root / "user" / "10-broken.py").unlink()
    shutil.copytree(Path("mappings/defaults/user"), root / "user", dirs_exist_ok=True)
    sync.scim.patch(f"/Users/{first}", patch_body(
        {"op": "replace", "path": "displayName", "value": "One"}))
    sync.drain()
    assert entra_user(sync, "one@example.com")["displayName"] == "One"
    assert entra_user(sync, "two@example.com") is not None
    with sync.app.app_context():
        assert control.current_pause() is None
