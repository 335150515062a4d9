-- §5, §9: who a data subject is among staff, by keyed HMAC of the whole national ID (never in
-- clear), so that a self-lookup is refused without a separate staff-ID file.
--
-- persons.national_id_hmac: the staff member's national ID as HR sent it (staff import); one
-- national ID belongs to one staff record only.
ALTER TABLE persons ADD COLUMN national_id_hmac TEXT;
ALTER TABLE persons ADD COLUMN national_id_key_id TEXT;
CREATE UNIQUE INDEX persons_national_id ON persons (national_id_hmac)
    WHERE national_id_hmac IS NOT NULL;

-- Form 1 carries the applicant's national ID (as its HMAC): looked up at every registration.
CREATE INDEX permission_applications_national_id
    ON permission_applications (national_id_hmac, hmac_key_id);
