-- §5, §9: Form 1 carries the applicant's national ID as its keyed HMAC (never in clear). Every
-- registration looks the subject up by that HMAC, so that a self-lookup is refused without a
-- separate staff-ID file: index it.
CREATE INDEX permission_applications_national_id
    ON permission_applications (national_id_hmac, hmac_key_id);
