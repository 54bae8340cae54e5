"""The Dagster instance a `billing run` uses: ephemeral runs leave nothing behind in the temporary folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dagster_billing import pipeline_run


def test_ephemeral_instance_removes_its_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # where mkdtemp and TemporaryDirectory create their folders
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pipeline_run._instance() as instance:
        assert instance.is_ephemeral
        assert [folder.name[:15] for folder in tmp_path.iterdir()] == ["billing-dagster"]
    assert list(Path(tmp_path).iterdir()) == []


def test_instance_under_dagster_home_is_persistent(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with pipeline_run._instance() as instance:
        assert not instance.is_ephemeral
        assert Path(instance.root_directory) == tmp_path
