"""A token cache that survives fork.

azure-identity caches tokens inside the credential, but the aio credential (its aiohttp
session) belongs to the parent's event loop and is rebuilt in a forked RQ work horse, so
every job would ask the token endpoint again (authentik-lessons.md, "a token request per
task"). ``CarriedTokenCredential`` keeps tokens in plain memory owned by the boundary: a
child starts with the parent's tokens and only refreshes near expiry.
Client credentials tokens carry ``expires_in`` (v2-oauth2-client-creds-grant-flow).
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

REFRESH_MARGIN = 300  # seconds before expiry a token is refreshed


class TokenCache:
    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], AccessToken] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> AccessToken | None:
        with self.lock:
            token = self._tokens.get(key)
        if token is None or token.expires_on - time.time() < REFRESH_MARGIN:
            return None
        return token

    def put(self, key: tuple[str, ...], token: AccessToken) -> None:
        with self.lock:
            self._tokens[key] = token

    def after_fork(self) -> None:
        self.lock = threading.Lock()


class CarriedTokenCredential:
    """AsyncTokenCredential over another one, caching in a ``TokenCache``."""

    def __init__(self, inner: AsyncTokenCredential, cache: TokenCache) -> None:
        self.inner = inner
        self.cache = cache

    async def get_token(self, *scopes: str, claims: str | None = None,
                        tenant_id: str | None = None, enable_cae: bool = False,
                        **kwargs: Any) -> AccessToken:
        key = (*scopes, f"cae={enable_cae}", f"tenant={tenant_id}")
        if claims is None:  # a CAE claims challenge always goes to the authority
            found = self.cache.get(key)
            if found is not None:
                return found
        token = await self.inner.get_token(*scopes, claims=claims, tenant_id=tenant_id,
                                           enable_cae=enable_cae, **kwargs)
        self.cache.put(key, token)
        return token

    async def close(self) -> None:
        await self.inner.close()

    async def __aenter__(self) -> CarriedTokenCredential:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.close()
