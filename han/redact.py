"""Secrets out of messages: an install code or key never reaches an error or log line.

A library's message (a schema validator's, say) quotes a bad value as it sees fit:
in single or double quotes, escaped, with the separators the user typed. Masking a
quoted span misses a value that holds a quote itself. Here each secret is found by its
hex digits, whatever is printed between them (quotes, escapes, spaces, dashes, colons),
and replaced whole, as is its exact text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HIDDEN = "<hidden>"
MIN_DIGITS = 8  # shorter runs of hex digits are not secrets worth hiding (and too common)
# between two digits: separators, quotes, backslash escapes (\x27), XML entities (&apos;)
_GAP = r"(?:[^0-9A-Za-z]|\\[xu][0-9a-fA-F]{2,4}|&[A-Za-z]+;|&#x?[0-9A-Fa-f]+;){0,4}"


def _pattern(secret: str) -> str | None:
    digits = re.sub(r"[^0-9A-Fa-f]", "", secret)
    if len(digits) < MIN_DIGITS:
        return None
    return _GAP.join(re.escape(d) for d in digits)


def redact(text: str, secrets: Iterable[str | bytes]) -> str:
    """``text`` with every appearance of each secret (text or raw bytes) replaced."""
    for secret in secrets:
        value = secret.hex() if isinstance(secret, bytes) else secret
        if not value.strip():
            continue
        text = text.replace(value, HIDDEN)
        pattern = _pattern(value)
        if pattern:
            text = re.sub(pattern, HIDDEN, text, flags=re.IGNORECASE)
    return text
