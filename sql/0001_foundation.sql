-- Merchants, their API keys, their sites and each site's versioned policy texts.

CREATE TABLE merchants (
    merchant_id uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    merchant_id   uuid NOT NULL REFERENCES merchants (merchant_id) ON DELETE CASCADE,
    key_id        uuid NOT NULL,
    lookup        text NOT NULL,      -- first characters of the secret, to find the row
    secret_sha256 bytea NOT NULL,     -- the secret itself is never stored
    name          text NOT NULL DEFAULT '',
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (merchant_id, key_id)
);
CREATE UNIQUE INDEX api_keys_lookup ON api_keys (lookup);

CREATE TABLE sites (
    merchant_id         uuid NOT NULL REFERENCES merchants (merchant_id) ON DELETE CASCADE,
    site_id             uuid NOT NULL,
    site_key            text NOT NULL,
    name                text NOT NULL,
    allowed_origins     text[] NOT NULL DEFAULT '{}',
    default_locale      text NOT NULL DEFAULT 'en',
    time_zone           text NOT NULL DEFAULT 'UTC',
    form                jsonb NOT NULL,
    purposes            jsonb NOT NULL,
    texts               jsonb NOT NULL DEFAULT '{}',
    theme               jsonb NOT NULL DEFAULT '{}',
    consent_expiry_days integer NOT NULL DEFAULT 365 CHECK (consent_expiry_days BETWEEN 1 AND 3650),
    retention_days      integer NOT NULL DEFAULT 1095 CHECK (retention_days BETWEEN 1 AND 36500),
    store_user_agent    boolean NOT NULL DEFAULT true,
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, site_id),
    UNIQUE (site_id),
    UNIQUE (site_key)
);
CREATE INDEX sites_by_merchant ON sites (merchant_id, created_at DESC, site_id DESC);

CREATE TABLE policies (
    site_id      uuid NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    version      integer NOT NULL CHECK (version >= 1),
    title        text NOT NULL,
    body         text NOT NULL,
    language     text NOT NULL,
    sha256       text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, version)
);

-- A published policy is evidence: it can be deleted with its site, never edited.
CREATE FUNCTION forbid_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER policies_immutable BEFORE UPDATE ON policies
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
