"""Which streams a run serves, and what Gong must be asked for to serve them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Every content flag but the deprecated pointsOfInterest, which Gong no longer fills.
CONTENT_FLAGS = (
    "structure",
    "topics",
    "trackers",
    "trackerOccurrences",
    "brief",
    "outline",
    "highlights",
    "keyPoints",
    "callOutcome",
)
INTERACTION_FLAGS = ("speakers", "video", "personInteractionStats", "questions")

EXTENSIVE_SCOPE = "api:calls:read:extensive"
TRANSCRIPT_SCOPE = "api:calls:read:transcript"


@dataclass(frozen=True)
class Selection:
    """The selected streams of a run (plus the private-call filter, which needs metadata)."""

    calls: bool = True
    participants: bool = False
    details: bool = False
    transcripts: bool = False
    exclude_private: bool = False

    @property
    def needs_blocks(self) -> bool:
        """Whether POST /v2/calls/extensive must expose more than metaData."""
        return self.participants or self.details

    @property
    def has_children(self) -> bool:
        """Whether any stream but ``calls`` is selected."""
        return self.participants or self.details or self.transcripts

    @property
    def needs_metadata(self) -> bool:
        """Whether calls must be looked up at all (not just their transcripts)."""
        return self.calls or self.needs_blocks or self.exclude_private

    @property
    def block_streams(self) -> list[str]:
        """The selected streams that only POST /v2/calls/extensive can serve."""
        return [
            name
            for name, wanted in (
                ("call_participants", self.participants),
                ("call_details", self.details),
            )
            if wanted
        ]

    def content_selector(self) -> dict[str, Any] | None:
        """``contentSelector`` exposing exactly what the selected streams need, or None.

        Never ``media``: its signed URLs expire after 8 hours and change on every request,
        which makes them worthless in a warehouse and churns every row on every run.
        """
        if not self.needs_blocks:
            return None
        exposed: dict[str, Any] = {}
        selector: dict[str, Any] = {"exposedFields": exposed}
        if self.participants:
            exposed["parties"] = True
        if self.details:
            exposed["content"] = dict.fromkeys(CONTENT_FLAGS, True)
            exposed["interaction"] = dict.fromkeys(INTERACTION_FLAGS, True)
            exposed["collaboration"] = {"publicComments": True}
            selector["context"] = "Extended"  # CRM links with their fields
        return selector
