"""What the tap writes to stdout: Singer messages, each line whole, records counted per stream."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import RecordMessage

if TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.singerlib import Message


class CountingWriter(SingerWriter):
    """singer-sdk's writer, counting the records it wrote, and holding off a signal mid-line.

    The Summary must count what a target received, not what was fetched; and a signal that
    ended the process in the middle of a long line (a transcript can be a megabyte) would
    leave the target half a message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: Counter[str] = Counter()
        self._writing = False
        self._deferred: Callable[[], None] | None = None

    def write_message(self, message: Message) -> None:
        self._writing = True
        try:
            super().write_message(message)
            if isinstance(message, RecordMessage):
                self.records[message.stream] += 1
        finally:
            self._writing = False
        if self._deferred is not None:
            self._deferred()

    def when_line_ends(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or right after the message being written, if one is."""
        if self._writing:
            self._deferred = action
        else:
            action()
