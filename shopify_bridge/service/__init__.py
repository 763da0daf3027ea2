"""The async bridge service and its parts: per-source scheduling, poll cycles, backfills, operator actions."""
