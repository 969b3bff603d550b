-- Statistics mode per site: `always` (cookieless beacons), `consent` (only while analytics is
-- granted; the widget enforces it), `off` (none; the server also drops any beacon that comes).

ALTER TABLE sites ADD COLUMN stats_mode text NOT NULL DEFAULT 'always'
    CHECK (stats_mode IN ('always', 'consent', 'off'));
