-- Anonymous statistics that cannot be linked to a person (docs/statistics.md).
--
-- Raw facts carry no visitor identifier and no time finer than the site's local hour; they live
-- in one partition per (site-local) day, dropped whole once every site's day is final. Distinct
-- visitors are counted at ingest the way Fathom does it: the salted hash of the day is looked up
-- in a set that holds nothing but (site, day, hash), and a view that added its hash is flagged as
-- a new visitor's. The set and the salt are deleted when the day is over. Aggregates per site and
-- day are what the stats endpoints read; they are kept for the site's retention.

CREATE TABLE stats_facts (
    day           date NOT NULL,          -- the site's own calendar day when the beacon came
    site_id       uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    hour          smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),   -- the site's local hour
    kind          text NOT NULL CHECK (kind IN ('pageview', 'engagement')),
    path          text NOT NULL,
    referrer_host text,                   -- another site's host, for page views only
    engaged_ms    integer CHECK (engaged_ms >= 0),
    new_visitor   boolean NOT NULL        -- the first page view of a visitor that day
) PARTITION BY RANGE (day);
-- No primary key on purpose: a row id would be an identifier (and an order of arrival).
CREATE INDEX stats_facts_by_site ON stats_facts (site_id);

-- The day's set of visitor hashes: nothing else, no time, no path.
CREATE TABLE stats_visitor_hashes (
    site_id uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    day     date NOT NULL,
    hash    bytea NOT NULL,
    PRIMARY KEY (site_id, day, hash)
);

-- One salt per time zone and local day, so that a visitor keeps one hash for the site's whole
-- day; deleted when that day is over there (and in any case 48 hours after it was made).
DROP TABLE daily_salts;
CREATE TABLE daily_salts (
    time_zone  text NOT NULL,
    day        date NOT NULL,
    salt       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (time_zone, day)
);

CREATE TABLE stats_days (
    site_id           uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    day               date NOT NULL,
    pageviews         bigint NOT NULL DEFAULT 0,
    visitors          bigint NOT NULL DEFAULT 0,
    engagements       bigint NOT NULL DEFAULT 0,   -- engagement beacons
    engaged_ms        bigint NOT NULL DEFAULT 0,   -- their visible-and-focused time, summed
    median_engaged_ms integer,
    requests          bigint NOT NULL DEFAULT 0,   -- info requests not marked spam
    PRIMARY KEY (site_id, day)
);

CREATE TABLE stats_pages (
    site_id           uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    day               date NOT NULL,
    path              text NOT NULL,
    pageviews         bigint NOT NULL DEFAULT 0,
    entries           bigint NOT NULL DEFAULT 0,   -- first page views of the day's visitors
    engagements       bigint NOT NULL DEFAULT 0,
    engaged_ms        bigint NOT NULL DEFAULT 0,
    median_engaged_ms integer,
    PRIMARY KEY (site_id, day, path)
);

CREATE TABLE stats_referrers (
    site_id uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    day     date NOT NULL,
    host    text NOT NULL,
    visits  bigint NOT NULL,
    PRIMARY KEY (site_id, day, host)
);

-- The same sums per calendar month (`month` is its first day), so that a long range adds up a
-- dozen rows per path instead of hundreds; only whole months within retention are read from here.
CREATE TABLE stats_pages_months (
    site_id     uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    path        text NOT NULL,
    pageviews   bigint NOT NULL DEFAULT 0,
    engagements bigint NOT NULL DEFAULT 0,
    engaged_ms  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, month, path)
);

CREATE TABLE stats_referrers_months (
    site_id uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    month   date NOT NULL CHECK (extract(day FROM month) = 1),
    host    text NOT NULL,
    visits  bigint NOT NULL,
    PRIMARY KEY (site_id, month, host)
);

-- Per policy version and day: decisions by action, grants by purpose, the visitors counted while
-- the version was current and the visitors who decided (counted apart, never joined).
CREATE TABLE stats_consents (
    site_id          uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    day              date NOT NULL,
    policy_version   integer NOT NULL,
    decisions        jsonb NOT NULL DEFAULT '{}',
    granted          jsonb NOT NULL DEFAULT '{}',
    visitors_counted bigint NOT NULL DEFAULT 0,
    visitors_decided bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, policy_version)
);

-- Each site's last final day: days up to it are read from the aggregates only.
CREATE TABLE stats_rollups (
    site_id       uuid PRIMARY KEY REFERENCES sites (site_id) ON DELETE CASCADE,
    final_through date NOT NULL
);

-- The old page_views rows held a day-long visitor hash beside an exact time and a path: fold them
-- into daily aggregates (days in each site's time zone) and drop them.
INSERT INTO stats_days (site_id, day, pageviews, visitors, engagements, engaged_ms, median_engaged_ms)
SELECT p.site_id, (p.created_at AT TIME ZONE s.time_zone)::date,
       count(*) FILTER (WHERE p.kind = 'pageview'),
       count(DISTINCT p.visitor_hash) FILTER (WHERE p.kind = 'pageview'),
       count(p.engaged_ms) FILTER (WHERE p.kind = 'engagement'),
       coalesce(sum(p.engaged_ms) FILTER (WHERE p.kind = 'engagement'), 0),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p.engaged_ms)
             FILTER (WHERE p.kind = 'engagement'))
FROM page_views p JOIN sites s ON s.site_id = p.site_id
GROUP BY 1, 2;

INSERT INTO stats_pages (site_id, day, path, pageviews, entries, engagements, engaged_ms,
                         median_engaged_ms)
SELECT site_id, day, path,
       count(*) FILTER (WHERE kind = 'pageview'),
       count(*) FILTER (WHERE first_view),
       count(engaged_ms) FILTER (WHERE kind = 'engagement'),
       coalesce(sum(engaged_ms) FILTER (WHERE kind = 'engagement'), 0),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY engaged_ms)
             FILTER (WHERE kind = 'engagement'))
FROM (
    SELECT p.site_id, (p.created_at AT TIME ZONE s.time_zone)::date AS day, p.kind, p.path,
           p.engaged_ms,
           p.kind = 'pageview' AND row_number() OVER (
               PARTITION BY p.site_id, (p.created_at AT TIME ZONE s.time_zone)::date, p.kind,
                            p.visitor_hash
               ORDER BY p.created_at, p.view_id) = 1 AS first_view
    FROM page_views p JOIN sites s ON s.site_id = p.site_id
) v
GROUP BY site_id, day, path;

INSERT INTO stats_referrers (site_id, day, host, visits)
SELECT p.site_id, (p.created_at AT TIME ZONE s.time_zone)::date, p.referrer_host, count(*)
FROM page_views p JOIN sites s ON s.site_id = p.site_id
WHERE p.kind = 'pageview' AND p.referrer_host IS NOT NULL
GROUP BY 1, 2, 3;

INSERT INTO stats_pages_months (site_id, month, path, pageviews, engagements, engaged_ms)
SELECT site_id, date_trunc('month', day)::date, path, sum(pageviews), sum(engagements),
       sum(engaged_ms)
FROM stats_pages GROUP BY 1, 2, 3;

INSERT INTO stats_referrers_months (site_id, month, host, visits)
SELECT site_id, date_trunc('month', day)::date, host, sum(visits)
FROM stats_referrers GROUP BY 1, 2, 3;

DROP TABLE page_views;
