"""The audit trail: append-only events (who, when, old → new, why, automated or not), written by services."""
