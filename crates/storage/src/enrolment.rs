//! Storage of enrolment codes and the first installation (§3).
