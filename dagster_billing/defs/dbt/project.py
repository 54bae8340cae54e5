"""The dbt project, on its own so `dagster-dbt project prepare-and-package` can import it without the assets."""

import shutil
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_billing.settings import DBT_PROJECT_DIR


@cache
def billing_dbt_project() -> DbtProject:
    """Built once per process. Instead of `prepare_if_dev()` (which runs whatever `dbt` is on PATH, and only under
    `dagster dev`), `ensure_manifest` re-parses with the dbt beside this Python whenever a dbt file changed."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    ensure_manifest(project)
    return project


def dbt_executable() -> str:
    """The dbt installed beside this Python, so a virtualenv works without being activated."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def dbt_cli_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    sources = [project.project_dir / "dbt_project.yml", project.project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests", "seeds"):
        sources.extend((project.project_dir / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


def ensure_manifest(project: DbtProject) -> None:
    """`dagster dev` parses through prepare_if_dev; the CLI, tests and CI load definitions without it, so the
    manifest is rebuilt (`dbt parse`, a few seconds) when it is missing or older than a dbt file."""
    if _manifest_is_stale(project):
        dbt_cli_resource(project).cli(["--quiet", "parse"], target_path=project.target_path).wait()
