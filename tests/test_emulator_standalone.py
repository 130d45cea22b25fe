"""``python -m tests.emulator`` prints the SCIM2ENTRA_* variables and serves them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from azure.identity.aio import ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient

from tests.emulator.__main__ import read_env

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_standalone_prints_env_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--write-quota-scale", "10",
         "--verified-domain", "contoso.example", "--tls-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        env = read_env(proc.stdout)
        assert set(env) == {"SCIM2ENTRA_GRAPH_URL", "SCIM2ENTRA_AUTHORITY_URL",
                            "SCIM2ENTRA_CA_BUNDLE", "SCIM2ENTRA_TENANT_ID",
                            "SCIM2ENTRA_CLIENT_ID", "SCIM2ENTRA_CLIENT_SECRET"}
        assert env["SCIM2ENTRA_CA_BUNDLE"] == str(tmp_path / "ca.pem")

        async def main() -> int:
            async with ClientSecretCredential(
                env["SCIM2ENTRA_TENANT_ID"], env["SCIM2ENTRA_CLIENT_ID"],
                env["SCIM2ENTRA_CLIENT_SECRET"], authority=env["SCIM2ENTRA_AUTHORITY_URL"],
                connection_verify=env["SCIM2ENTRA_CA_BUNDLE"], disable_instance_discovery=True,
            ) as cred:
                auth = AzureIdentityAuthenticationProvider(
                    cred, scopes=["https://graph.microsoft.com/.default"])
                adapter = GraphRequestAdapter(auth)
                adapter.base_url = env["SCIM2ENTRA_GRAPH_URL"]
                users = await GraphServiceClient(request_adapter=adapter).users.get()
                return len(users.value)
        assert asyncio.run(main()) == 0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
