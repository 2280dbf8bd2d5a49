"""Text and ids that strict JSON consumers trip on (§16), each behind an emulator option.

`GongEmulator(nul_characters=True)`: calls whose numeric id is **even** (`carries_odd_text`)
carry U+0000 at the end of their `title`, at the end of their transcript's first sentence and in
a CRM field value of their extensive `context` (the account's `Description`), and a lone UTF-16
surrogate (U+D800) at the end of their `customData`. The server writes them as the JSON escapes
`\\u0000` and `\\ud800` (json.dumps with ensure_ascii), so the bytes stay valid JSON.

`GongEmulator(numeric_ids=True)`: calls whose numeric id is **odd** (`sends_numeric_ids`) have
their id sent as a JSON integer instead of a string: the listed call's `id` (GET /v2/calls and
GET /v2/calls/{id}), `metaData.id` and the first party's `id` in extensive calls, and the
transcript's `callId`. Integers, never floats, so 19-digit ids survive exactly. The store keeps
strings; only the served JSON changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .extensive import Blocks
    from .protocol import Call
    from .transcript import Transcript

NUL: Final = "\u0000"
LONE_SURROGATE: Final = "\ud800"
NUL_CRM_FIELD: Final = "Description"
"""The CRM field (on an Account in the extensive `context`) whose value carries a NUL."""


def _number(call_id: object) -> int | None:
    text = str(call_id)
    return int(text) if text.isdigit() else None


def carries_odd_text(call_id: object) -> bool:
    """Whether `nul_characters=True` puts NULs and a lone surrogate into this call's strings."""
    number = _number(call_id)
    return number is not None and number % 2 == 0


def sends_numeric_ids(call_id: object) -> bool:
    """Whether `numeric_ids=True` sends this call's ids as JSON integers."""
    number = _number(call_id)
    return number is not None and number % 2 == 1


# -- NUL characters and lone surrogates (applied by the store) ---------------------------------


def odd_text_call(call: Call) -> Call:
    """The call with a NUL ending its title and a lone surrogate ending its customData."""
    if not carries_odd_text(call.get("id")):
        return call
    title, custom = str(call.get("title") or ""), str(call.get("customData") or "")
    # Idempotent, so a call added again (say, made private) does not grow a second NUL.
    return {
        **call,
        "title": title if title.endswith(NUL) else title + NUL,
        "customData": custom if custom.endswith(LONE_SURROGATE) else custom + LONE_SURROGATE,
    }


def odd_text_blocks(call_id: str, blocks: Blocks) -> Blocks:
    """Blocks whose context gains an account with a NUL in a field value (changed in place)."""
    if carries_odd_text(call_id):
        account = {
            "objectType": "Account",
            "objectId": f"001{call_id[-15:]:0>15}",
            "fields": [{"name": NUL_CRM_FIELD, "value": f"Imported from the old CRM{NUL}"}],
        }
        blocks["context"] = [
            *(blocks.get("context") or []),
            {"system": "Salesforce", "objects": [account]},
        ]
    return blocks


def odd_text_transcript(call_id: str, transcript: Transcript) -> Transcript:
    """The transcript with a NUL ending its first sentence (changed in place)."""
    if carries_odd_text(call_id) and transcript and transcript[0].get("sentences"):
        sentence = transcript[0]["sentences"][0]
        sentence["text"] = f"{sentence.get('text') or ''}{NUL}"
    return transcript


# -- ids as JSON numbers (applied by the router to what it serves) -----------------------------


def numeric_call(call: Call) -> Call:
    """A CallBasicData with its `id` as an integer (for the calls `sends_numeric_ids` picks)."""
    if not sends_numeric_ids(call.get("id")):
        return call
    return {**call, "id": int(str(call["id"]))}


def numeric_call_data(data: dict[str, Any]) -> dict[str, Any]:
    """An extensive CallData with `metaData.id` and the first party's `id` as integers."""
    meta = data.get("metaData") or {}
    if not sends_numeric_ids(meta.get("id")):
        return data
    data = {**data, "metaData": numeric_call(meta)}
    parties = data.get("parties")
    if parties and str(parties[0].get("id", "")).isdigit():
        data["parties"] = [{**parties[0], "id": int(parties[0]["id"])}, *parties[1:]]
    return data


def transcript_call_id(call_id: str) -> str | int:
    """A transcript's `callId` as served."""
    return int(call_id) if sends_numeric_ids(call_id) else call_id
