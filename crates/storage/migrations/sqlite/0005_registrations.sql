-- §4–§6, Forms 2 and 3: query registrations, approvals, executions, result custody, prints,
-- views, destruction, and requests from other agencies.
--
-- Personal data is never stored in clear: a subject's name and national ID are sealed
-- (AES-256-GCM) with a data key that is itself wrapped by a master key held outside the
-- database (`custody-<id>.key`); searches use the keyed HMAC. Results are sealed the same
-- way, each with its own data key, so destroying one (crypto-shredding: key and ciphertext
-- set to NULL) leaves everything else readable.

-- Numbers restart each ROC year, per kind ('registration', 'request').
CREATE TABLE number_counters (
    kind        TEXT NOT NULL,
    roc_year    INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    PRIMARY KEY (kind, roc_year)
) STRICT;

-- Form 3: a district office or subordinate agency asks the responsible unit to query.
CREATE TABLE query_requests (
    id                  INTEGER PRIMARY KEY,
    request_no          TEXT NOT NULL UNIQUE,
    created_at          TEXT NOT NULL,
    request_date        TEXT NOT NULL,
    requesting_unit     TEXT NOT NULL REFERENCES units(id),
    applicant_id        INTEGER NOT NULL REFERENCES persons(id),
    applicant_title     TEXT NOT NULL,
    phone               TEXT NOT NULL,
    fax                 TEXT,
    responsible_unit    TEXT NOT NULL REFERENCES units(id),
    legal_basis_id      TEXT NOT NULL REFERENCES legal_bases(id),
    relevance           TEXT NOT NULL,
    items               TEXT NOT NULL,           -- JSON array of item codes
    subject_count       INTEGER NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('submitted', 'accepted', 'rejected')),
    reviewed_by         INTEGER REFERENCES persons(id),
    reviewed_at         TEXT,
    opinion             TEXT,
    assigned_querier    INTEGER REFERENCES persons(id),
    delivery            TEXT CHECK (delivery IN ('in_system', 'official_document')),
    document_no         TEXT,
    delivered_at        TEXT
) STRICT;

CREATE INDEX query_requests_unit ON query_requests (responsible_unit, state);

CREATE TABLE query_request_subjects (
    id                  INTEGER PRIMARY KEY,
    request_id          INTEGER NOT NULL REFERENCES query_requests(id),
    position            INTEGER NOT NULL,
    subject_hmac        TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    sealed              BLOB NOT NULL,
    nonce               BLOB NOT NULL,
    wrapped_key         BLOB NOT NULL,
    wrap_nonce          BLOB NOT NULL,
    master_key_id       TEXT NOT NULL,
    registration_id     INTEGER REFERENCES registrations(id),
    UNIQUE (request_id, position)
) STRICT;

-- Form 2 rows.
CREATE TABLE registrations (
    id                  INTEGER PRIMARY KEY,
    reg_no              TEXT NOT NULL UNIQUE,
    reg_date            TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    subject_hmac        TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    linked_subject_hmac TEXT,
    -- name + national ID (+ linked ID), sealed with this registration's data key
    subject_sealed      BLOB NOT NULL,
    subject_nonce       BLOB NOT NULL,
    wrapped_key         BLOB NOT NULL,
    wrap_nonce          BLOB NOT NULL,
    master_key_id       TEXT NOT NULL,
    items               TEXT NOT NULL,           -- JSON array of item codes
    legal_basis_id      TEXT NOT NULL REFERENCES legal_bases(id),
    relevance           TEXT NOT NULL,
    case_no             TEXT,
    applicant_id        INTEGER NOT NULL REFERENCES persons(id),
    needer_id           INTEGER NOT NULL REFERENCES persons(id),
    querier_id          INTEGER NOT NULL REFERENCES persons(id),
    approving_unit      TEXT NOT NULL REFERENCES units(id),
    request_id          INTEGER REFERENCES query_requests(id),
    batch_id            TEXT,
    state               TEXT NOT NULL CHECK (state IN ('registered', 'approved', 'rejected', 'cancelled')),
    second_approval_required INTEGER NOT NULL CHECK (second_approval_required IN (0, 1)),
    findings            TEXT NOT NULL            -- JSON array of snooping rule codes
) STRICT;

