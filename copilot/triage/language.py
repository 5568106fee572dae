"""Which language a ticket is written in, among the languages the organisation supports."""

from __future__ import annotations

from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

FALLBACK = "en"
_MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    isos = [IsoCode639_1.from_str(code) for code in codes]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()


def detect_language(text: str, *, supported: list[str]) -> str:
    """ISO 639-1 code of the text's language; `en` when the text is too short or mixed to tell."""
    detector = _detector(tuple(sorted(supported)))
    confidences = detector.compute_language_confidence_values(text)
    if not confidences or confidences[0].value < _MIN_CONFIDENCE:
        return FALLBACK
    return confidences[0].language.iso_code_639_1.name.lower()
