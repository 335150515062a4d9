# installation, enrolment with one's own card, resets
