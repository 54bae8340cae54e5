"""SQL that turns a usage segment's columns (whatever their Parquet types) into the normalized event columns,
and the rejection reason of each row.

One definition serves ingestion (to decide what is quarantined) and the `raw.usage_events` view (to read what
was accepted), so the two can never disagree on how a value is parsed.
"""

from __future__ import annotations

REQUIRED_COLUMNS = ("event_id", "customer_id", "metric", "occurred_at")
QUANTITY_TYPE = "decimal(38, 12)"
# The largest quantity one event may carry (10^15). Window sums of many such events still fit the dbt models'
# DECIMAL(38, 12) aggregates (26 integer digits); a larger value is a sender's bug, quarantined as
# `quantity_above_maximum` rather than overflowing a window total and stopping every customer's invoice.
MAX_QUANTITY = 10**15

# An RFC 3339 offset after the time of a timestamp string: `Z`, `+02:00`, `-0530`, `+02`, or a zone name
# (`UTC`, `Europe/Paris`), which a cast to TIMESTAMP would silently drop. The time (`:MM` or `:SS[.fff]`)
# must come first, or the day of a bare date (`2025-05-01` ends in `-01`) is taken for an offset and the date
# is read in the session's time zone.
#
# Only offsets of at most 23:59 are RFC 3339 (`time-numoffset`: hour 00-23, minute 00-59). DuckDB itself reads
# `+25:00` or `+05:60` as 25 hours or 5 h 60 min, so a text whose offset is numeric but out of range is no
# timestamp at all (null -> `invalid_timestamp`).
_OFFSET_PATTERN = r":\d\d(\.\d+)? ?([zZ]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?| [A-Za-z][A-Za-z_/+-]*)$"
_OUT_OF_RANGE_OFFSET_PATTERN = r":\d\d(\.\d+)? ?[+-]\d\d(:?\d\d)?$"


def _is_text(sql_type: str) -> bool:
    return sql_type.upper() in ("VARCHAR", "JSON") or sql_type.upper().startswith("VARCHAR")


def _is_float(sql_type: str) -> bool:
    return sql_type.upper() in ("DOUBLE", "FLOAT", "REAL")


def _text(column: str) -> str:
    """Text as sent, with an empty or all-blank value as null. Values are not trimmed: trimming every id of
    millions of rows costs more than reading them, so only values that start or end with a blank are looked at."""
    value = f"cast({column} as varchar)"
    return (
        f"case when {value} = '' then null "
        f"when ({value} like ' %' or {value} like '% ') and trim({value}) = '' then null else {value} end"
    )


def _quantity(columns: dict[str, str]) -> tuple[str, str, str, str]:
    """(raw text, normalized value, non-finite flag, approximate value) of the quantity column; absent or empty
    means 1.

    The approximate value is a DOUBLE, non-null only where the exact value is null: a number too large for
    DECIMAL(38, 12) (`1e30`, a 27-digit integer, `1e400`) is still a number, and its sign and size decide
    between `negative_quantity` and `quantity_above_maximum` instead of calling it "not a number"."""
    sql_type = columns.get("quantity")
    if sql_type is None:
        return "null", f"cast(1 as {QUANTITY_TYPE})", "false", "cast(null as double)"
    raw = "cast(quantity as varchar)"
    if _is_text(sql_type):
        text = _text("quantity")
        value = f"coalesce(try_cast({text} as {QUANTITY_TYPE}), case when {text} is null then 1 end)"
        # `1e400` overflows a double to infinity but is written with digits: a (too large) number, not NaN.
        non_finite = f"coalesce(not isfinite(try_cast({text} as double)), false) and not regexp_matches({text}, '[0-9]')"
        approximate = f"case when {value} is null then try_cast({text} as double) end"
    elif _is_float(sql_type):
        # Through the double's shortest text, which is what the sender wrote: DuckDB's direct cast multiplies by
        # 10^12 in floating point and reads 1e15 as 1000000000000000.000000000013. try_cast: a finite double
        # beyond DECIMAL(38, 12) (1e30) is a number above the maximum, not a failed run.
        value = (
            f"case when isfinite(quantity) then try_cast(cast(quantity as varchar) as {QUANTITY_TYPE}) "
            "when quantity is null then 1 end"
        )
        non_finite = "coalesce(not isfinite(quantity), false)"
        approximate = f"case when {value} is null then quantity end"
    else:
        value = f"coalesce(try_cast(quantity as {QUANTITY_TYPE}), case when quantity is null then 1 end)"
        non_finite = "false"
        approximate = f"case when {value} is null then try_cast(quantity as double) end"
    return raw, f"cast({value} as {QUANTITY_TYPE})", non_finite, approximate


