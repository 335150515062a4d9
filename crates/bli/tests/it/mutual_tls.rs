//! The connector's mutual TLS ("agency client certificate (mTLS) and CA bundle")
//! through a real handshake: a small tokio-rustls front that requires a client certificate
//! from a test CA and passes the decrypted bytes to the real simulator.
//!
//! Certificates are made per run with the `openssl` command (nothing secret is committed):
//! CA "A" issues the front's certificate for 127.0.0.1 and the agency's client certificate;
//! CA "B" issues a look-alike client certificate the front must refuse.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use querywarden_bli::simulator::{SimulatorConfig, SimulatorHandle, expected_records};
use querywarden_bli::{
    BliItem, Connector, ConnectorError, HttpConnector, HttpConnectorConfig, UnavailableCause,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{as_of, config, ids, request, simulator};

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the `openssl` command makes the test certificates");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

fn make_ca(dir: &Path, name: &str) {
    let mut args = vec!["req", "-x509"];
    args.extend(EC);
    let (key, pem, subj) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("/CN=querywarden test {name}"),
    );
    args.extend([
        "-keyout",
        &key,
        "-out",
        &pem,
        "-days",
        "2",
        "-subj",
        &subj,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &args);
}

/// `name.pem` + `name.key`, issued by `ca` with the extensions in `ext`.
fn issue(dir: &Path, ca: &str, name: &str, ext: &str) {
    let (key, csr, pem, extfile) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let subj = format!("/CN={name}");
    let mut args = vec!["req"];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
    openssl(dir, &args);
    std::fs::write(dir.join(&extfile), ext).unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &extfile,
        ],
    );
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        make_ca(d, "ca-a");
        make_ca(d, "ca-b");
        issue(
            d,
            "ca-a",
            "front",
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        );
        let client_ext = "basicConstraints=critical,CA:FALSE\n\
                          keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
        issue(d, "ca-a", "agency", client_ext);
        issue(d, "ca-b", "impostor", client_ext);
        Self { dir }
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(file)).unwrap()
    }

    /// (certificate PEM, key PEM) of `name`, as `HttpConnectorConfig::client_cert_pem`.
    fn identity(&self, name: &str) -> (Vec<u8>, Vec<u8>) {
        (
            self.read(&format!("{name}.pem")),
            self.read(&format!("{name}.key")),
        )
    }
}

/// A TLS front for the simulator that requires a client certificate issued by `ca-a`.
struct Front {
    base_url: String,
    handshakes_refused: Arc<AtomicUsize>,
    _sim: SimulatorHandle,
}

async fn front(pki: &Pki) -> Front {
    let sim = simulator(SimulatorConfig::default()).await;
    let upstream = sim.addr();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(&pki.read("ca-a.pem")).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let chain = CertificateDer::pem_slice_iter(&pki.read("front.pem"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&pki.read("front.key")).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("https://{}", listener.local_addr().unwrap());
    let refused = Arc::new(AtomicUsize::new(0));
    let counter = refused.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    counter.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Front {
        base_url,
        handshakes_refused: refused,
        _sim: sim,
    }
}

impl Front {
    /// The front's task counts a refusal just after sending its alert, so the client may
    /// see the error first: wait briefly for the count.
    async fn saw_refused_handshakes(&self, n: usize) {
        for _ in 0..200 {
            if self.handshakes_refused.load(Ordering::SeqCst) >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(self.handshakes_refused.load(Ordering::SeqCst), n);
    }
}

fn connector(
    front: &Front,
    client: Option<(Vec<u8>, Vec<u8>)>,
    ca_bundle: Vec<u8>,
) -> HttpConnector {
    let mut c: HttpConnectorConfig = config(&front.base_url);
    c.client_cert_pem = client;
    c.ca_bundle_pem = Some(ca_bundle);
    HttpConnector::new(c).unwrap()
}

/// The person with enrolment records, so a completed query carries real rows.
fn insured() -> querywarden_domain::NationalId {
    ids(200)
        .into_iter()
        .find(|id| expected_records(id, BliItem::C0101, as_of()).is_ok_and(|r| !r.is_empty()))
        .expect("someone with enrolment records")
}

#[tokio::test]
async fn the_agency_certificate_completes_a_query_over_mutual_tls() {
    let pki = Pki::new();
    let front = front(&pki).await;
    let bli = connector(&front, Some(pki.identity("agency")), pki.read("ca-a.pem"));
    let id = insured();
    for item in [BliItem::C0101, BliItem::P0301] {
        assert_eq!(
            bli.query(&request(item, &id)).await,
            expected_records(&id, item, as_of()),
            "{item}"
        );
    }
    assert_eq!(front.handshakes_refused.load(Ordering::SeqCst), 0);
}

/// What a front that refuses our certificate looks like to the connector: with TLS 1.3 the
/// client's side of the handshake completes before the server has judged its certificate,
/// so the refusal (a `certificate_required` / `unknown_ca` alert) arrives while the request
/// is in flight — a broken exchange, not a connect failure, and never retried.
fn assert_refused_by_the_front(result: Result<querywarden_bli::BliRecords, ConnectorError>) {
    assert_eq!(
        result,
        Err(ConnectorError::Unavailable(UnavailableCause::Transport))
    );
}

#[tokio::test]
async fn without_a_client_certificate_the_front_refuses_the_handshake() {
    let pki = Pki::new();
    let front = front(&pki).await;
    let bli = connector(&front, None, pki.read("ca-a.pem"));
    assert_refused_by_the_front(bli.query(&request(BliItem::C0101, &insured())).await);
    front.saw_refused_handshakes(1).await;
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let front = front(&pki).await;
    let bli = connector(&front, Some(pki.identity("impostor")), pki.read("ca-a.pem"));
    assert_refused_by_the_front(bli.query(&request(BliItem::C0101, &insured())).await);
    front.saw_refused_handshakes(1).await;
}

#[tokio::test]
async fn a_server_outside_the_ca_bundle_is_never_sent_the_query() {
    let pki = Pki::new();
    let front = front(&pki).await;
    // The bundle trusts only CA B: the front's certificate (CA A) must fail the handshake on
    // our side, before any byte of the request (and its national ID) is written.
    let bli = connector(&front, Some(pki.identity("agency")), pki.read("ca-b.pem"));
    assert_eq!(
        bli.query(&request(BliItem::C0101, &insured())).await,
        Err(ConnectorError::Unavailable(UnavailableCause::Connect))
    );
}
