-- 個人資料保護法 §13: the deadline reminder and escalation of a citizen's request, each sent
-- once (the scheduler is idempotent on these columns), and, for a request signed with the
-- citizen's own MOICA card (§10 identity), the SHA-256 fingerprint of the signing certificate.
-- An extension clears `reminded_on`, so the new deadline is reminded too.

ALTER TABLE citizen_requests ADD COLUMN reminded_on TEXT;
ALTER TABLE citizen_requests ADD COLUMN escalated_on TEXT;
ALTER TABLE citizen_requests ADD COLUMN signer_sha256 TEXT;
