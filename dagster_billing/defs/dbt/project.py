"""The dbt project, on its own so `dagster-dbt project prepare-and-package` can import it without the assets."""

import os
import shutil
import sys
import tempfile
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


class BillingDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without its in-process dbt adapter.

    Before starting each dbt command, dagster-dbt loads the dbt project, profile and every macro in the Dagster
    process (about 2 s, measured on this project) to build an adapter that only `fetch_column_metadata` and
    `fetch_row_counts` use; this project calls neither, so each of a run's two dbt steps paid it for nothing.
    Returning no adapter is the path dagster-dbt itself takes when building one fails (dagster-dbt is pinned;
    tests/test_dbt_build_args.py checks the hook still exists)."""

    def _initialize_dbt_core_adapter(self, args):  # type: ignore[override]
        return None


def dbt_cli_resource(project: DbtProject) -> DbtCliResource:
    return BillingDbtCliResource(project_dir=project, dbt_executable=dbt_executable())


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


PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def keep_partial_parse(project: DbtProject, invocation_target_path: Path) -> None:
    """Make a finished dbt command's parse the starting point of the next one.

    dagster-dbt runs each command in a fresh target folder and seeds it with the project's
    `target/partial_parse.msgpack`, which `dbt parse` wrote with another warehouse path and no as_of, so dbt
    threw it away and parsed everything (about 4 s per command). Copied back after each command, the next
    command (the run's second dbt step, the next day's run) re-parses only what changed: nothing, or the files
    that read DBT_BILLING_AS_OF. dbt checks the file's versions and hashes itself, so a stale copy only costs a
    full parse; the copy is atomic so a concurrent command never reads half a file."""
    produced = invocation_target_path / PARTIAL_PARSE_FILE
    if not produced.exists():
        return
    kept = Path(project.project_dir, project.target_path, PARTIAL_PARSE_FILE)  # where dagster-dbt seeds from
    kept.parent.mkdir(parents=True, exist_ok=True)
    with (
        produced.open("rb") as source,
        tempfile.NamedTemporaryFile(dir=kept.parent, prefix=".partial_parse.", delete=False) as scratch,
    ):
        shutil.copyfileobj(source, scratch)
    os.replace(scratch.name, kept)


KEPT_COMMAND_FOLDERS = 20


def prune_command_folders(project: DbtProject, keep: int = KEPT_COMMAND_FOLDERS) -> None:
    """dagster-dbt gives every dbt command its own folder under target/ (compiled SQL, logs, a 9 MB manifest)
    and never removes one: two a day, gigabytes within a year. The newest `keep` stay for debugging."""
    target = Path(project.project_dir, project.target_path)
    folders = [path for path in target.glob("billing_dbt_*") if path.is_dir()]
    folders.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
