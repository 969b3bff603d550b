-- Anonymous statistics: daily salts (deleted after 48 hours) and salted visitor hashes.

CREATE TABLE daily_salts (
    day        date PRIMARY KEY,
    salt       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE page_views (
    site_id       uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    view_id       bigint GENERATED ALWAYS AS IDENTITY,
    kind          text NOT NULL CHECK (kind IN ('pageview', 'engagement')),
    visitor_hash  bytea NOT NULL,          -- keyed hash of (daily salt, site, IP, user agent)
    path          text NOT NULL,
    referrer_host text,
    engaged_ms    integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, view_id)
);
CREATE INDEX page_views_by_time ON page_views (site_id, created_at);
