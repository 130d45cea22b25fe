"""One asyncio event loop per process, in a daemon thread, for sync callers (RQ jobs).

msgraph-sdk is async and its httpx client and the azure-identity aio credential are bound
to the loop they first ran on: a second ``asyncio.run`` fails with "Event loop is closed"
(graph-facts.md, "The SDK and the credential"). Sync code hands coroutines to this loop with
``run_coroutine_threadsafe``, from any thread, so concurrent callers are safe. A forked
child has no loop thread: ``LoopRunner.stale`` tells the owner to build everything again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopTimeout(TimeoutError):
    """The sync caller gave up waiting; the coroutine was cancelled."""


class LoopRunner:
    def __init__(self, name: str = "graph-loop") -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    @property
    def stale(self) -> bool:
        """True in a forked child (the loop thread stayed in the parent) or after stop()."""
        return self.pid != os.getpid() or not self.thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (at most ``timeout`` seconds)."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("LoopRunner.run() called from its own loop thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise LoopTimeout(f"no answer within {timeout} s") from exc

    def stop(self, timeout: float = 5.0) -> None:
        if self.stale:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            self.loop.close()
