"""Which language a ticket is written in, among the languages the organisation supports."""

from __future__ import annotations

from functools import lru_cache

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

_MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    isos = [IsoCode639_1.from_str(code) for code in codes]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()


def detect_languages(texts: list[str], *, supported: list[str], fallback: str) -> list[str]:
    """ISO 639-1 code of each text's language (`fallback`, the taxonomy's fallback_language, when a text is
    too short or mixed to tell), the texts spread over the CPU's cores."""
    detector = _detector(tuple(sorted(supported)))
    return [_best(values, fallback) for values in detector.compute_language_confidence_values_in_parallel(texts)]


def _best(confidences: list[ConfidenceValue], fallback: str) -> str:
    if not confidences or confidences[0].value < _MIN_CONFIDENCE:
        return fallback
    return confidences[0].language.iso_code_639_1.name.lower()
