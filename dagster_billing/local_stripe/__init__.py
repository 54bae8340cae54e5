"""A local Stripe for tests and `billing demo`: stock `localstripe` 1.15.10 plus the invoicing it lacks.

Never used by a run pointed at real Stripe. `emulator.py` holds the added Stripe behaviour, `faults.py` the
test-only fault injection, `process.py` starts and stops the emulator process, `cards.py` gives emulator
customers a test card.
"""
