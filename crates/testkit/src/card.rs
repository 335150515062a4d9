//! The demo citizen-certificate world for sign-in tests (§3): the fixed demo CA from the pki
//! crate's fixture keys, and the authentication context that trusts it.

use jiff::Timestamp;
use querywarden_app::auth::AuthContext;
use querywarden_app::config::{Config, RawConfig};
use querywarden_pki::demo_ca::{DemoCa, DemoCard, DemoKey};
use querywarden_pki::{RevocationList, TrustAnchors};

/// A fixed key from the pki crate's test data (`root-key`, `g3-key`, `card-a-key`, …): RSA
/// key generation takes seconds in debug builds.
pub fn fixture_key(name: &str) -> DemoKey {
    let path = format!(
        "{}/../pki/tests/data/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    DemoKey::from_pkcs8_pem(&std::fs::read_to_string(path).expect("the fixture key"))
        .expect("a PKCS#8 key")
}

/// The demo CA made of the fixture root and G3 keys, valid from `at`.
pub fn fixture_ca(at: Timestamp) -> DemoCa {
    DemoCa::from_keys(fixture_key("root-key"), fixture_key("g3-key"), at).expect("the demo CA")
}

/// The citizen card of `name` (ID ending `last4`) that `ca` issues at `at` on the fixture key
/// `key`, with the default profile.
pub fn fixture_card(ca: &DemoCa, key: &str, name: &str, last4: &str, at: Timestamp) -> DemoCard {
    ca.issue_citizen_with(fixture_key(key), name, last4, at, Default::default())
        .expect("the demo CA issues the card")
}

/// The default configuration with `server.demo` on (the DEMO signer allowed).
pub fn demo_config() -> Config {
    let mut raw = RawConfig::default();
    raw.server.demo = true;
    raw.validate().expect("the demo configuration")
}

/// An authentication context under `config` that trusts `ca`, with `ca`'s revocation list at
/// `at` naming the serials `revoked`.
pub fn auth_context(config: &Config, ca: &DemoCa, revoked: &[&str], at: Timestamp) -> AuthContext {
    let anchors = TrustAnchors::from_pem_bundle(ca.anchors_pem().as_bytes()).expect("the anchors");
    let crl = RevocationList::from_der_or_pem(&ca.crl(revoked, at).expect("a CRL")).expect("a CRL");
    AuthContext::new(config, anchors, vec![crl]).expect("an authentication context")
}
