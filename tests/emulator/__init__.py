"""A stateful Microsoft Entra ID / Graph v1.0 emulator for tests and local development.

Start it in-process (``EntraEmulator().start()``, or the pytest fixtures ``entra`` /
``entra_emulator``) or standalone with ``python -m tests.emulator``.
"""

from .server import EntraEmulator

__all__ = ["EntraEmulator"]
