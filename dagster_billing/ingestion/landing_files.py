"""Finding usage files in the landing folder and fingerprinting them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# File suffix -> the reader that parses it. `.json` holds one event or an array of them (a CloudEvents batch).
USAGE_FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative_path: str
    file_format: str
    size_bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def discover_usage_files(landing_dir: Path) -> list[LandingFile]:
    """Every usage file under `<landing>/usage/`, in path order (the order that decides which copy of a
    duplicated event counts as the first). Hidden files and unknown suffixes are ignored."""
    usage_dir = landing_dir / "usage"
    if not usage_dir.is_dir():
        return []
    files = []
    for path in sorted(usage_dir.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in USAGE_FORMATS:
            continue
        files.append(
            LandingFile(
                path=path,
                relative_path=path.relative_to(landing_dir).as_posix(),
                file_format=USAGE_FORMATS[path.suffix.lower()],
                size_bytes=path.stat().st_size,
                sha256=sha256_of(path),
            )
        )
    return files
