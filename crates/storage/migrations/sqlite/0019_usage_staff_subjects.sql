-- §7 with §4: a platform usage record whose subject is a member of staff (the national ID they
-- gave on Form 1), recognised at import under every HMAC key the keyring holds, so that a
-- self-lookup is still seen after a key rotation (Form 1 keeps the ID only as a digest under
-- the key of its day; the usage record is digested under the key of the import's day).
CREATE TABLE usage_staff_subjects (
    platform_record_id  TEXT NOT NULL REFERENCES platform_usage_records(platform_record_id),
    person_id           INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY (platform_record_id, person_id)
) STRICT;