CREATE INDEX registrations_subject ON registrations (subject_hmac);
CREATE INDEX registrations_querier ON registrations (querier_id, id);
CREATE INDEX registrations_unit_state ON registrations (approving_unit, state);

-- Approvals, rejections and cancellations, in order. An approval records the subject digest
-- it approved: execution is refused if the stored subject no longer matches it.
CREATE TABLE registration_decisions (
    id                  INTEGER PRIMARY KEY,
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    at                  TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('approve_first', 'approve', 'reject', 'cancel')),
    comment             TEXT,
    valid_until         TEXT,
    subject_hmac        TEXT
) STRICT;

CREATE INDEX registration_decisions_reg ON registration_decisions (registration_id, id);

-- §5: one execution per item. `result_at` stays NULL after a crash between sending and
-- storing: such a row is an execution "sent, no result", visible to querier and auditors.
CREATE TABLE executions (
    id                  INTEGER PRIMARY KEY,
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    item                TEXT NOT NULL,
    querier_id          INTEGER NOT NULL REFERENCES persons(id),
    mode                TEXT NOT NULL CHECK (mode IN ('connected', 'portal')),
    request_id          TEXT NOT NULL,
    sent_at             TEXT NOT NULL,
    result_at           TEXT,
    outcome             TEXT NOT NULL CHECK (outcome IN ('sent', 'received', 'failed', 'recorded')),
    failure_code        TEXT,
    portal_queried_at   TEXT,
    portal_note         TEXT,
    paper_case_no       TEXT,
    UNIQUE (registration_id, item)
) STRICT;

-- §6: results in custody. After destruction the key and ciphertext columns are NULL.
CREATE TABLE results (
    id                  INTEGER PRIMARY KEY,
    execution_id        INTEGER NOT NULL UNIQUE REFERENCES executions(id),
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    item                TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    kind                TEXT NOT NULL,           -- records, not_found, not_insured, portal_document
    content_type        TEXT NOT NULL,
    sealed              BLOB,
    nonce               BLOB,
    wrapped_key         BLOB,
    wrap_nonce          BLOB,
    master_key_id       TEXT,
    retention_rule      TEXT NOT NULL,
    destroy_after       TEXT NOT NULL,
    destroyed_at        TEXT,
    CHECK ((destroyed_at IS NULL) = (sealed IS NOT NULL AND wrapped_key IS NOT NULL))
) STRICT;

CREATE INDEX results_due ON results (destroy_after) WHERE destroyed_at IS NULL;

CREATE TABLE result_views (
    id                  INTEGER PRIMARY KEY,
    result_id           INTEGER NOT NULL REFERENCES results(id),
    viewer_id           INTEGER NOT NULL REFERENCES persons(id),
    at                  TEXT NOT NULL
) STRICT;

-- Prints for the case file (隨文歸檔, §6), numbered per result: 1, 2, 3…
CREATE TABLE result_prints (
    id                  INTEGER PRIMARY KEY,
    result_id           INTEGER NOT NULL REFERENCES results(id),
    print_no            INTEGER NOT NULL,
    printed_by          INTEGER NOT NULL REFERENCES persons(id),
    printed_at          TEXT NOT NULL,
    copy_destroyed_at   TEXT,
    copy_destroyed_by   INTEGER REFERENCES persons(id),
    UNIQUE (result_id, print_no)
) STRICT;

CREATE TABLE result_destructions (
    id                  INTEGER PRIMARY KEY,
    result_id           INTEGER NOT NULL UNIQUE REFERENCES results(id),
    destroyed_at        TEXT NOT NULL,
    rule                TEXT NOT NULL,
    destroyed_by        INTEGER REFERENCES persons(id),
    prints_outstanding  INTEGER NOT NULL
) STRICT;
