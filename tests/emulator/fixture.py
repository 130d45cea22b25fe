"""pytest fixtures for the Entra emulator.

``entra_emulator`` (session): one emulator on free ports for the whole run.
``entra`` (function): the same emulator, reset to the seeded tenant before each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import EntraEmulator


@pytest.fixture(scope="session")
def entra_emulator() -> Iterator[EntraEmulator]:
    emulator = EntraEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def entra(entra_emulator: EntraEmulator) -> Iterator[EntraEmulator]:
    entra_emulator.reset()
    try:
        yield entra_emulator
    finally:
        entra_emulator.clear_faults()
