//! The app layer's operation context ([`Op`]) for one HTTP request: the clock reading, the
//! request's operation id (so the audit record matches the server log) and, for the use cases
//! that record it, the client's address (which [`OperationId`] carries). Shared by every
//! area's handlers.

use jiff::Timestamp;
use querywarden_app::permission::Op;

use crate::OperationId;

/// The app's operation context for a request, without the client's address (the reads and
/// checks whose records never named it).
pub(crate) fn now_op(op: &OperationId) -> Op {
    Op::new(Timestamp::now(), op.0.clone())
}

/// The app's operation context for a request, from the client's address.
pub(crate) fn op_of(op: &OperationId) -> Op {
    Op {
        now: Timestamp::now(),
        request_id: op.0.clone(),
        client_addr: op.client_addr(),
    }
}
