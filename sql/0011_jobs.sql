-- The jobs runtime's schedule: one row per periodic job, claimed by one process at a time.

CREATE TABLE job_schedule (
    name             text PRIMARY KEY,
    next_run_at      timestamptz NOT NULL DEFAULT now(),
    running_until    timestamptz,          -- a claim's lease; NULL when nobody runs it
    running_by       text,                 -- which process holds the lease (host:pid)
    last_started_at  timestamptz,
    last_finished_at timestamptz,
    last_error       text,                 -- an error class, never a message (it could be personal)
    runs             bigint NOT NULL DEFAULT 0
);
