"""How the generated events are split into landing files, and which earlier events each file repeats.

Event `i` (0 <= i < events) is a pure function of `i` and the seed, so a file is a range of event indexes plus
copy groups: arithmetic picks of indexes that belong to an earlier (or the same) file. Re-rendering an index
reproduces the event exactly, which is what makes a retried duplicate identical without remembering it.
Pick ranges never overlap, so every counted copy is the second copy of its event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time

FILE_EXTENSIONS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "cloudevents": "jsonl"}
BULK_ROWS_PER_FILE = 2_500_000
# Below this many events a file per month reads like a real export; above it, few big files load fastest.
MONTHLY_FILES_BELOW = 1_000_000
CONFLICTING_DUPLICATES = 5  # "a handful"
SAME_FILE_SHARE = 0.1  # of a file's retried duplicates, the part that repeats an event of the same file


@dataclass(frozen=True)
class CopyGroup:
    """`copies` rows repeating indexes source_first + r * source_count // copies, r = 0..copies-1."""

    source_first: int
    source_count: int
    copies: int
    conflicting: bool  # the copy carries a different quantity


@dataclass(frozen=True)
class PlannedUsageFile:
    relative_path: str
    file_format: str
    first_event: int
    end_event: int  # exclusive
    copy_groups: tuple[CopyGroup, ...]

    @property
    def unique_events(self) -> int:
        return self.end_event - self.first_event

    @property
    def generated_rows(self) -> int:
        return self.unique_events + sum(group.copies for group in self.copy_groups)

    def copies(self, *, conflicting: bool) -> int:
        return sum(group.copies for group in self.copy_groups if group.conflicting == conflicting)


def _file_count(events: int, start: date, end: date, rows_per_file: int | None) -> int:
    if rows_per_file:
        return math.ceil(events / rows_per_file)
    if events < MONTHLY_FILES_BELOW:
        months = (end.year - start.year) * 12 + end.month - start.month + (end.day > 1)
        return max(1, min(months, events // 500))
    return math.ceil(events / BULK_ROWS_PER_FILE)


def _part(first: int, count: int, lower: float, upper: float) -> tuple[int, int]:
    """(first, count) of the [lower, upper) fraction of a range."""
    begin, finish = first + int(count * lower), first + int(count * upper)
    return begin, finish - begin


def _group(source: tuple[int, int], copies: int, conflicting: bool) -> list[CopyGroup]:
    copies = min(copies, source[1])
    return [CopyGroup(source[0], source[1], copies, conflicting)] if copies > 0 else []


def _copy_groups(
    ranges: list[tuple[int, int]], index: int, share: float, conflicts: int
) -> tuple[CopyGroup, ...]:
    """Same-file repeats come from the first half of this file; later-file repeats from the third quarter of
    the previous file, conflicts from its last quarter (with a single file, from this file's)."""
    first, count = ranges[index]
    if share <= 0:
        return ()
    total = round(share * count)
    same_file = round(total * SAME_FILE_SHARE) if index or len(ranges) > 1 else total
    groups = _group(_part(first, count, 0, 0.5), same_file, False)
    if index:
        previous = ranges[index - 1]
        groups += _group(_part(*previous, 0.5, 0.75), total - same_file, False)
    if index or len(ranges) == 1:
        source = ranges[index - 1] if index else ranges[index]
        groups += _group(_part(*source, 0.75, 1.0), conflicts, True)
    return tuple(groups)


def _conflicts_per_file(files: int) -> list[int]:
    """The handful of conflicts, one per file from the second file on (all in the only file if just one)."""
    if files == 1:
        return [CONFLICTING_DUPLICATES]
    per_file = [0] * files
    for slot in range(CONFLICTING_DUPLICATES):
        per_file[1 + slot % (files - 1)] += 1
    return per_file


def _relative_path(index: int, file_format: str, first_moment: datetime) -> str:
    stem = "cloudevents" if file_format == "cloudevents" else "events"
    # The index leads the file name, so path order (the order ingestion reads files) is generation order.
    return f"usage/{first_moment:%Y/%m}/{index + 1:05d}-{stem}.{FILE_EXTENSIONS[file_format]}"


def plan_usage_files(
    events: int,
    start: date,
    end: date,
    formats: tuple[str, ...],
    duplicate_share: float,
    rows_per_file: int | None = None,
) -> list[PlannedUsageFile]:
    files = _file_count(events, start, end, rows_per_file)
    bounds = [index * events // files for index in range(files + 1)]
    ranges = [(bounds[index], bounds[index + 1] - bounds[index]) for index in range(files)]
    conflicts = _conflicts_per_file(files)
    window_start = datetime.combine(start, time())
    span = datetime.combine(end, time()) - window_start
    return [
        PlannedUsageFile(
            relative_path=_relative_path(
                index, formats[index % len(formats)], window_start + span * (first / events)
            ),
            file_format=formats[index % len(formats)],
            first_event=first,
            end_event=first + count,
            copy_groups=_copy_groups(ranges, index, duplicate_share, conflicts[index]),
        )
        for index, (first, count) in enumerate(ranges)
    ]
