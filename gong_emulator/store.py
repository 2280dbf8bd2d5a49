"""The company's calls and what tests set about them: transcript readiness (§14), sizes,
overrides.

Thread-safe: handler threads read while a test adds calls or flips readiness.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from .extensive import Blocks, make_blocks
from .protocol import EARLIEST, Call, start_time
from .quirks import odd_text_blocks, odd_text_call, odd_text_transcript
from .transcript import Transcript, make_transcript
from .variety import vary_blocks, vary_call, vary_transcript

if TYPE_CHECKING:
    from collections.abc import Callable


class CallStore:
    def __init__(
        self, transcript_bytes: int, *, variety: bool = False, nul_characters: bool = False
    ) -> None:
        self.transcript_bytes = transcript_bytes
        self.variety = variety  # vary generated data as real accounts do (variety.py)
        self.nul_characters = nul_characters  # NULs and lone surrogates in text (quirks.py)
        self._lock = threading.Lock()
        self._calls: dict[str, Call] = {}
        self._not_ready: set[str] = set()
        self._sizes: dict[str, int] = {}
        self._blocks: dict[str, Blocks] = {}
        self._transcripts: dict[str, Transcript] = {}

    def add(self, call: Call) -> None:
        call = vary_call(call) if self.variety else dict(call)
        if self.nul_characters:
            call = odd_text_call(call)
        with self._lock:
            self._calls[str(call["id"])] = call

    def remove(self, call_id: str) -> None:
        with self._lock:
            self._calls.pop(call_id, None)

    def get(self, call_id: str) -> Call | None:
        with self._lock:
            return self._calls.get(call_id)

    def copy(self) -> dict[str, Call]:
        with self._lock:
            return {call_id: dict(call) for call_id, call in self._calls.items()}

    def select(self, wanted: Callable[[Call], bool], workspace_id: object) -> list[Call]:
        """The calls of the workspace (any when None) that are `wanted`, oldest first."""
        with self._lock:
            calls = list(self._calls.values())
        matched = [
            call
            for call in calls
            if (workspace_id is None or call.get("workspaceId") == workspace_id) and wanted(call)
        ]
        # Oldest first by real instant, not by string: calls carry mixed UTC offsets.
        matched.sort(key=lambda call: (start_time(call) or EARLIEST, str(call.get("id"))))
        return matched

    # -- per-call settings ---------------------------------------------------------------------

    def set_transcript_ready(self, call_id: str, ready: bool) -> None:
        with self._lock:
            (self._not_ready.discard if ready else self._not_ready.add)(call_id)

    def transcript_ready(self, call_id: str) -> bool:
        with self._lock:
            return call_id not in self._not_ready

    def set_transcript_bytes(self, call_id: str, size: int | None) -> None:
        with self._lock:
            if size is None:
                self._sizes.pop(call_id, None)
            else:
                self._sizes[call_id] = size

    def set_blocks(self, call_id: str, blocks: Blocks | None) -> None:
        with self._lock:
            if blocks is None:
                self._blocks.pop(call_id, None)
            else:
                self._blocks[call_id] = copy.deepcopy(blocks)

    def set_transcript(self, call_id: str, transcript: Transcript | None) -> None:
        with self._lock:
            if transcript is None:
                self._transcripts.pop(call_id, None)
            else:
                self._transcripts[call_id] = copy.deepcopy(transcript)

    # -- derived data --------------------------------------------------------------------------

    def blocks(self, call: Call) -> Blocks:
        """The call's extensive blocks: the test's override, else generated from its id."""
        with self._lock:
            override = self._blocks.get(str(call["id"]))
        if override is not None:
            return copy.deepcopy(override)
        blocks = vary_blocks(make_blocks(call)) if self.variety else make_blocks(call)
        return odd_text_blocks(str(call["id"]), blocks) if self.nul_characters else blocks

    def transcript(self, call: Call) -> Transcript | None:
        """The call's transcript, or None while it is not ready."""
        call_id = str(call["id"])
        with self._lock:
            if call_id in self._not_ready:
                return None
            override = self._transcripts.get(call_id)
            size = self._sizes.get(call_id, self.transcript_bytes)
        if override is not None:
            return copy.deepcopy(override)
        parties: list[dict[str, Any]] = self.blocks(call).get("parties") or []
        speaker_ids = [party["speakerId"] for party in parties if party.get("speakerId")]
        transcript = make_transcript(call_id, speaker_ids, size)
        if self.variety:
            transcript = vary_transcript(transcript)
        return odd_text_transcript(call_id, transcript) if self.nul_characters else transcript