def _occurred_at(sql_type: str) -> str:
    """UTC TIMESTAMP, independent of the reading session's TimeZone setting."""
    upper = sql_type.upper()
    if upper == "TIMESTAMP WITH TIME ZONE":
        return "timezone('UTC', occurred_at)"
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return "try_cast(occurred_at as timestamp)"
    text = _text("occurred_at")
    # With an offset: parse as TIMESTAMPTZ and convert to UTC; without one the contract says UTC already.
    return (
        f"case when regexp_matches({text}, '{_OFFSET_PATTERN}') "
        f"then timezone('UTC', try_cast({text} as timestamptz)) "
        f"when regexp_matches({text}, '{_OUT_OF_RANGE_OFFSET_PATTERN}') then null "
        f"else try_cast({text} as timestamp) end"
    )


def _occurred_at_is_epoch_text(sql_type: str) -> str:
    # DuckDB reads the text 'epoch' as 1970-01-01; a typed column cannot hold that word. Tested on the text
    # only for text columns, so typed timestamps are never formatted as text (10M casts cost about 1 s).
    return f"coalesce({_text('occurred_at')} ilike '%epoch%', false)" if _is_text(sql_type) else "false"


def _occurred_at_is_missing(sql_type: str) -> str:
    # Typed columns are tested directly: formatting millions of timestamps as text just to test them is slow.
    return f"{_text('occurred_at')} is null" if _is_text(sql_type) else "occurred_at is null"


def _properties(columns: dict[str, str]) -> tuple[str, str]:
    """(normalized JSON or null, is-invalid flag)."""
    sql_type = columns.get("properties")
    if sql_type is None:
        return "cast(null as varchar)", "false"
    if _is_text(sql_type):
        # Kept as the JSON text that was sent (re-serializing millions of objects on every read is costly); an
        # object is valid JSON whose first non-blank character is `{`.
        text = _text("properties")
        is_object = f"(json_valid({text}) and ({text} like '{{%' or ltrim({text}) like '{{%'))"
        return f"case when {is_object} then {text} end", f"({text} is not null and not {is_object})"
    return "cast(to_json(properties) as varchar)", "false"


def accepted_columns_sql(columns: dict[str, str]) -> str:
    """The select list of the normalized columns for rows already accepted (the `raw.usage_events` view).

    The same values as `normalized_columns_sql`, without its validity tests: an accepted row passed them at
    ingestion. For properties that means skipping `json_valid` on every read (an accepted row's properties are
    a JSON object or blank, and both expressions give the same value for those)."""
    _, quantity, _, _ = _quantity(columns)
    sql_type = columns.get("properties")
    properties = "cast(null as varchar)" if sql_type is None else _properties(columns)[0]
    if sql_type is not None and _is_text(sql_type):
        properties = _text("properties")
    # An accepted row's ids are not blank (a blank one is quarantined), so `_text` would return them unchanged.
    return f"""
        cast(event_id as varchar) as event_id,
        cast(customer_id as varchar) as customer_id,
        cast(metric as varchar) as metric,
        {quantity} as quantity,
        {_occurred_at(columns["occurred_at"])} as occurred_at,
        {properties} as properties"""


