-- The optional e-mail digest (待辦事項通知信): each person's address and choice, and one row per
-- person and Asia/Taipei day a digest was claimed. The primary key is the claim, so a day's
-- digest goes out once across restarts and instances; a failed one (or one whose sender
-- stopped mid-way) is claimed again on the next run.

CREATE TABLE mail_preferences (
    person_id   BIGINT PRIMARY KEY REFERENCES persons(id),
    address     TEXT NOT NULL,                 -- the person's own work address
    digest      TEXT NOT NULL,                 -- 'none' | 'daily'
    updated_at  TEXT NOT NULL                  -- RFC 3339 timestamp
);

CREATE TABLE mail_digests (
    person_id   BIGINT NOT NULL REFERENCES persons(id),
    day         TEXT NOT NULL,                 -- the Asia/Taipei civil date, YYYY-MM-DD
    state       TEXT NOT NULL,                 -- 'sending' | 'sent' | 'failed'
    items       BIGINT NOT NULL,              -- how many things waited
    attempts    BIGINT NOT NULL,
    claimed_at  TEXT NOT NULL,                 -- RFC 3339 timestamp of the last claim
    PRIMARY KEY (person_id, day)
);
