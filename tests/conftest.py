"""Shared fixtures. Every test writes under a temporary folder, never into the repository."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.samples import write_saliency_sample


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """Data, cache, checkpoint, report and executed-notebook folders for this test session."""
    root = tmp_path_factory.mktemp("workspace")
    for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT", "EXECUTED"):
        os.environ[f"SALIENCY_{name}_DIR"] = str(root / name.lower())
    return root


@pytest.fixture(autouse=True)
def _isolated(workspace):
    yield


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """A small saliency sample in CAT2000's layout: 4 categories × 20 images (read-only in tests)."""
    return write_saliency_sample(tmp_path_factory.mktemp("sample"), images_per_category=20, seed=3)
