-- §6: custody limits.
--
-- ¶2 view only: a result is printed once for the case file by default; a further print
-- records why (`reason`).
ALTER TABLE result_prints ADD COLUMN reason TEXT;

-- The sealed subject (name and national ID) kept for Forms 2 and 3 is destroyed when the
-- record's own keeping period ends (records are kept at least five years): the ciphertext and
-- its wrapped data key are emptied, the keyed digest stays (searches and the audit trail
-- still find the row) and the masked forms are kept for display.
ALTER TABLE registrations ADD COLUMN subject_destroyed_at TEXT;
ALTER TABLE registrations ADD COLUMN subject_name_masked TEXT;
ALTER TABLE registrations ADD COLUMN subject_id_masked TEXT;
ALTER TABLE registrations ADD COLUMN linked_id_masked TEXT;
ALTER TABLE query_request_subjects ADD COLUMN destroyed_at TEXT;
ALTER TABLE query_request_subjects ADD COLUMN name_masked TEXT;
ALTER TABLE query_request_subjects ADD COLUMN id_masked TEXT;

-- §7: the IT group has one permission administrator (權限管理者) — exactly one person holds
-- the role at a time, wherever it is designated (init, the organisation file, staff import);
-- the deputy is named in the configuration (`permission.deputy_administrator`).
CREATE UNIQUE INDEX person_roles_one_permission_admin ON person_roles (role)
    WHERE role = 'permission_admin';
