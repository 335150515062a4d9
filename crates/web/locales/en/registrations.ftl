# registrations
