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
    # Why a link is not read (None for a file that is): it is recorded as an unreadable file, never dropped.
    refused: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _link_refusal(link: Path, relative_path: str, landing_root: Path) -> str | None:
    """Why the symbolic link `link` is not read, or None when it is: a link to a file inside the landing folder
    is read as that file. A link out of the folder would let anyone who can land a file make ingestion read (and
    quarantine, raw line by raw line) any file the process can open; a linked folder could loop or double the
    files under it."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return f"{relative_path} is a link to {os.readlink(link)}, which does not exist"
    if target.is_dir():
        return (
            f"{relative_path} is a link to a folder: linked folders are not read, land the files themselves"
        )
    if not target.is_relative_to(landing_root):
        return f"{relative_path} is a link to {target}, outside the landing folder: not read"
    return None


def _refused_link(link: Path, relative_path: str, refusal: str) -> LandingFile:
    """A refused link is fingerprinted by where it points, so it is recorded once and a changed link is seen."""
    return LandingFile(
        path=link,
        relative_path=relative_path,
        file_format=USAGE_FORMATS.get(link.suffix.lower(), "link"),
        size_bytes=link.lstat().st_size,
        sha256=hashlib.sha256(f"link to {os.readlink(link)}".encode()).hexdigest(),
        refused=refusal,
    )


def discover_usage_files(landing_dir: Path) -> list[LandingFile]:
    """Every usage file under `<landing>/usage/`, in path order (the order that decides which copy of a
    duplicated event counts as the first). Hidden files and unknown suffixes are ignored. A link to a file in
    the landing folder is read as that file; a link out of it, to a folder or to nothing is listed as refused
    (its target is never opened)."""
    usage_dir = landing_dir / "usage"
    if not usage_dir.is_dir():
        return []
    landing_root = landing_dir.resolve()
    paths, refused = [], []
    # `rglob` lists a linked folder but does not descend into it.
    for path in sorted(usage_dir.rglob("*")):
        if path.name.startswith("."):
            continue
        relative_path = path.relative_to(landing_dir).as_posix()
        is_usage_name = path.suffix.lower() in USAGE_FORMATS
        refusal = _link_refusal(path, relative_path, landing_root) if path.is_symlink() else None
        if refusal is not None and (is_usage_name or path.resolve().is_dir()):
            refused.append(_refused_link(path, relative_path, refusal))
        elif refusal is None and is_usage_name and path.is_file():
            paths.append(path)
    # hashlib releases the GIL on large buffers: files are fingerprinted side by side (at 10M events in 4 files,
    # 0.45 s one after the other, about half on two cores).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        digests = list(pool.map(sha256_of, paths))
    read = [
        LandingFile(
            path=path,
            relative_path=path.relative_to(landing_dir).as_posix(),
            file_format=USAGE_FORMATS[path.suffix.lower()],
            size_bytes=path.stat().st_size,
            sha256=digest,
        )
        for path, digest in zip(paths, digests, strict=True)
    ]
    return sorted(read + refused, key=lambda landing_file: landing_file.path)
