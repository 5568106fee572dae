"""Every Settings field is documented in .env.example, so admins can find every knob."""

from __future__ import annotations

from copilot.settings import PROJECT_ROOT, Settings


def test_env_example_documents_every_setting() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"COPILOT_{name.upper()}=" not in text]
    assert missing == []


def test_thresholds_out_of_order_are_refused_with_both_values() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"suggest_threshold \(0.9\) must be <= auto_apply_threshold \(0.5\)"):
        Settings(_env_file=None, suggest_threshold=0.9, auto_apply_threshold=0.5)  # type: ignore[call-arg]
