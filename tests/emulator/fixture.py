"""pytest fixtures for the Entra emulator (filled in by the emulator work)."""
