"""Finalizing warehouse invoices in Stripe, their payment status and dunning, and reconciliation.

Plain functions over a DuckDB connection and a `stripe.StripeClient`, independent of Dagster, so that a crash test
can run them in a subprocess and the Dagster assets in `dagster_billing/defs/stripe/` stay thin wrappers.
"""
