-- §2: notices to the permission administrator and the old unit's supervisor when a person's
-- job changes (transfer, leave, departure, return), written in the transaction that records
-- the change. A notice names what it is about (kind, object), never personal data beyond the
-- person id in `object`; read_at is set once, when the recipient marks it read.

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),   -- the recipient
    kind        TEXT NOT NULL,                              -- e.g. 'staff_change.leave'
    object      TEXT NOT NULL,                              -- e.g. 'person:12'
    created_at  TEXT NOT NULL,                              -- RFC 3339 timestamp
    read_at     TEXT                                        -- NULL while unread
) STRICT;

CREATE INDEX notices_unread ON notices (person_id, read_at);
