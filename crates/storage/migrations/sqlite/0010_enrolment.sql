-- §3 go-live: enrolment with one's own card, resets, the first administrator's identity,
-- unit deputies, and certificate revocation lists kept in the database.

-- One-time enrolment (and reset) codes. The code itself is never stored: only SHA-256 of its
-- normalised form. A code is used once, expires, and a newer code for the same person
-- supersedes an older unused one.
CREATE TABLE enrolment_codes (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    code_hash       TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('enrol', 'reset')),
    reason          TEXT NOT NULL,
    issued_by       INTEGER REFERENCES persons(id),   -- NULL: `querywarden init`
    issued_at       TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    superseded_at   TEXT
) STRICT;

CREATE INDEX enrolment_codes_person ON enrolment_codes (person_id);

-- Every enrolment attempt that failed, by client address: the rate limit counts these.
CREATE TABLE enrolment_failures (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    client_addr     TEXT NOT NULL
) STRICT;

CREATE INDEX enrolment_failures_addr ON enrolment_failures (client_addr, at);

-- The national ID of a person recorded by `init` (Form 1 fields of the first administrator
-- and deputy): only the keyed digest and the masked form, never the number in clear.
CREATE TABLE person_identities (
    person_id           INTEGER PRIMARY KEY REFERENCES persons(id),
    national_id_hmac    TEXT NOT NULL,
    hmac_key_id         TEXT NOT NULL,
    national_id_masked  TEXT NOT NULL,
    egov_account        TEXT NOT NULL
) STRICT;

-- 代理人 of a unit's supervisor (from the units CSV).
CREATE TABLE unit_deputies (
    unit_id     TEXT PRIMARY KEY REFERENCES units(id),
    person_id   INTEGER NOT NULL REFERENCES persons(id)
) STRICT;

-- The newest CRL of each issuer (DN and key id), as fetched or imported; the server loads
-- them at start and after every refresh.
CREATE TABLE revocation_lists (
    issuer_dn       TEXT NOT NULL,
    issuer_key_id   TEXT NOT NULL,
    source          TEXT NOT NULL,      -- the URL it came from, or 'file'
    this_update     TEXT NOT NULL,
    next_update     TEXT,
    revoked_count   INTEGER NOT NULL,
    der             BLOB NOT NULL,
    loaded_at       TEXT NOT NULL,
    PRIMARY KEY (issuer_dn, issuer_key_id)
) STRICT;

-- The last fetch of each configured CRL address, for the administrator's page.
CREATE TABLE crl_fetches (
    url             TEXT PRIMARY KEY,
    attempted_at    TEXT NOT NULL,
    succeeded_at    TEXT,
    error           TEXT
) STRICT;
