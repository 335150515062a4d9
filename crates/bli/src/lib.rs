//! querywarden-bli: the connector to the Bureau of Labor Insurance (勞保局) data intermediary
//! service, its typed records, the simulator, and the usage-log importer.
//!
//! Security-sensitive: this crate is where a national ID leaves querywarden (only in the JSON
//! body of a query, see [`wire`]) and where the platform's usage log, which holds whole IDs,
//! is read (see [`usage_log`]). Nothing here logs or formats a whole ID.

pub mod connector;
pub mod csv_reader;
pub mod error;
pub mod item;
pub mod records;
pub mod request;
pub mod simulator;
pub mod usage_log;
pub mod wire;

pub use connector::{
    CircuitState, Connector, ConnectorConfigError, HttpConnector, HttpConnectorConfig,
};
pub use error::{ConnectorError, UnavailableCause};
pub use item::{BliItem, UnknownItem};
pub use records::{
    Amount, BenefitDetail, BenefitSummary, BenefitType, BliRecords, ContributionChange,
    EnrolmentSpell, InsuranceType, Payment, PaymentKind, PaymentStatus, PensionContribution,
    RatePct, UnemploymentEligibility, YearMonth,
};
pub use request::{QueryRequest, QueryRequestError};
