"""Overlapping slow requests while keeping the output in input order."""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


_END = object()


class Cancelled(Exception):  # noqa: N818
    """Raised in a worker whose run was stopped by another worker's failure."""


def map_in_order(
    fn: Callable[[ItemT], ResultT],
    items: Iterable[ItemT],
    *,
    max_in_flight: int | Callable[[], int],
) -> Iterator[ResultT]:
    """Yield ``fn(item)`` for each item, in order, computing up to ``max_in_flight`` at once.

    Only ``max_in_flight`` results are ever held, so memory does not grow with the input.
    A callable ``max_in_flight`` is asked again before each new item starts (up to 32): a
    budget that shrinks holds new items back.
    The caller's thread does the yielding, which keeps singer-sdk (single-threaded) happy.
    When one call fails, no new call starts and the failure is raised in order.
    """
    stop = threading.Event()
    failures: list[BaseException] = []

    def guarded(item: ItemT) -> ResultT:
        if stop.is_set():
            raise Cancelled
        try:
            return fn(item)
        except BaseException as exc:
            failures.append(exc)
            stop.set()
            raise

    limit = max_in_flight if callable(max_in_flight) else lambda: max_in_flight
    pending: deque[Future[ResultT]] = deque()
    source = iter(items)

    def fill() -> None:
        while len(pending) < limit():
            item = next(source, _END)
            if item is _END:
                return
            pending.append(pool.submit(guarded, item))  # type: ignore[arg-type]

    workers = 32 if callable(max_in_flight) else max_in_flight  # threads start as needed
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gong") as pool:
        try:
            fill()
            while pending:
                try:
                    result = pending.popleft().result()
                except Cancelled:
                    # A later item failed first; its error is the one worth showing.
                    raise failures[0] from None
                fill()
                yield result
        finally:
            stop.set()
            for future in pending:
                future.cancel()


def prefetch(items: Iterator[ItemT], *, depth: int) -> Generator[ItemT, None, None]:
    """Yield ``items``, produced ahead by a background thread, at most ``depth`` ahead.

    For a producer that itself overlaps requests (map_in_order): pulled only when its consumer
    is free, it would let its requests lapse while the consumer waits on something else.
    The producer's failure is raised here, in order; closing this generator stops the thread.
    """
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put((False, exc))
            return
        finally:
            # Closing the producer stops its own requests in flight (map_in_order's finally).
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put((False, None))

    producer = threading.Thread(target=produce, name="gong-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            is_item, value = ready.get()
            if not is_item:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
