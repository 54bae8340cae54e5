"""The invoice ledger: issued invoices are records that never change (schema `billing`)."""
