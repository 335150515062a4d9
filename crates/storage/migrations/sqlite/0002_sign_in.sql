-- §3 sign-in: passwords, certificate bindings, login nonces, sessions.

-- Last four digits of the staff member's national ID, as printed in their MOICA certificate;
-- checked at every sign-in. (The whole number is never needed for sign-in.)
ALTER TABLE persons ADD COLUMN id_last4 TEXT;

CREATE TABLE credentials (
    person_id       INTEGER PRIMARY KEY REFERENCES persons(id),
    password_hash   TEXT NOT NULL,          -- Argon2id PHC string
    must_change     INTEGER NOT NULL CHECK (must_change IN (0, 1)),
    failed_count    INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    updated_at      TEXT NOT NULL
) STRICT;

-- The last passwords, so that the last 3 cannot be reused.
CREATE TABLE password_history (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    password_hash   TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;

-- One card per account; the permission administrator binds it (Form 1) and re-binds on renewal.
CREATE TABLE certificate_bindings (
    person_id           INTEGER PRIMARY KEY REFERENCES persons(id),
    issuer_dn           TEXT NOT NULL,
    issuer_key_id       TEXT NOT NULL,       -- hex Authority Key Identifier ('' if absent)
    serial_hex          TEXT NOT NULL,
    subject_cn          TEXT NOT NULL,
    id_last4            TEXT,
    fingerprint_sha256  TEXT NOT NULL,
    not_after           TEXT NOT NULL,
    bound_at            TEXT NOT NULL,
    bound_by            INTEGER REFERENCES persons(id),
    UNIQUE (issuer_key_id, serial_hex)
) STRICT;

-- Single-use challenges for the card signature, tied to the browser that asked for them.
CREATE TABLE login_nonces (
    nonce_hash      TEXT PRIMARY KEY,        -- SHA-256 of the nonce
    flow_hash       TEXT NOT NULL,           -- SHA-256 of the login-flow cookie
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
) STRICT;

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,        -- SHA-256 of the cookie value; the value is never stored
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    csrf_token      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    locked          INTEGER NOT NULL CHECK (locked IN (0, 1)),
    ended_at        TEXT,
    end_reason      TEXT,
    client_addr     TEXT,
    cert_fingerprint TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_live ON sessions (person_id) WHERE ended_at IS NULL;
