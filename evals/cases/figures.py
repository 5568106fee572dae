"""Whether a text states a figure: the value as a whole token, not a piece of another number or id."""

from __future__ import annotations

import re


def figure_pattern(value: str) -> re.Pattern[str]:
    """Matches `value` where no digit, letter, '.' or ',' continues it on either side ("5" is not in "15",
    "TKT-5a" or "5,000"), case-insensitively ("usd 10" states "USD 10"). A comma or full stop that ends
    the clause ("aged 13-17, and") does not continue it."""
    return re.compile(r"(?<![\w.,{:])" + re.escape(value) + r"(?!\w|[.,]\d)", re.IGNORECASE)
