-- 個人資料保護法 §10, §13: citizens' access requests and the §10 withholding marks on
-- registrations. The subject is kept as its keyed digest (to find the trail) and sealed like a
-- registration's subject (custody); never in clear.

CREATE TABLE citizen_requests (
    id                  INTEGER PRIMARY KEY,
    request_no          TEXT NOT NULL UNIQUE,
    received_on         TEXT NOT NULL,            -- civil date (YYYY-MM-DD)
    created_at          TEXT NOT NULL,
    recorded_by         INTEGER NOT NULL REFERENCES persons(id),
    subject_hmac        TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    subject_sealed      BLOB NOT NULL,
    subject_nonce       BLOB NOT NULL,
    wrapped_key         BLOB NOT NULL,
    wrap_nonce          BLOB NOT NULL,
    master_key_id       TEXT NOT NULL,
    identity_check      TEXT NOT NULL CHECK (identity_check IN ('in_person_id_card', 'moica_signed')),
    asked               TEXT NOT NULL,
    due_on              TEXT NOT NULL,
    -- §13: one extension, with its reason and the deadline it replaced.
    extension_reason    TEXT,
    previous_due_on     TEXT,
    answered_on         TEXT,
    answered_by         INTEGER REFERENCES persons(id)
) STRICT;

CREATE INDEX citizen_requests_subject ON citizen_requests (subject_hmac);

-- §10 exception: a registration left out of citizens' reports until `disclose_on`. One mark per
-- registration; marks are never deleted, so the ethics office sees every one.
CREATE TABLE withholding_marks (
    id                  INTEGER PRIMARY KEY,
    registration_id     INTEGER NOT NULL UNIQUE REFERENCES registrations(id),
    disclose_on         TEXT NOT NULL,
    reason              TEXT NOT NULL,
    marked_by           INTEGER NOT NULL REFERENCES persons(id),
    marked_at           TEXT NOT NULL
) STRICT;

CREATE TRIGGER withholding_marks_no_delete BEFORE DELETE ON withholding_marks
BEGIN
    SELECT RAISE(ABORT, 'withholding marks are kept');
END;
