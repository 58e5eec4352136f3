"""Course and usage keys of tracking events, parsed by Open edX's own key library.

Keys are parsed with `edx-opaque-keys` (not hand-written regexes), but only once per distinct
value: `map_distinct` dictionary-encodes an Arrow column and parses its dictionary, so the cost is
per distinct course or block in a chunk, not per event.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import AssetKey, CourseKey, UsageKey
from opaque_keys.edx.locator import CourseLocator

_CCX_PREFIX = "ccx-v1:"
_CCX_SEPARATOR = "+ccx@"


@lru_cache(maxsize=1 << 16)
def normalize_course_key(value: str | None) -> tuple[str | None, str | None]:
    """(course key, org) for a logged course id or URL segment, else (None, None).

    The key is edx-opaque-keys' canonical string of the course the event names, in the form its
    source wrote: a legacy `Org/Num/Run` id stays legacy (as edX.org, Insights and every edX.org
    table write it; no `course-v1:` key exists for such a course), a `course-v1:` key stays one,
    and a CCX keeps its own key (`ccx-v1:Org+Num+Run+ccx@N`): it is a course with its own
    learners. URL-encoded ids are decoded first (`course-v1%3AMITx%2B...`).
    """
    if not value:
        return None, None
    text = value.strip()
    if "%" in text:
        text = unquote(text)
    if text.startswith(_CCX_PREFIX):
        # The `ccx-v1` namespace lives in the separate edx-ccx-keys plugin; its syntax is the
        # course key's plus `+ccx@<n>`, so validate the course part with the course locator.
        course_part, _, ccx = text[len(_CCX_PREFIX) :].rpartition(_CCX_SEPARATOR)
        if not course_part or not ccx.isdigit():
            return None, None
        parsed = _parse_course(f"course-v1:{course_part}")
        if parsed is None:
            return None, None
        return f"{_CCX_PREFIX}{str(parsed)[len('course-v1:') :]}{_CCX_SEPARATOR}{ccx}", parsed.org
    parsed = _parse_course(text)
    if parsed is None:
        return None, None
    return str(parsed), parsed.org


def _parse_course(text: str) -> CourseLocator | None:
    try:
        key = CourseKey.from_string(text)
    except (InvalidKeyError, TypeError, ValueError):
        return None
    if not isinstance(key, CourseLocator) or key.branch or key.version_guid:
        return None
    return key


@lru_cache(maxsize=1 << 18)
def normalize_block_key(value: str | None) -> str | None:
    """The usage key (`block-v1:`, `asset-v1:`, `i4x://`) named by `value`, validated, else None.

    `block-v1:` and `asset-v1:` keys come back in their canonical form; `i4x://` locations,
    which carry no course run, come back as logged once they parse.
    """
    if not value:
        return None
    text = value.strip()
    if "%" in text:
        text = unquote(text)
    key_class: type[UsageKey] | type[AssetKey] = (
        AssetKey if text.startswith("asset-v1:") else UsageKey
    )
    try:
        key = key_class.from_string(text)
    except (InvalidKeyError, TypeError, ValueError):
        return None
    if text.startswith("i4x://"):
        return text
    try:
        return str(key)
    except (TypeError, ValueError):
        return text


def map_distinct(
    column: pa.Array | pa.ChunkedArray, function: Callable[[str | None], str | None]
) -> pa.Array:
    """`function` applied to each distinct string of `column`, broadcast back to every row."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return pa.array([], pa.string())
    encoded = column.dictionary_encode()
    mapped = pa.array([function(value) for value in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def course_keys_and_orgs(column: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Normalized course keys and their orgs for a column of course-id candidates."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return pa.array([], pa.string()), pa.array([], pa.string())
    encoded = column.dictionary_encode()
    parsed = [normalize_course_key(value) for value in encoded.dictionary.to_pylist()]
    keys = pa.array([key for key, _ in parsed], pa.string())
    orgs = pa.array([org for _, org in parsed], pa.string())
    return pc.take(keys, encoded.indices), pc.take(orgs, encoded.indices)
