"""Heavy work in a bounded pool of its own: the Monte Carlo projections run in worker processes, never in the
threads that serve reads, so a crowd of projection requests cannot starve the layers, the summary or the map.

- bounded: ``workers`` processes run at once and at most ``queue`` more wait; beyond that ``submit`` raises
  :class:`Busy` (the route answers 429 with ``Retry-After``) instead of letting the backlog grow;
- coalesced: identical requests (same document, parameters and data version) share one computation, and its
  result goes into the response cache, so later ones are cache hits;
- stoppable: ``close`` cancels what waits and kills the workers, so the server stops within seconds even when
  projections are running (their results are simply lost; uvicorn gives waiting requests 3 s, see cli.py).

A worker process opens its own store on the same database and gets the province once, at start; it runs at a
lower CPU priority than the server, which keeps serving reads while it computes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from nongthon.deployment import Deployment
from nongthon.store import Store

from .cache import LayerCache, Payload


class Busy(Exception):
    """The pool and its queue are full (429), or the server is stopping (503): try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int, status: int = 429) -> None:
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


# -- in the worker process ---------------------------------------------------------------------------------
_store: Store | None = None
_deployment: Deployment | None = None


def _start_worker(db: str, deployment: Deployment) -> None:
    global _store, _deployment
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server stops us
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # the server's threads that serve reads come first
    _store, _deployment = Store.open(db), deployment


def _build(builder, period: str, *args) -> Payload:  # noqa: ANN001 - a library function (store, province, *args) -> dict
    """``builder(store, province, *args)`` with the deployment's province of ``period``, serialised as the
    response cache keeps it (JSON, its gzip, ETags)."""
    province = _deployment.province_of_period(period)
    return Payload.of(json.dumps(builder(_store, province, *args), ensure_ascii=False), "application/json")


# -- in the server -----------------------------------------------------------------------------------------
class JobPool:
    def __init__(self, db: str, deployment: Deployment, cache: LayerCache, workers: int = 1, queue: int = 4, retry_after: int = 10):
        self.db, self.deployment, self.cache = db, deployment, cache
        self.workers, self.queue, self.retry_after = max(1, workers), max(0, queue), retry_after
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None  # started at the first job
        self._jobs: dict[tuple, Future] = {}  # (cache key, data version) -> the computation, running or waiting
        self._closed = False
        self.computations = 0  # jobs started (for tests: identical requests make one)

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn: a fresh interpreter, not a fork of a server with threads, locks and open connections
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker, initargs=(self.db, self.deployment)
        )

    def submit(self, key: tuple, depends: tuple, builder, *args) -> Future:  # noqa: ANN001 - a library function
        """The computation of ``builder(store, province, *rest)`` — ``args`` is (period, *rest): the province is the
        deployment's of that period — for the cache ``key`` at data version
        ``depends``: the one already running or waiting for that key and version, else a new one, which puts
        its result in the cache. Raises Busy when ``workers + queue`` computations are already under way."""
        job = (key, depends)
        with self._lock:
            if self._closed:
                raise Busy("Máy chủ đang dừng; vui lòng thử lại sau ít phút.", self.retry_after, 503)
            future = self._jobs.get(job)
            if future is not None:
                return future
            hit = self.cache.peek(key, depends)  # finished between the caller's look and now
            if hit is not None:
                future = Future()
                future.set_result(hit)
                return future
            if len(self._jobs) >= self.workers + self.queue:
                raise Busy(
                    f"Máy chủ đang bận: đã có {len(self._jobs)} dự báo đang chạy hoặc đang chờ, tối đa {self.workers} chạy cùng lúc "
                    f"và {self.queue} chờ; vui lòng thử lại sau {self.retry_after} giây.",
                    self.retry_after,
                )
            if self._executor is None:
                self._executor = self._new_executor()
            try:
                future = self._executor.submit(_build, builder, *args)
            except BrokenProcessPool:  # a worker died (killed, out of memory): start a new pool
                self._executor = self._new_executor()
                future = self._executor.submit(_build, builder, *args)
            self._jobs[job] = future
            self.computations += 1
        future.add_done_callback(lambda f: self._finished(job, f))
        return future

    def _finished(self, job: tuple, future: Future) -> None:
        if not future.cancelled() and future.exception() is None:
            self.cache.put(*job, future.result())  # cached before it stops being a job: no request misses both
        with self._lock:
            self._jobs.pop(job, None)

    async def document(self, key: tuple, depends: tuple, builder, *args) -> Payload:  # noqa: ANN001 - a library function
        """The cached response, or the computation's, awaited without holding a thread."""
        hit = self.cache.peek(key, depends)
        if hit is not None:
            return hit
        future = self.submit(key, depends, builder, *args)
        try:
            # shielded: one waiter going away (a client gone, the server stopping) cancels no one else's wait
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            # the pool closed before the job began, or the server, stopping, gave up waiting for this request
            # (uvicorn cancels what is still open after its grace time): a 503, not a 500 with a traceback
            asyncio.current_task().uncancel()
            raise Busy("Máy chủ đang dừng; dự báo đã bị hủy, vui lòng thử lại sau ít phút.", self.retry_after, 503) from None
        except BrokenProcessPool:  # killed: the server is stopping, or the system ended it (out of memory)
            why = "Máy chủ đang dừng" if self._closed else "Tiến trình tính dự báo đã dừng giữa chừng"
            raise Busy(f"{why}; dự báo chưa xong, vui lòng thử lại sau ít phút.", self.retry_after, 503) from None

    def close(self) -> None:
        """Cancel what waits and kill the workers (what runs is abandoned); returns within moments."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        # no public way before Python 3.14 (terminate_workers), which does the same
        for process in list((executor._processes or {}).values()):  # noqa: SLF001
            with contextlib.suppress(ProcessLookupError, ValueError):
                process.kill()
        # no worker is left to wait for: this returns at once, its thread and queues released (uvicorn ends the
        # process by re-raising SIGTERM, which would skip their clean-up)
        executor.shutdown(wait=True, cancel_futures=True)
