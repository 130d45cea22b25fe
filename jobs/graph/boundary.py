"""The one Graph boundary: every Graph request of scim2entra goes through ``GraphBoundary``.

It owns, per worker process: the credential and its token cache, the SDK request adapter,
the event loop (``LoopRunner``), dry-run, write pacing, retries and error translation.
Sync callers (RQ jobs) call plain methods; the coroutines run on the process's loop.
After a fork the pid check builds loop, client and credential again in the child.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from jobs.graph import batch as batching
from jobs.graph import dryrun, forksafe, sdk, urls
from jobs.graph.errors import (
    AmbiguousWrite,
    AuthFailed,
    GraphSyncError,
    Throttled,
    Transient,
    classify,
)
from jobs.graph.fresh import FreshIds
from jobs.graph.pacing import Pacer, TokenBucketPacer
from jobs.graph.retry import RetryPolicy
from jobs.graph.runner import LoopRunner, LoopTimeout
from jobs.graph.settings import GRAPH_SCOPE, GraphSettings
from jobs.graph.tokens import CarriedTokenCredential, TokenCache
from webapp import metrics

log = logging.getLogger(__name__)
JSON = dict[str, Any]
_EMPTY_PAGE: JSON = {"value": []}


@dataclass
class _Process:
    pid: int
    runner: LoopRunner
    credential: Any
    http: Any
    adapter: Any


class GraphBoundary:
    def __init__(self, settings: GraphSettings, pacer: Pacer | None = None,
                 plan_sink: dryrun.PlanSink | None = None,
                 policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.pacer: Pacer = pacer or TokenBucketPacer(settings.writes_per_second)
        self.plan_sink = plan_sink
        self.policy = policy or RetryPolicy(settings.max_attempts, settings.max_wait)
        self._proc: _Process | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self.fresh = FreshIds()
        self.tokens = TokenCache()  # plain memory: a forked child inherits the tokens
        forksafe.register(self)

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        self.fresh.after_fork()
        self.tokens.after_fork()

    # -- process state -------------------------------------------------------------------
    def _process(self) -> _Process:
        proc = self._proc
        if proc is not None and proc.pid == os.getpid() and not proc.runner.stale:
            return proc
        with self._lock:
            proc = self._proc
            if proc is None or proc.pid != os.getpid() or proc.runner.stale:
                # after a fork the parent's loop thread is gone: drop (never close) its objects
                self._proc = proc = self._build()
            return proc

    def _build(self) -> _Process:
        runner = LoopRunner()

        async def make() -> tuple[Any, Any, Any]:
            credential = CarriedTokenCredential(sdk.make_credential(self.settings), self.tokens)
            http, transport = sdk.make_http_client(self.settings)
            return credential, (http, transport), sdk.make_adapter(self.settings, credential,
                                                                   http)

        try:
            credential, http, adapter = runner.run(make(), timeout=30)
        except (ValueError, OSError) as exc:  # no credentials, unreadable certificate
            runner.stop()
            raise AuthFailed(f"Graph credentials: {exc}") from exc
        return _Process(os.getpid(), runner, credential, http, adapter)

    def warm_token(self) -> None:
        """Get (or refresh) the Graph token now, e.g. in an RQ worker parent before each
        fork, so that work horses inherit it instead of asking the authority."""
        if self.settings.has_credentials:
            proc = self._process()
            proc.runner.run(proc.credential.get_token(GRAPH_SCOPE, enable_cae=True), 60)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._process().runner.loop

    def close(self) -> None:
        """Close client and credential and stop the loop (in this process only)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None or proc.pid != os.getpid() or proc.runner.stale:
            return

        async def shut() -> None:
            http, transport = proc.http
            await http.aclose()
            await transport.aclose()  # see sdk.make_http_client
            await proc.credential.close()

        try:
            proc.runner.run(shut(), timeout=10)
        finally:
            proc.runner.stop()

    # -- dry-run ---------------------------------------------------------------------------
    @contextmanager
    def planning(self, sink: dryrun.PlanSink) -> Iterator[None]:
        """Send this thread's plan entries to ``sink`` for the duration of the block."""
        previous = getattr(self._local, "sink", None)
        self._local.sink = sink
        try:
            yield
        finally:
            self._local.sink = previous

    def _plan(self, method: str, path: str, body: Any) -> None:
        sink = getattr(self._local, "sink", None)
        sink = self.plan_sink if sink is None else sink
        entry = dryrun.PlanEntry(method, self.relative(path), dryrun.mask(body))
        dryrun.emit(sink, entry)
        log.info("dry-run: %s %s", method, entry.path)

    @property
    def offline(self) -> bool:
        """Dry-run without credentials: reads answer empty, nothing leaves."""
        return self.settings.dry_run and not self.settings.has_credentials

    # -- URLs ------------------------------------------------------------------------------
    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        return urls.build(self.settings.graph_url, path, params)

    def relative(self, url: str) -> str:
        return urls.relative(self.settings.graph_url, url)

    def directory_object_url(self, object_id: str) -> str:
        """The @odata.id / @odata.bind URL of an object (group-post-members)."""
        return f"{self.settings.graph_url}/directoryObjects/{object_id}"

    # -- freshness (404 right after a create) ----------------------------------------------
    def note_created(self, object_id: str) -> None:
        """Count ``object_id`` as created moments ago (creates through here are noted)."""
        self.fresh.add(object_id)

    # -- the request loop (runs on the event loop) -----------------------------------------
    async def _request(self, adapter: Any, method: str, url: str, data: bytes | None,
                       headers: dict[str, str] | None, replay_safe: bool, writes: int) -> Any:
        attempt, waited = 0, 0.0
        while True:
            if writes:
                await asyncio.sleep(self.pacer.acquire(writes))
            started = time.perf_counter()
            try:
                raw = await asyncio.wait_for(sdk.send(adapter, method, url, data, headers),
                                             self.settings.timeout)
                metrics.observe_graph(method, "2xx", time.perf_counter() - started)
                return json.loads(raw) if raw else None
            except Exception as exc:
                error = self._translate(exc, method, url, data, replay_safe)
                metrics.observe_graph(method, str(error.status or "none"),
                                      time.perf_counter() - started)
            if writes and isinstance(error, Throttled) and error.retry_after:
                self.pacer.hold(error.retry_after)  # every worker waits, not just this one
            delay = self.policy.delay(error, attempt, waited)
            if delay is None:
                raise error
            log.info("graph %s %s: %s; retry in %.2f s", method, self.relative(url),
                     type(error).__name__, delay)
            await asyncio.sleep(delay)
            attempt, waited = attempt + 1, waited + delay

    def _translate(self, exc: Exception, method: str, url: str, data: bytes | None,
                   replay_safe: bool) -> GraphSyncError:
        failure = sdk.failure_from(exc, method, self.relative(url))
        if failure is None:
            raise exc
        failure = replace(failure, replay_safe=replay_safe)
        if failure.status in (404, 400):  # maybe a replication delay (errors.RULES)
            text = url + (data.decode(errors="replace") if data else "")
            failure = replace(failure, fresh=self.fresh.named_in(text))
        error = classify(failure)
        error.__cause__ = exc
        return error

    # -- the sync entry point --------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, *,
             params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             replay_safe: bool | None = None, writes: int | None = None) -> Any:
        """Send one request and return the decoded JSON answer (None when empty).
        ``replay_safe`` defaults to True except for POST; ``writes`` (pacing and dry-run)
        to 1 for non-GET requests, 0 for GET (a $batch of reads passes 0)."""
        method = method.upper()
        url = self.url(path, params)
        n = (1 if method != "GET" else 0) if writes is None else writes
        is_write = n > 0
        if is_write and self.settings.dry_run:
            self._plan(method, url, body)
            return dryrun.fake_answer(method, body)
        if self.offline:
            return dict(_EMPTY_PAGE)
        safe = method != "POST" if replay_safe is None else replay_safe
        data = None if body is None else json.dumps(body).encode()
        proc = self._process()
        coro = self._request(proc.adapter, method, url, data, headers, safe, n)
        try:
            answer = proc.runner.run(coro, timeout=self._budget())
        except LoopTimeout as exc:  # the per-request timeouts failed to fire: same rules
            kind = Transient if safe else AmbiguousWrite
            raise kind(str(exc), method=method, path=self.relative(url)) from exc
        if method == "POST" and isinstance(answer, dict) and answer.get("id"):
            self.note_created(str(answer["id"]))
        elif method == "DELETE":
            self.fresh.forget_in(url)
        return answer

    def _budget(self) -> float:
        p, s = self.policy, self.settings
        return p.max_attempts * (s.timeout + 5.0) + p.max_wait + 5.0

    # -- verbs -----------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> JSON:
        answer = self.call("GET", path, params=params, headers=headers)
        return answer if isinstance(answer, dict) else {}

    def get_pages(self, path: str, params: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> Iterator[JSON]:
        """Every item of a collection, following @odata.nextLink (graph "paging" page)."""
        url: str | None = self.url(path, params)
        while url:
            page = self.get_json(url, headers=headers)
            yield from page.get("value", [])
            url = page.get("@odata.nextLink")

    def post_json(self, path: str, body: Any, *, replay_safe: bool = False) -> JSON | None:
        answer = self.call("POST", path, body, replay_safe=replay_safe)
        return answer if isinstance(answer, dict) else None

    def patch_json(self, path: str, body: Any) -> None:
        self.call("PATCH", path, body)

    def delete(self, path: str) -> None:
        self.call("DELETE", path)

    def batch(self, requests: list[batching.BatchRequest]) -> list[batching.BatchResponse]:
        """One JSON $batch round trip; answers in request order, errors classified per item.
        Dry-run plans the write items and sends only the reads."""
        items = batching.with_ids(requests)
        if self.settings.dry_run:
            return self._dry_batch(items)
        return self._send_batch(items)

    def _send_batch(self, items: list[batching.BatchRequest]) -> list[batching.BatchResponse]:
        writes = sum(1 for r in items if r.is_write)
        safe = all(r.method.upper() != "POST" for r in items)
        answer = self.call("POST", "/$batch", batching.body_of(items), replay_safe=safe,
                           writes=writes)
        return batching.responses_of(items, answer)

    def _dry_batch(self, items: list[batching.BatchRequest]) -> list[batching.BatchResponse]:
        reads = [r for r in items if not r.is_write]
        answers = {r.id: r for r in self._send_batch(reads)} if reads and not self.offline else {}
        out = []
        for r in items:
            if r.id in answers:
                out.append(answers[str(r.id)])
                continue
            if not r.is_write:
                out.append(batching.BatchResponse(str(r.id), 200, dict(_EMPTY_PAGE)))
                continue
            self._plan(r.method.upper(), r.url, r.body)
            fake = dryrun.fake_answer(r.method.upper(), r.body)
            out.append(batching.BatchResponse(str(r.id), 201 if fake else 204, fake))
        return out


_SHARED: dict[GraphSettings, GraphBoundary] = {}


def shared_boundary(settings: GraphSettings, pacer: Pacer | None = None) -> GraphBoundary:
    """The process's boundary for these settings (one client, token cache and loop).
    Thread-safe: a boundary builds nothing until used and dict.setdefault keeps one.
    ``pacer`` (e.g. the Redis-shared bucket) replaces the found boundary's pacer."""
    found = _SHARED.get(settings)
    if found is None:
        found = _SHARED.setdefault(settings, GraphBoundary(settings, pacer=pacer))
    if pacer is not None:
        found.pacer = pacer
    return found


def warm_models() -> None:
    """Call in the worker parent before forking (graph-facts.md, "Cost")."""
    sdk.warm_models()
