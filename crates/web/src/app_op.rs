//! The app layer's operation context ([`Op`]) for one HTTP request: the clock reading, the
//! request's operation id (so the audit record matches the server log) and, where the handler
//! has it, the client's address. Shared by every area's handlers.

use std::net::SocketAddr;

use jiff::Timestamp;
use querywarden_app::permission::Op;

use crate::OperationId;

/// The app's operation context for a request whose client address is not at hand.
pub(crate) fn now_op(op: &OperationId) -> Op {
    Op::new(Timestamp::now(), op.0.clone())
}

/// The app's operation context for a request from `addr`.
pub(crate) fn op_of(op: &OperationId, addr: SocketAddr) -> Op {
    Op {
        now: Timestamp::now(),
        request_id: op.0.clone(),
        client_addr: Some(addr.ip().to_string()),
    }
}
