-- §8, Form 4 (稽核紀錄表): unannounced audits, their sampled cases with the auditors'
-- opinions, the four sign-offs, the director's review, and the documents the querier attaches.
--
-- The seed of the draw is kept (as decimal text: it is an unsigned 64-bit number) with the
-- candidates and their weights, so anyone can repeat the draw and check the sample. Attached documents and their file names are sealed (AES-256-GCM under
-- a data key wrapped by the custody master key) exactly like query results; only their SHA-256
-- digest, type and size are in clear. Once the director has reviewed an audit its record is
-- read-only: the triggers below refuse any change to it or to its rows.

CREATE TABLE unannounced_audits (
    id                  INTEGER PRIMARY KEY,
    period_from         TEXT NOT NULL,           -- ISO civil dates
    period_to           TEXT NOT NULL,
    audit_date          TEXT NOT NULL,
    querier_id          INTEGER NOT NULL REFERENCES persons(id),
    querier_unit        TEXT NOT NULL REFERENCES units(id),
    auditing_unit       TEXT NOT NULL REFERENCES units(id),
    auditing_unit_phone TEXT NOT NULL,
    documents_deadline  TEXT NOT NULL,
    cases_requested     INTEGER NOT NULL CHECK (cases_requested > 0),
    sampling            TEXT NOT NULL CHECK (sampling IN ('uniform', 'weighted')),
    seed                TEXT NOT NULL,
    candidates          TEXT NOT NULL,           -- JSON [[registration_id, weight], …] drawn from
    opened_by           INTEGER NOT NULL REFERENCES persons(id),
    opened_at           TEXT NOT NULL,
    state               TEXT NOT NULL,
    overall_violation   INTEGER CHECK (overall_violation IN (0, 1)),
    overall_text        TEXT,
    overall_by          INTEGER REFERENCES persons(id),
    overall_at          TEXT,
    reviewed_by         INTEGER REFERENCES persons(id),
    reviewed_at         TEXT,
    review_comment      TEXT
) STRICT;

CREATE INDEX unannounced_audits_querier ON unannounced_audits (querier_id);
CREATE INDEX unannounced_audits_state ON unannounced_audits (state);

CREATE TABLE unannounced_audit_auditors (
    audit_id            INTEGER NOT NULL REFERENCES unannounced_audits(id),
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY (audit_id, person_id)
) STRICT;

CREATE TABLE unannounced_audit_cases (
    audit_id            INTEGER NOT NULL REFERENCES unannounced_audits(id),
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    position            INTEGER NOT NULL,        -- 1 = drawn first
    weight              INTEGER NOT NULL,
    opinion_conforms    INTEGER CHECK (opinion_conforms IN (0, 1)),
    opinion_text        TEXT,
    opinion_by          INTEGER REFERENCES persons(id),
    opinion_at          TEXT,
    PRIMARY KEY (audit_id, registration_id),
    UNIQUE (audit_id, position)
) STRICT;

CREATE TABLE unannounced_audit_sign_offs (
    audit_id            INTEGER NOT NULL REFERENCES unannounced_audits(id),
    step                TEXT NOT NULL CHECK (step IN
                          ('querier', 'auditor', 'querier_supervisor', 'auditing_supervisor')),
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    at                  TEXT NOT NULL,
    PRIMARY KEY (audit_id, step)
) STRICT;

CREATE TABLE unannounced_audit_documents (
    id                  INTEGER PRIMARY KEY,
    audit_id            INTEGER NOT NULL REFERENCES unannounced_audits(id),
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    content_type        TEXT NOT NULL CHECK (content_type IN
                          ('application/pdf', 'image/png', 'image/jpeg')),
    size_bytes          INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    uploaded_by         INTEGER NOT NULL REFERENCES persons(id),
    uploaded_at         TEXT NOT NULL,
    name_sealed         BLOB NOT NULL,
    name_nonce          BLOB NOT NULL,
    name_wrapped_key    BLOB NOT NULL,
    name_wrap_nonce     BLOB NOT NULL,
    name_master_key_id  TEXT NOT NULL,
    sealed              BLOB NOT NULL,
    nonce               BLOB NOT NULL,
    wrapped_key         BLOB NOT NULL,
    wrap_nonce          BLOB NOT NULL,
    master_key_id       TEXT NOT NULL,
    FOREIGN KEY (audit_id, registration_id)
        REFERENCES unannounced_audit_cases (audit_id, registration_id)
) STRICT;

CREATE INDEX unannounced_audit_documents_audit ON unannounced_audit_documents (audit_id, id);

-- §8: the director's review files the record; after it nothing changes.
CREATE TRIGGER unannounced_audits_read_only BEFORE UPDATE ON unannounced_audits
WHEN OLD.state = 'reviewed'
BEGIN
    SELECT RAISE(ABORT, 'audit record is read-only after the director''s review');
END;

CREATE TRIGGER unannounced_audit_cases_read_only BEFORE UPDATE ON unannounced_audit_cases
WHEN (SELECT state FROM unannounced_audits WHERE id = OLD.audit_id) = 'reviewed'
BEGIN
    SELECT RAISE(ABORT, 'audit record is read-only after the director''s review');
END;

CREATE TRIGGER unannounced_audit_sign_offs_read_only BEFORE INSERT ON unannounced_audit_sign_offs
WHEN (SELECT state FROM unannounced_audits WHERE id = NEW.audit_id) = 'reviewed'
BEGIN
    SELECT RAISE(ABORT, 'audit record is read-only after the director''s review');
END;

CREATE TRIGGER unannounced_audit_documents_read_only BEFORE INSERT ON unannounced_audit_documents
WHEN (SELECT state FROM unannounced_audits WHERE id = NEW.audit_id) = 'reviewed'
BEGIN
    SELECT RAISE(ABORT, 'audit record is read-only after the director''s review');
END;

CREATE TRIGGER unannounced_audits_no_delete BEFORE DELETE ON unannounced_audits
BEGIN
    SELECT RAISE(ABORT, 'audit records are kept');
END;
