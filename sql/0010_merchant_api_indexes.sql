-- Indexes behind the merchant API's lists and exports (keyset pagination, newest first).

-- GET /v1/api-keys: a merchant's keys by (created_at, key_id).
CREATE INDEX api_keys_by_merchant_time ON api_keys (merchant_id, created_at DESC, key_id DESC);

-- GET /v1/sites/SITE_KEY/requests without a status: the inbox, which spam must not slow down.
CREATE INDEX info_requests_inbox ON info_requests (site_id, created_at DESC, request_id DESC)
    WHERE status <> 'spam';

-- GET /v1/sites/SITE_KEY/requests?status=S (and the export with it).
CREATE INDEX info_requests_by_status ON info_requests (site_id, status, created_at DESC, request_id DESC);
