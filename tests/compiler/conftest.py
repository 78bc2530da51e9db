"""Compiler tests set their passes explicitly: ignore a GRAPHFLOW_PASSES of the
outer run (tests/compiler/test_pipeline.py runs the op suite under it)."""
import pytest


@pytest.fixture(autouse=True)
def _no_passes_env(monkeypatch):
    monkeypatch.delenv("GRAPHFLOW_PASSES", raising=False)
