//! The JSON API every role shares, and the endpoints for machines: who is signed in
//! (`/api/v1/me`), health (`/healthz`, `/readyz`), the Prometheus metrics (`/metrics`), the catalogue and units, the national-ID
//! check, the latest audit checkpoint, and the OpenAPI document of the whole `/api/v1`.
//!
//! Nothing here changes data. The national-ID check answers with the masked form only and
//! logs nothing of the number.

mod catalogue;
mod health;
mod input;
mod me;
mod metrics;
mod national_id;
pub mod openapi;
mod routes;

pub(crate) use health::crl_json;
pub use routes::routes;
