"""Checks on values people type: birth years and language codes."""

import datetime

import langcodes
from django.core.exceptions import ValidationError

OLDEST_AGE = 120


def validate_birth_year(value: int | None) -> None:
    if value is None:
        return
    this_year = datetime.date.today().year
    if value > this_year:
        raise ValidationError(f"A birth year cannot be in the future ({value} is after {this_year}).")
    if value < this_year - OLDEST_AGE:
        raise ValidationError(f"A birth year more than {OLDEST_AGE} years back ({value}) is not possible.")


def validate_language_code(value: str) -> None:
    """Accept a BCP 47 tag whose language is known, such as en, es-MX or tl."""
    if not value or not langcodes.tag_is_valid(value):
        raise ValidationError(f"“{value}” is not a language code. Use a BCP 47 code such as en, es or es-MX.")
    if langcodes.Language.get(value).language_name().startswith("Unknown language"):
        raise ValidationError(f"“{value}” is not a language we know. Use a BCP 47 code such as en, es or es-MX.")


def language_label(code: str) -> str:
    """The language's name in English, for facets and pages."""
    try:
        return langcodes.Language.get(code).display_name()
    except (langcodes.tag_parser.LanguageTagError, ValueError):
        return code
