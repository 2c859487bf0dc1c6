"""Numbers people type into URLs, query strings and forms, dates and times included: ASCII digits only
(issue 22, class 1).

`str.isdigit()`, `\\d` in a regex and `int()` all accept the digits of other
scripts ('²', '٣', the full-width '5'), and `int()` also takes '+5', ' 5 ' and '1_000', so a
check with one and a conversion with another disagree ('²' passes isdigit and
fails int: a 500, or a 1011 on a socket). One pattern decides here, and bounds
the length so the value fits a database's 64-bit integer column.

Dates and times are the same class: `strptime`'s `%Y`, `%H` and `%f` are `\\d`, and Django's date
parsing is `\\d` too, so Django's DateField reads a year in full-width digits as that year and its
DateTimeField an hour in Arabic-Indic digits as that hour. `has_foreign_digits` refuses such text
before any parser sees it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

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


def whole_number_argument(text: str) -> int:
    """argparse's `type=` for a management command's whole number (an id, minutes, weeks): argparse's own
    `type=int` takes other scripts' digits (full-width, Arabic-Indic) through int(); this takes ASCII digits only."""
    number = ascii_int(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number in the digits 0-9")
    return number


def has_foreign_digits(text: str) -> bool:
    """Whether `text` holds a numeral other than 0-9: any character Unicode counts as numeric (other scripts'
    digits, full-width ones, '²', '½', 'Ⅻ'), a superset of what `\\d` matches. Other characters are left to the
    parser, which refuses them."""
    return any(character.isnumeric() and not "0" <= character <= "9" for character in text)


# The years a date typed here may have: a clinic's, and far from the calendar's ends (years 1 and 9999),
# where a day's step or a time zone's shift overflows (OverflowError: a 500).
YEARS = range(1900, 3000)

Day = TypeVar("Day", bound=date)  # a date or a datetime


def ascii_iso(parse: Callable[[str], Day], text: str) -> Day | None:
    """`parse(text)` (date.fromisoformat, datetime.fromisoformat) if `text` spells its numbers in ASCII digits,
    parses and falls in YEARS, else None. CPython's C fromisoformat refuses other digits today, but its
    pure-Python twin reads the fields with int() (which takes them), so this does not lean on which one runs."""
    if has_foreign_digits(text):
        return None
    try:
        parsed = parse(text)
    except ValueError:
        return None
    return parsed if parsed.year in YEARS else None


class AsciiTemporalField(forms.Field):
    """For a date or date-time form field (below): text with another script's digits is `invalid`, whatever
    the field's input formats (the language's own included) would make of it, and so is a year outside YEARS."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and has_foreign_digits(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        parsed = super().to_python(value)
        if parsed is not None and parsed.year not in YEARS:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class AsciiDateField(AsciiTemporalField, forms.DateField):
    pass


class AsciiDateTimeField(AsciiTemporalField, forms.DateTimeField):
    pass
