-- §5 with an unreliable upstream: an item's approval is used up by a query that ran, not by
-- one that never reached BLI. `executions` loses UNIQUE (registration_id, item) so an item
-- may have several attempts: `failed` (definitely not processed: connection refused, TLS
-- failure, an error answer) leaves the item open; `unknown` (timed out after sending) blocks
-- it until resolved (`resolved_at`), by the platform's usage log or the querier's statement.
-- "Exactly one successful execution per approved item" stays a database guarantee: the
-- partial unique index below admits one live row (sent, received, recorded, unresolved
-- unknown) per item, whatever the concurrency.
--
-- SQLite cannot drop a table constraint, so the table is rebuilt keeping ids and data.
-- sqlx runs this file in one transaction, where foreign keys cannot be switched off; they are
-- deferred to the commit instead, and the rows of `results` (which point at executions) are
-- set aside while the parent table is swapped and put back with the same ids, so every key
-- holds again when the transaction commits (SQLite checks deferred keys then).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE executions_rebuilt (
    id                  INTEGER PRIMARY KEY,
    registration_id     INTEGER NOT NULL REFERENCES registrations(id),
    item                TEXT NOT NULL,
    querier_id          INTEGER NOT NULL REFERENCES persons(id),
    mode                TEXT NOT NULL CHECK (mode IN ('connected', 'portal')),
    request_id          TEXT NOT NULL,
    sent_at             TEXT NOT NULL,
    result_at           TEXT,
    outcome             TEXT NOT NULL
                        CHECK (outcome IN ('sent', 'received', 'failed', 'recorded', 'unknown')),
    failure_code        TEXT,
    portal_queried_at   TEXT,
    portal_note         TEXT,
    paper_case_no       TEXT,
    -- An `unknown` attempt resolved: when, by whom (NULL: the reconciliation job), how
    -- (`usage_log:<platform outcome>` or `querier_statement`) and the querier's statement.
    resolved_at         TEXT,
    resolved_by         INTEGER REFERENCES persons(id),
    resolution          TEXT,
    resolution_note     TEXT,
    CHECK (resolved_at IS NULL OR outcome IN ('unknown', 'sent')),
    CHECK ((resolved_at IS NULL) = (resolution IS NULL))
) STRICT;

INSERT INTO executions_rebuilt (id, registration_id, item, querier_id, mode, request_id,
    sent_at, result_at, outcome, failure_code, portal_queried_at, portal_note, paper_case_no)
SELECT id, registration_id, item, querier_id, mode, request_id, sent_at, result_at, outcome,
    failure_code, portal_queried_at, portal_note, paper_case_no
FROM executions;

CREATE TEMP TABLE results_set_aside AS SELECT * FROM results;
DELETE FROM results;
DROP TABLE executions;
ALTER TABLE executions_rebuilt RENAME TO executions;
INSERT INTO results SELECT * FROM results_set_aside;
DROP TABLE results_set_aside;

CREATE INDEX executions_sent_at ON executions (sent_at);
CREATE INDEX executions_registration ON executions (registration_id, item);
CREATE INDEX executions_request_id ON executions (request_id);
CREATE UNIQUE INDEX executions_one_live_per_item ON executions (registration_id, item)
    WHERE resolved_at IS NULL AND outcome IN ('sent', 'received', 'recorded', 'unknown');
