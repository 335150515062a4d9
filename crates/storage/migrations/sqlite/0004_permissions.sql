-- §2, Form 1: permission applications, their sign-offs, grants; personnel changes;
-- quarterly recertification; disabled accounts.
--
-- The applicant's national ID is NOT stored in clear: only its keyed HMAC (national_id_hmac,
-- under hmac_key_id, for matching) and its masked form (for display and the printed form).
-- When an encryption facility exists, an encrypted copy can be added as a new column.

-- 表單編號: one counter per ROC year.
CREATE TABLE form_number_counters (
    roc_year    INTEGER PRIMARY KEY,
    last_seq    INTEGER NOT NULL CHECK (last_seq >= 0)
) STRICT;

CREATE TABLE permission_applications (
    id                  INTEGER PRIMARY KEY,
    roc_year            INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    application_date    TEXT NOT NULL,          -- ISO civil date
    applicant_id        INTEGER NOT NULL REFERENCES persons(id),
    kind                TEXT NOT NULL CHECK (kind IN ('new', 'revoke', 'change_items', 'job_change')),
    unit_id             TEXT NOT NULL REFERENCES units(id),
    title               TEXT NOT NULL,
    name                TEXT NOT NULL,
    reason              TEXT NOT NULL,
    national_id_hmac    TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    national_id_masked  TEXT NOT NULL,
    phone               TEXT NOT NULL,
    email               TEXT NOT NULL,
    egov_account        TEXT NOT NULL,
    read_pdpa_and_rules INTEGER NOT NULL CHECK (read_pdpa_and_rules IN (0, 1)),
    has_certificate_and_reader INTEGER NOT NULL CHECK (has_certificate_and_reader IN (0, 1)),
    state               TEXT NOT NULL CHECK (state IN ('draft', 'pending', 'returned', 'approved', 'refused', 'withdrawn')),
    state_step          TEXT,                   -- pending: the waiting step; refused: the step
    state_text          TEXT,                   -- refused: reason; returned: note
    effective_from      TEXT,                   -- approved: the grants' effective date
    round               INTEGER NOT NULL DEFAULT 0,
    step_since          TEXT,                   -- when the current step started waiting
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (roc_year, seq)
) STRICT;

CREATE INDEX permission_applications_applicant ON permission_applications (applicant_id, id);
CREATE INDEX permission_applications_pending ON permission_applications (state) WHERE state = 'pending';

CREATE TABLE permission_application_items (
    application_id  INTEGER NOT NULL REFERENCES permission_applications(id),
    item            TEXT NOT NULL REFERENCES service_items(code),
    PRIMARY KEY (application_id, item)
) STRICT;

-- Every sign-off of every round (who, when, decision, comment). Append-only.
CREATE TABLE permission_application_steps (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES permission_applications(id),
    round           INTEGER NOT NULL,
    step            TEXT NOT NULL CHECK (step IN ('unit_supervisor', 'permission_admin', 'countersign')),
    decided_by      INTEGER NOT NULL REFERENCES persons(id),
    decided_at      TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('approved', 'refused', 'other')),
    effective_from  TEXT,
    comment         TEXT NOT NULL,
    UNIQUE (application_id, round, step)
) STRICT;

CREATE TRIGGER permission_application_steps_no_update BEFORE UPDATE ON permission_application_steps
BEGIN SELECT RAISE(ABORT, 'sign-offs are append-only'); END;
CREATE TRIGGER permission_application_steps_no_delete BEFORE DELETE ON permission_application_steps
BEGIN SELECT RAISE(ABORT, 'sign-offs are append-only'); END;

-- 授權: one per person and item and period. Never deleted: ended grants stay as history.
CREATE TABLE permission_grants (
    id                  INTEGER PRIMARY KEY,
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    item                TEXT NOT NULL REFERENCES service_items(code),
    effective_from      TEXT NOT NULL,
    effective_to        TEXT,                   -- exclusive
    application_id      INTEGER NOT NULL REFERENCES permission_applications(id),
    status              TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'ended')),
    suspended_from      TEXT,
    suspension_cause    TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (status <> 'ended' OR effective_to IS NOT NULL),
    CHECK (status <> 'suspended' OR suspended_from IS NOT NULL)
) STRICT;

CREATE INDEX permission_grants_person ON permission_grants (person_id, item);
CREATE INDEX permission_grants_item ON permission_grants (item, status);

CREATE TRIGGER permission_grants_no_delete BEFORE DELETE ON permission_grants
BEGIN SELECT RAISE(ABORT, 'grants are never deleted'); END;

-- 人事異動 as received from HR (CSV or SCIM), with the effective date. applied_at is set when
-- the staff record took the new status (on or after the effective date).
CREATE TABLE staff_status_changes (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    from_unit       TEXT NOT NULL REFERENCES units(id),
    to_unit         TEXT NOT NULL REFERENCES units(id),
    to_title        TEXT NOT NULL,
    effective_date  TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('csv', 'scim')),
    recorded_at     TEXT NOT NULL,
    recorded_by     INTEGER REFERENCES persons(id),
    applied_at      TEXT
) STRICT;

CREATE INDEX staff_status_changes_person ON staff_status_changes (person_id, effective_date);
CREATE INDEX staff_status_changes_due ON staff_status_changes (effective_date) WHERE applied_at IS NULL;

CREATE TABLE recertification_rounds (
    id              INTEGER PRIMARY KEY,
    supervisor_id   INTEGER NOT NULL REFERENCES persons(id),
    quarter         TEXT NOT NULL,              -- 2026-Q1
    opened_on       TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    closed_on       TEXT,
    UNIQUE (supervisor_id, quarter)
) STRICT;

CREATE TABLE recertification_items (
    round_id            INTEGER NOT NULL REFERENCES recertification_rounds(id),
    grant_id            INTEGER NOT NULL REFERENCES permission_grants(id),
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    item                TEXT NOT NULL,
    uses_last_quarter   INTEGER NOT NULL,
    last_used           TEXT,
    propose_removal     INTEGER NOT NULL CHECK (propose_removal IN (0, 1)),
    decision            TEXT CHECK (decision IN ('confirmed', 'not_needed')),
    decided_at          TEXT,
    PRIMARY KEY (round_id, grant_id)
) STRICT;

-- Accounts disabled for being idle (資通系統防護基準 1-1-3) or on leaving; the row goes when
-- the administrator re-enables the account. Sign-in must refuse a disabled account.
CREATE TABLE account_disablements (
    person_id       INTEGER PRIMARY KEY REFERENCES persons(id),
    reason          TEXT NOT NULL CHECK (reason IN ('idle', 'left')),
    disabled_at     TEXT NOT NULL,
    disabled_by     INTEGER REFERENCES persons(id)
) STRICT;