def normalized_columns_sql(columns: dict[str, str]) -> str:
    """The select list for one segment schema: normalized columns plus the raw text kept for quarantine."""
    quantity_raw, quantity, non_finite, approximate = _quantity(columns)
    properties, invalid_properties = _properties(columns)
    return f"""
        {_text("event_id")} as event_id,
        {_text("customer_id")} as customer_id,
        {_text("metric")} as metric,
        {quantity} as quantity,
        {_occurred_at(columns["occurred_at"])} as occurred_at,
        {properties} as properties,
        {quantity_raw} as quantity_raw,
        cast(occurred_at as varchar) as occurred_at_raw,
        {_occurred_at_is_missing(columns["occurred_at"])} as occurred_at_is_missing,
        {_occurred_at_is_epoch_text(columns["occurred_at"])} as occurred_at_is_epoch_text,
        {non_finite} as quantity_is_non_finite,
        {approximate} as quantity_approximate,
        {invalid_properties} as properties_are_invalid"""


def rejection_reason_sql(
    known_customers: str, ingested_at: str, future_tolerance_minutes: int
) -> tuple[str, str]:
    """(reason_code, reason) expressions over a relation with the normalized columns.

    `known_customers` is a relation with a `customer_id` column; `ingested_at` a TIMESTAMP literal (UTC).
    """
    quoted = "replace(coalesce({0}, ''), '''', '')"
    # (reason_code, condition, reason in plain words), checked in this order: a row gets the first that applies.
    # `unparseable_row`, `unreadable_file` and `duplicate_conflict` are decided while reading or deduplicating.
    checks = [
        ("missing_event_id", "event_id is null", "'event_id is missing or empty'"),
        ("missing_customer_id", "customer_id is null", "'customer_id is missing or empty'"),
        ("missing_metric", "metric is null", "'metric is missing or empty'"),
        (
            "invalid_quantity",
            "quantity is null and not quantity_is_non_finite "
            f"and not coalesce(quantity_approximate < 0 or quantity_approximate > {MAX_QUANTITY}, false)",
            "'quantity ''' || " + quoted.format("quantity_raw") + " || ''' is not a number'",
        ),
        (
            "non_finite_quantity",
            "quantity_is_non_finite",
            "'quantity ''' || " + quoted.format("quantity_raw") + " || ''' is not a finite number'",
        ),
        (
            "negative_quantity",
            "quantity < 0 or quantity_approximate < 0",
            "'quantity ' || " + quoted.format("quantity_raw") + " || ' is negative'",
        ),
        (
            "quantity_above_maximum",
            f"quantity > {MAX_QUANTITY} or quantity_approximate > {MAX_QUANTITY}",
            "'quantity ' || " + quoted.format("quantity_raw") + f" || ' is above the maximum {MAX_QUANTITY}'",
        ),
        ("missing_timestamp", "occurred_at_is_missing", "'occurred_at is missing'"),
        (
            "invalid_timestamp",
            # DuckDB reads 'infinity', '-infinity' and 'epoch' as timestamps; no usage happened at those.
            "occurred_at is null or not isfinite(occurred_at) "
            "or (occurred_at = timestamp '1970-01-01' and occurred_at_is_epoch_text)",
            "'occurred_at ''' || "
            + quoted.format("occurred_at_raw")
            + " || ''' is not an RFC 3339 timestamp'",
        ),
        (
            "future_timestamp",
            f"occurred_at > {ingested_at} + interval ({future_tolerance_minutes}) minute",
            "'occurred_at ' || strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') || ' is more than "
            f"{future_tolerance_minutes} minutes after the ingestion time ' || strftime({ingested_at}, "
            "'%Y-%m-%dT%H:%M:%SZ')",
        ),
        ("invalid_properties", "properties_are_invalid", "'properties is not a JSON object'"),
        (
            "unknown_customer",
            f"customer_id not in (select customer_id from {known_customers})",
            "'customer_id ''' || customer_id || ''' is not in customers.csv'",
        ),
    ]
    code = "case " + " ".join(f"when {cond} then '{name}'" for name, cond, _ in checks) + " end"
    reason = "case " + " ".join(f"when {cond} then {text}" for _, cond, text in checks) + " end"
    return code, reason
