-- Info requests sent through the form, and marketing permissions per e-mail and site.

CREATE TABLE info_requests (
    site_id          uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    request_id       uuid NOT NULL,        -- UUIDv7: time-ordered
    event_id         uuid NOT NULL,
    visitor_id       text NOT NULL,
    fields           jsonb NOT NULL,       -- verbatim (NFC) values by field name
    email            text,                 -- lower-cased copy of fields.email, for lookups
    marketing_opt_in boolean NOT NULL,
    status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'done', 'spam')),
    spam_reason      text,
    policy_version   integer NOT NULL,
    language         text NOT NULL,
    page_origin      text NOT NULL,
    page_path        text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (site_id, request_id),
    UNIQUE (site_id, event_id)
);
CREATE INDEX info_requests_by_time ON info_requests (site_id, created_at DESC, request_id DESC);
CREATE INDEX info_requests_by_email ON info_requests (site_id, email, request_id DESC);

CREATE TABLE marketing_permissions (
    site_id           uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    email             text NOT NULL,       -- lower-cased
    contact_id        uuid NOT NULL,       -- what unsubscribe tokens carry instead of the e-mail
    status            text NOT NULL CHECK (status IN ('granted', 'opted_out')),
    source_request_id uuid,
    source_record_id  uuid,
    granted_at        timestamptz,
    opted_out_at      timestamptz,
    opt_out_source    text,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (site_id, email),
    UNIQUE (site_id, contact_id)
);
CREATE INDEX marketing_permissions_by_time ON marketing_permissions (site_id, updated_at DESC, email);
