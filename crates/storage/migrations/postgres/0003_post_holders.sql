-- §5 ¶1, §2 Form 1: the walk up the units reads only the people who hold a post on it (unit
-- supervisors, deputies, the director); the director is found by role, not by reading every
-- person's roles.
CREATE INDEX person_roles_by_role ON person_roles (role, person_id);
