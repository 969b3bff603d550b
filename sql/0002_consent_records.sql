-- The append-only consent log: one row per decision, with what proves it.

CREATE TABLE consent_records (
    site_id        uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    record_id      uuid NOT NULL,          -- UUIDv7: time-ordered
    event_id       uuid,                   -- the widget's idempotency key (NULL for form records)
    visitor_id     text NOT NULL,
    action         text NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'custom', 'withdraw', 'accept_terms')),
    surface        text NOT NULL CHECK (surface IN ('banner', 'preferences', 'form', 'api')),
    purposes       jsonb NOT NULL,
    policy_version integer NOT NULL,
    policy_sha256  text NOT NULL,
    language       text NOT NULL,
    page_origin    text NOT NULL,
    page_path      text NOT NULL,
    gpc            boolean NOT NULL,
    user_agent     text,
    widget_version text,
    request_id     uuid,                   -- the info request this record came with
    created_at     timestamptz NOT NULL,
    valid_until    timestamptz NOT NULL,
    receipt        text NOT NULL,          -- HMAC over the canonical fields
    PRIMARY KEY (site_id, record_id),
    UNIQUE (site_id, event_id),
    FOREIGN KEY (site_id, policy_version) REFERENCES policies (site_id, version)
);
CREATE INDEX consent_records_by_time ON consent_records (site_id, created_at DESC, record_id DESC);
CREATE INDEX consent_records_by_visitor ON consent_records (site_id, visitor_id, record_id DESC);

CREATE TRIGGER consent_records_append_only BEFORE UPDATE ON consent_records
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
