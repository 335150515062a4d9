-- §5 ¶1: acting supervisors (代理). A unit's 代理人 may be registered for a period; an open
-- end (NULL) is a standing deputy, as the units CSV registers them.
ALTER TABLE unit_deputies ADD COLUMN valid_from TEXT;
ALTER TABLE unit_deputies ADD COLUMN valid_until TEXT;

-- An approval given in the supervisor's place is recorded as 代理, naming the supervisor
-- acted for (NULL when the unit had none).
ALTER TABLE registration_decisions ADD COLUMN acting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE registration_decisions ADD COLUMN acting_for INTEGER REFERENCES persons(id);
