"""`dagster definitions validate` on the workspace, as `dagster dev` would load it: every asset, check, schedule
and sensor loads without error, with or without a Stripe key in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_billing.settings import REPO_ROOT


@pytest.mark.parametrize("stripe_key", [None, "sk_test_not_used"])
def test_the_workspace_validates(stripe_key):
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "STRIPE_API_KEY")}
    if stripe_key:
        env["STRIPE_API_KEY"] = stripe_key
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "All code locations passed validation." in output
