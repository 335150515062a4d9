-- §4 ¶1: a general-privacy legal basis is cited beside a social-welfare law (the companion),
-- and a registration without a case number records why it has none.
ALTER TABLE registrations ADD COLUMN companion_legal_basis_id TEXT;
ALTER TABLE registrations ADD COLUMN no_case_reason TEXT;
