-- `widget-server consent verify ID` looks a record up by its id alone, across sites.
CREATE INDEX consent_records_by_id ON consent_records (record_id);
