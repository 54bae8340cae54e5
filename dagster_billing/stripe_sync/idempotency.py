"""Deterministic idempotency keys: one per (our invoice, step[, our line]), so a retry or re-run replays."""

# Bump when the parameters a step sends change shape, so old keys are not reused with new parameters.
KEY_VERSION = "v1"


def idempotency_key(invoice_id: str, step: str, line_id: str | None = None) -> str:
    parts = ["billing", KEY_VERSION, invoice_id, step] + ([line_id] if line_id else [])
    return ":".join(parts)


def customer_key(customer_id: str, step: str) -> str:
    return ":".join(["billing", KEY_VERSION, "customer", customer_id, step])
