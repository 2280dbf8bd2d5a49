"""Call transcripts (§12): monologues of sentences with integer millisecond times.

Generated from the call id on request, to roughly a target size, so a benchmark can serve
thousands of 50 KB transcripts without holding them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from .data import rng_for

if TYPE_CHECKING:
    from collections.abc import Sequence

Transcript = list[dict[str, Any]]

DEFAULT_TRANSCRIPT_BYTES: Final = 4_000

_TOPICS = (None, None, "Call Setup", "Small Talk", "Pricing", "Product Demo", "Next Steps")
_SENTENCES = (
    "Hi, thanks for joining today.",
    "Can you hear me okay?",
    "Let me share my screen for a second.",
    "What do volume discounts look like for us?",
    "And is SSO included in that tier?",
    "We are rolling this out to the Zürich office first.",
    "Our CFO, Chloé, will want to see the numbers — in euros, €.",
    "That sounds great 👍",
    "So the naïve approach would be one workspace per team.",
    "I'll send over the security questionnaire after the call.",
    "Honestly, the last vendor took three months to onboard us.",
    "東京 team is on the thread too.",
    "Does next Tuesday at ten work for a follow-up?",
    "Let's get started.",
)
# Each sentence's JSON size as the server writes it (ASCII-escaped), so sizing costs no dumps.
_TEXT_SIZES: Final = tuple(len(json.dumps(text)) for text in _SENTENCES)
_SENTENCE_OVERHEAD: Final = len('{"start":,"end":,"text":},')


def make_transcript(call_id: str, speaker_ids: Sequence[str], target_bytes: int) -> Transcript:
    """About `target_bytes` of transcript JSON (at least one sentence), the same for each call id.

    A new monologue starts whenever the speaker or the topic changes, as Gong's do (§12), so
    one speaker can hold consecutive monologues.
    """
    if not speaker_ids:
        return []
    rng = rng_for(call_id, "transcript")
    monologues: Transcript = []
    current: dict[str, Any] | None = None
    speaker, topic = speaker_ids[0], None
    clock = rng.randrange(0, 3_000)
    size = 2
    while current is None or size < target_bytes:
        if rng.random() < 0.35:
            speaker = rng.choice(speaker_ids)
        if rng.random() < 0.08:
            topic = rng.choice(_TOPICS)
        if current is None or current["speakerId"] != speaker or current["topic"] != topic:
            current = {"speakerId": speaker, "topic": topic, "sentences": []}
            monologues.append(current)
            size += len(json.dumps(current, separators=(",", ":"))) + 1
        pick = rng.randrange(len(_SENTENCES))
        start, end = clock, clock + rng.randint(900, 6_000)
        current["sentences"].append({"start": start, "end": end, "text": _SENTENCES[pick]})
        size += _SENTENCE_OVERHEAD + _TEXT_SIZES[pick] + len(str(start)) + len(str(end))
        clock = end + rng.choice((0, 0, 120, 860))  # gaps between sentences happen (§12)
    return monologues
