-- §7, §8 ¶2: the quarterly usage review with its findings, and violation cases with their
-- ten-day corrective report (檢討報告). Findings name people by id and subjects only by their
-- keyed HMAC; nothing here holds a national ID or a name in clear.

CREATE TABLE violations (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    rule            TEXT NOT NULL,                   -- the rule broken, in words
    evidence        TEXT NOT NULL,                   -- no personal data
    source          TEXT NOT NULL CHECK (source IN ('review', 'audit', 'administrator')),
    source_ref      INTEGER,                         -- finding id or audit id
    opened_by       INTEGER NOT NULL REFERENCES persons(id),
    opened_at       TEXT NOT NULL,
    due_on          TEXT NOT NULL,                   -- ISO date, 行政程序法 §48
    suspend_grants  INTEGER NOT NULL CHECK (suspend_grants IN (0, 1)),
    state           TEXT NOT NULL CHECK (state IN ('awaiting_report', 'report_submitted', 'accepted')),
    report          TEXT,
    report_at       TEXT,
    decided_by      INTEGER REFERENCES persons(id),
    decided_at      TEXT,
    return_note     TEXT,
    reminded_on     TEXT,
    escalated_on    TEXT
) STRICT;

CREATE INDEX violations_person ON violations (person_id, state);

-- One review per quarter: the UNIQUE quarter is what keeps the scheduler from opening a
-- second one after a restart.
CREATE TABLE oversight_reviews (
    id              INTEGER PRIMARY KEY,
    quarter         TEXT NOT NULL UNIQUE,            -- e.g. '2026-Q1'
    period_from     TEXT NOT NULL,                   -- first day (ISO date)
    period_to       TEXT NOT NULL,                   -- first day after (ISO date)
    opened_at       TEXT NOT NULL,
    due_on          TEXT NOT NULL,                   -- ISO date
    state           TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    closed_at       TEXT,
    closed_by       INTEGER REFERENCES persons(id),
    report          TEXT                             -- JSON: the report to 勞工局, set on closing
) STRICT;

CREATE TABLE oversight_findings (
    id              INTEGER PRIMARY KEY,
    review_id       INTEGER NOT NULL REFERENCES oversight_reviews(id),
    rule            TEXT NOT NULL,                   -- FindingRule code
    person_id       INTEGER REFERENCES persons(id),
    at              TEXT,
    object          TEXT NOT NULL,                   -- 'usage:<platform id>', 'execution:<id>', …
    subject_hmac    TEXT,
    hmac_key_id     TEXT,
    detail          TEXT NOT NULL,
    conclusion      TEXT CHECK (conclusion IN ('explained', 'violation')),
    note            TEXT,
    violation_id    INTEGER REFERENCES violations(id),
    concluded_by    INTEGER REFERENCES persons(id),
    concluded_at    TEXT
) STRICT;

CREATE UNIQUE INDEX oversight_findings_once
    ON oversight_findings (review_id, rule, object, coalesce(person_id, 0));

CREATE INDEX executions_sent_at ON executions (sent_at);
