"""Background work that runs in every process: retention, salts, and (later) rollups and the outbox."""
