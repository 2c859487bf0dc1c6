"""Numbers people type into URLs, query strings and forms: ASCII digits only (issue 22, class 1).

`str.isdigit()`, `\\d` in a regex and `int()` all accept the digits of other
scripts ('²', '٣', the full-width '5'), and `int()` also takes '+5', ' 5 ' and '1_000', so a
check with one and a conversion with another disagree ('²' passes isdigit and
fails int: a 500, or a 1011 on a socket). One pattern decides here, and bounds
the length so the value fits a database's 64-bit integer column.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

# At most 18 digits: every such number is below 2**63, the largest value of a BIGINT column.
MAX_DIGITS = 18
_WHOLE_NUMBER = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")


def ascii_int(text: str | None, *, signed: bool = False) -> int | None:
    """The whole number `text` spells in ASCII digits (with a leading '-' if `signed`), else None."""
    if text is None or not _WHOLE_NUMBER.fullmatch(text) or (text.startswith("-") and not signed):
        return None
    return int(text)


class AsciiIntegerField(forms.IntegerField):
    """Django's IntegerField reads a full-width '5' as 5 (it calls int()); this one takes ASCII digits only."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = ascii_int(str(value).strip(), signed=True)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number
