"""Every Settings field is documented in .env.example, so admins can find every knob."""

from __future__ import annotations

import pytest

from copilot.settings import PROJECT_ROOT, Settings, env_example

pytestmark = pytest.mark.unit


def test_env_example_is_written_from_the_settings_model() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == env_example(), "run `python -m copilot.settings > .env.example`"
    assert all(f"COPILOT_{name.upper()}=" in text for name in Settings.model_fields)


def test_thresholds_out_of_order_are_refused_with_both_values() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"suggest_threshold \(0.9\) must be <= auto_apply_threshold \(0.5\)"):
        Settings(_env_file=None, suggest_threshold=0.9, auto_apply_threshold=0.5)  # type: ignore[call-arg]
