-- Indexes for the hot reads, so that none of them scans a big table (checked by the plan
-- tests in `storage/tests/plans.rs`).

-- §7 reconciliation: executions in the order of the instant each ran (portal mode: the time
-- the querier reported; otherwise when it was sent), read as a range in that order.
CREATE INDEX executions_ran_at ON executions (coalesce(portal_queried_at, sent_at));

-- §7 usage by operator: a grant's last use and its count in a window, per operator account
-- and item (recertification, the "grants unused for six months" rule).
CREATE INDEX platform_usage_records_operator ON platform_usage_records (operator_account, item, at);

-- The registration inbox: those waiting for a decision, and a person's own (as applicant,
-- colleague who needs the data, or querier; the querier's index exists).
CREATE INDEX registrations_state ON registrations (state, id);
CREATE INDEX registrations_applicant ON registrations (applicant_id, id);
CREATE INDEX registrations_needer ON registrations (needer_id, id);

-- Form 1: an application's sign-offs, folded into the application's own read.
CREATE INDEX permission_application_steps_application ON permission_application_steps (application_id, id);
