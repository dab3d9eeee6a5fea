import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_described_and_documented_in_the_example_file() -> None:
    example = (ROOT / "assistant.example.toml").read_text()
    documented = set(re.findall(r"^#\s*(\w+)\s*=", example, re.M))
    fields = set(Settings.model_fields)
    assert fields - documented == set(), "add these to assistant.example.toml"
    assert documented - fields == set(), "these are no longer settings"
    assert all(f.description for f in Settings.model_fields.values())


def test_layers_defaults_file_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('top_k = 7\nchroma_url = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    monkeypatch.setenv("ASSISTANT_TOP_K", "3")
    settings = Settings()
    assert (settings.top_k, settings.chroma_url, settings.rrf_k) == (3, "http://127.0.0.1:9", 60)


def test_bad_values_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="top_k"):
        Settings(top_k=0)
    with pytest.raises(ValidationError, match="no_such_setting"):
        Settings(no_such_setting=1)


def test_secrets_do_not_show_in_reprs() -> None:
    settings = Settings(openai_api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())
