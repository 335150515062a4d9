# quarterly review, findings, violations, dashboard
