//! TLS termination for the mutual-TLS sign-in mode (`auth.certificate_mode = "mutual_tls"`,
//! §3): the rustls server configuration, the accept loop that serves the
//! router over hyper, and the request extension that carries the client's certificate
//! chain to the login handler.
//!
//! Security-sensitive. The split of duties is deliberate:
//! * the handshake (rustls) **requires** a client certificate, checks that it is a
//!   well-formed X.509 certificate and that the client holds its private key (the
//!   CertificateVerify signature); it asks browsers for certificates under the configured
//!   trust anchors (their subjects are sent as the acceptable CA names);
//! * the **trust decision** — chain to the MOICA anchors picked by AKI, validity, key usage,
//!   CRL revocation — is made at sign-in by `querywarden_pki::verify_client_certificate`,
//!   the same verifier as the signed-challenge mode. So there is one implementation of
//!   "do we trust this card", and an expired, revoked or foreign certificate gets a page
//!   saying which and an audit record ("refused with a message saying which",
//!   "every one is refused, audited"), instead of an anonymous handshake alert. A connection
//!   whose certificate is not trusted can fetch public pages and the login form but can never
//!   get a session.
//!
//! Every response served here carries HSTS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Request;
use axum::http::header::{HeaderValue, STRICT_TRANSPORT_SECURITY};
use axum::http::request::Parts;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use querywarden_app::config::ServerTls;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::AppState;

/// `Strict-Transport-Security` on every response served over TLS.
pub const HSTS: &str = "max-age=31536000";

/// A handshake that takes longer than this is dropped, so idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate chain the client presented in the TLS handshake, leaf first, DER.
/// Present in the extensions of every request that came over [`serve`]; the handshake
/// proved possession of the leaf's key, nothing more.
#[derive(Debug, Clone, Default)]
pub struct PeerCertificates(pub Arc<Vec<Vec<u8>>>);

impl<S: Send + Sync> FromRequestParts<S> for PeerCertificates {
    type Rejection = Infallible;

    /// Empty when the request did not come over a mutual-TLS connection.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<PeerCertificates>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The TLS files cannot be used; names the configuration key, never the key material.
#[derive(Debug, thiserror::Error)]
#[error("設定值錯誤 `{key}`（{path}）：{reason}")]
pub struct TlsSetupError {
    pub key: &'static str,
    pub path: String,
    pub reason: String,
}

impl TlsSetupError {
    fn new(key: &'static str, path: &Path, reason: impl ToString) -> Self {
        Self {
            key,
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

fn read_pem_certs(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|e| TlsSetupError::new(key, path, e))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::new(key, path, format!("PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsSetupError::new(key, path, "檔案中沒有 CERTIFICATE 區塊"));
    }
    Ok(certs)
}

/// The rustls server configuration for mutual-TLS sign-in, from `server.tls_cert`,
/// `server.tls_key` and `auth.trust_anchors`.
pub fn server_config_from_files(
    tls: &ServerTls,
    trust_anchors: &Path,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let chain = read_pem_certs("server.tls_cert", &tls.cert)?;
    let key_pem =
        std::fs::read(&tls.key).map_err(|e| TlsSetupError::new("server.tls_key", &tls.key, e))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| TlsSetupError::new("server.tls_key", &tls.key, format!("PEM: {e}")))?;
    let anchors = read_pem_certs("auth.trust_anchors", trust_anchors)?;
    server_config(chain, key, anchors)
        .map_err(|e| TlsSetupError::new("server.tls_cert", &tls.cert, e))
}

/// The rustls server configuration: our certificate and key, TLS 1.2/1.3 with the ring
/// provider's safe defaults, HTTP/1.1, and a mandatory client certificate (see the module
/// documentation for why its trust is decided at sign-in).
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    trust_anchors: Vec<CertificateDer<'static>>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = CardHolderVerifier::new(&provider, trust_anchors)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Requires a client certificate and proof of possession of its key; leaves trust to
/// `querywarden_pki` at sign-in (module documentation).
#[derive(Debug)]
struct CardHolderVerifier {
    /// Subjects of the configured anchors, sent as acceptable CA names so that a browser
    /// offers the citizen card's certificate rather than some other one.
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl CardHolderVerifier {
    fn new(
        provider: &CryptoProvider,
        anchors: Vec<CertificateDer<'static>>,
    ) -> Result<Self, rustls::Error> {
        let mut roots = RootCertStore::empty();
        for anchor in anchors {
            roots.add(anchor)?;
        }
        Ok(Self {
            hints: roots.subjects(),
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for CardHolderVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    /// §3: no certificate, no connection.
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    /// Only that the end-entity certificate is well-formed X.509: the chain, dates, key
    /// usage and revocation are `querywarden_pki`'s decision at sign-in, which audits it.
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        ParsedCertificate::try_from(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    /// Proof of possession (TLS 1.2 CertificateVerify), checked by rustls' own code.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    /// Proof of possession (TLS 1.3 CertificateVerify), checked by rustls' own code.
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Serves the router over TLS on `listener` until `shutdown` resolves, then lets open
/// connections finish their current request. Each request carries the connection's
/// [`PeerCertificates`] and `ConnectInfo<SocketAddr>`; each response gets [`HSTS`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::router(state);
    let acceptor = TlsAcceptor::from(tls);
    // Every connection task holds a receiver: `send` asks them to wind down, and
    // `closed` resolves once the last one has.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(v) => v,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (acceptor, router, stop) = (acceptor.clone(), router.clone(), stop_rx.clone());
        tokio::spawn(serve_connection(acceptor, router, tcp, remote, stop));
    }
    drop(stop_rx);
    let _ = stop_tx.send(());
    stop_tx.closed().await;
    Ok(())
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    router: axum::Router,
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    mut stop: watch::Receiver<()>,
) {
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::info!(client = %remote.ip(), error = %e, "TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::info!(client = %remote.ip(), "TLS handshake timed out");
            return;
        }
    };
    let chain: Vec<Vec<u8>> = stream
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let peer = PeerCertificates(Arc::new(chain));
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(peer.clone());
        let router = router.clone();
        async move {
            let mut res = router.oneshot(req).await?;
            res.headers_mut()
                .insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
            Ok::<_, Infallible>(res)
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
