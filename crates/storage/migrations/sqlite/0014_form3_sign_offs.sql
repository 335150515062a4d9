-- §5 ¶3, Form 3 sign-offs beside the applicant's: the requesting office's supervisor consents
-- before the request reaches the bureau (applicant_supervisor); the assigned querier and the
-- using unit's supervisor sign the request itself. One of each per request.
CREATE TABLE query_request_signoffs (
    request_id      INTEGER NOT NULL REFERENCES query_requests(id),
    role            TEXT NOT NULL CHECK (role IN ('applicant_supervisor', 'querier', 'using_unit_supervisor')),
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    at              TEXT NOT NULL,
    acting          INTEGER NOT NULL DEFAULT 0,
    acting_for      INTEGER REFERENCES persons(id),
    PRIMARY KEY (request_id, role)
) STRICT;

-- §5 ¶3: a subject closed without a query, by whom, when and why (delivery waits until every
-- subject has run or been closed).
ALTER TABLE query_request_subjects ADD COLUMN closed_at TEXT;
ALTER TABLE query_request_subjects ADD COLUMN closed_by INTEGER REFERENCES persons(id);
ALTER TABLE query_request_subjects ADD COLUMN closed_reason TEXT;
