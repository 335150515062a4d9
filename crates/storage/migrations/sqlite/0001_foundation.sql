-- Foundation schema: organisation, catalogues, audit trail.
-- Timestamps are UTC RFC 3339 strings; civil dates are ISO `YYYY-MM-DD`.

CREATE TABLE units (
    id          TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   TEXT REFERENCES units(id)
) STRICT;

CREATE TABLE persons (
    id            INTEGER PRIMARY KEY,
    account       TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units(id),
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE person_roles (
    person_id   INTEGER NOT NULL REFERENCES persons(id),
    role        TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
) STRICT;

-- 單位主管: one supervisor per unit.
CREATE TABLE unit_supervisors (
    unit_id     TEXT PRIMARY KEY REFERENCES units(id),
    person_id   INTEGER NOT NULL REFERENCES persons(id)
) STRICT;

CREATE TABLE service_items (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE legal_bases (
    id              TEXT PRIMARY KEY,
    law             TEXT NOT NULL,
    article         TEXT NOT NULL,
    article_short   TEXT NOT NULL,
    summary_zh      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    programmes      TEXT NOT NULL, -- JSON array of strings
    active          INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

-- §7, §8: the tamper-evident audit trail. Append-only: every row's chain_hash covers its
-- canonical entry and the previous row's chain_hash; checkpoints sign Merkle roots over entries.
CREATE TABLE audit_records (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_person_id INTEGER,
    actor_role      TEXT,
    action          TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    client_addr     TEXT,
    subject_hmac    TEXT,
    hmac_key_id     TEXT,
    entry           BLOB NOT NULL,
    chain_hash      BLOB NOT NULL
) STRICT;

CREATE INDEX audit_records_actor ON audit_records (actor_person_id, seq);
CREATE INDEX audit_records_action ON audit_records (action, seq);
CREATE INDEX audit_records_subject ON audit_records (subject_hmac, seq) WHERE subject_hmac IS NOT NULL;
CREATE INDEX audit_records_object ON audit_records (object_type, object_id, seq);
CREATE INDEX audit_records_at ON audit_records (at);

CREATE TABLE audit_checkpoints (
    size        INTEGER PRIMARY KEY,
    root        BLOB NOT NULL,
    number      INTEGER NOT NULL UNIQUE, -- 1, 2, 3… so a deleted or reordered checkpoint shows as a gap
    peaks       BLOB NOT NULL, -- concatenated 32-byte compact-range peaks, to resume appends
    note        TEXT NOT NULL, -- C2SP signed note
    key_name    TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- Refuse edits and deletes of the trail from inside the application's own connection; the
-- chain and checkpoints catch anything done outside it.
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

CREATE TABLE settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
) STRICT;
