"""What an Entra JWT costs a SCIM request, against a static bearer token, same run.

    .venv/bin/python -m bench.scim_jwt_auth [--requests 2000]

In-process (Flask test client, SQLite in a temporary folder, no Redis): GET
/scim/v2/ServiceProviderConfig, the cheapest authenticated path, so the auth check dominates.
The JWT comes from the Entra emulator's token endpoint (client credentials for
api://<client id>/.default); its key set is fetched once and cached, as in production.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from azure.identity import ClientSecretCredential

from tests.emulator.clients import credential_kwargs
from tests.emulator.server import EntraEmulator

PATH = "/scim/v2/ServiceProviderConfig"


def timed(client: Any, token: str, count: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(PATH, headers=headers)
        samples.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    from webapp import create_app
    from webapp.store import upgrade_database
    from webapp.tokens import create_token

    with EntraEmulator() as entra, tempfile.TemporaryDirectory() as folder:
        env = {k.removeprefix("SCIM2ENTRA_"): v for k, v in entra.env().items()}
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "SECRET_KEY": "bench",
                          "DATABASE_URL": f"sqlite:///{folder}/bench.db", **env})
        upgrade_database(app)
        with app.app_context():
            static = create_token("bench")
        jwt_token = ClientSecretCredential(
            entra.tenant_id, entra.client_id, entra.client_secret, **credential_kwargs(entra)
        ).get_token(f"api://{entra.client_id}/.default").token
        client = app.test_client()
        timed(client, static, 50)  # warm both paths (imports, key set fetch)
        timed(client, jwt_token, 50)
        static_s = timed(client, static, args.requests)
        jwt_s = timed(client, jwt_token, args.requests)
    static_ms, jwt_ms = statistics.median(static_s) * 1000, statistics.median(jwt_s) * 1000
    print(f"{args.requests} GET {PATH} each, median per request")
    print(f"static token : {static_ms:6.3f} ms")
    print(f"Entra JWT    : {jwt_ms:6.3f} ms")
    print(f"JWT / static : {jwt_ms / static_ms:.2f}  (JWT adds {jwt_ms - static_ms:.3f} ms)")


if __name__ == "__main__":
    main()
