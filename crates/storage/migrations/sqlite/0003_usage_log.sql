-- §7: the BLI platform's own usage records, imported for reconciliation against the
-- registrations. The subject is kept only as a keyed HMAC (and its masked form for display).

CREATE TABLE usage_log_imports (
    id              INTEGER PRIMARY KEY,
    imported_at     TEXT NOT NULL,
    imported_by     INTEGER REFERENCES persons(id),
    file_sha256     TEXT NOT NULL,
    rows_in_file    INTEGER NOT NULL,
    rows_added      INTEGER NOT NULL
) STRICT;

CREATE TABLE platform_usage_records (
    platform_record_id  TEXT PRIMARY KEY,    -- the platform's row id: importing twice adds nothing
    at                  TEXT NOT NULL,
    agency_code         TEXT NOT NULL,
    operator_account    TEXT NOT NULL,
    item                TEXT NOT NULL,
    subject_hmac        TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    subject_masked      TEXT NOT NULL,
    request_id          TEXT,
    outcome             TEXT NOT NULL,
    import_id           INTEGER NOT NULL REFERENCES usage_log_imports(id)
) STRICT;

CREATE INDEX platform_usage_records_at ON platform_usage_records (at);
CREATE INDEX platform_usage_records_subject ON platform_usage_records (subject_hmac);
