-- Tell every server process when a site or its policy changes, so cached widget configs go stale
-- at once instead of after their TTL. The payload is the site key (what the caches are keyed on).

CREATE FUNCTION notify_widget_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sites' THEN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM pg_notify('widget_site_changed', OLD.site_key);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.site_key <> OLD.site_key) THEN
            PERFORM pg_notify('widget_site_changed', NEW.site_key);
        END IF;
    ELSE
        PERFORM pg_notify('widget_site_changed', s.site_key)
        FROM sites s
        WHERE s.site_id = CASE TG_OP WHEN 'DELETE' THEN OLD.site_id ELSE NEW.site_id END;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sites_notify_widget AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION notify_widget_site_changed();

CREATE TRIGGER policies_notify_widget AFTER INSERT OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION notify_widget_site_changed();
