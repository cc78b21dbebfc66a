//! HTTPS and WSS served by the binary itself (rustls), for a host without a reverse proxy.
//!
//! Handshakes run side by side, bounded in number and in time, so that a client that opens a
//! connection and says nothing holds up nobody. The certificate is read again when its files
//! change: a renewal (every 60 to 90 days with an ACME client) needs no restart.

use std::{
    fmt, io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use rustls::{
    crypto::CryptoProvider,
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
    ServerConfig,
};
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{mpsc, Semaphore},
    task::JoinHandle,
};
use tokio_rustls::{server::TlsStream, TlsAcceptor};

/// Handshakes in progress at once; further connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 256;
/// A client that has not finished its handshake by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the certificate files are checked for a renewal.
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);
/// Finished handshakes waiting for the HTTP server to take them.
const READY_QUEUE: usize = 64;

/// Where the PEM certificate chain and private key are (`CALLING_TLS_CERT`, `CALLING_TLS_KEY`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug)]
pub enum TlsError {
    Read { path: PathBuf, reason: String },
    NoCertificate(PathBuf),
    Key { path: PathBuf, reason: String },
    Mismatch,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, reason } => write!(f, "reading {}: {reason}", path.display()),
            Self::NoCertificate(path) => {
                write!(f, "{} holds no PEM certificate", path.display())
            }
            Self::Key { path, reason } => {
                write!(f, "the private key in {}: {reason}", path.display())
            }
            Self::Mismatch => f.write_str("the private key does not belong to the certificate"),
        }
    }
}

impl std::error::Error for TlsError {}

/// The server's TLS: its configuration and the certificate it presents.
pub struct Tls {
    config: Arc<ServerConfig>,
    cert: Arc<Certificate>,
}

impl Tls {
    /// Reads and checks the certificate and key; any problem is an error at start.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let stamp = stamp(&files);
        let key = read(&files, &provider)?;
        let cert = Arc::new(Certificate {
            files,
            provider: provider.clone(),
            current: RwLock::new((Arc::new(key), stamp)),
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Key {
                path: cert.files.key.clone(),
                reason: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(cert.clone());
        // HTTP/1.1 only: the WebSocket upgrade needs it, and the server speaks nothing else.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            cert,
        })
    }

    /// Runs for as long as the server does: reads the files again when they change. A renewal
    /// that cannot be read is logged and the certificate in use stays.
    pub fn reloader(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let cert = self.cert.clone();
        async move {
            let mut tick = tokio::time::interval(RELOAD_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                // File reads: off the async workers.
                let cert = cert.clone();
                let _ = tokio::task::spawn_blocking(move || cert.reload_if_changed()).await;
            }
        }
    }

    /// Serves TLS on `tcp`.
    pub fn listen(&self, tcp: TcpListener) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (ready, rx) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(self.config.clone());
        let task = tokio::spawn(accept_loop(tcp, acceptor, ready));
        Ok(TlsListener { rx, local, task })
    }
}

/// The certificate in use, replaced when its files change.
#[derive(Debug)]
struct Certificate {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<(Arc<CertifiedKey>, Option<Stamp>)>,
}

/// What tells a changed file: both files' modification times.
type Stamp = (SystemTime, SystemTime);

fn stamp(files: &TlsFiles) -> Option<Stamp> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((modified(&files.cert)?, modified(&files.key)?))
}

impl Certificate {
    fn reload_if_changed(&self) {
        let now = stamp(&self.files);
        let known = self.current.read().map(|c| c.1).unwrap_or(None);
        if now.is_none() || now == known {
            return;
        }
        match read(&self.files, &self.provider) {
            Ok(key) => {
                if let Ok(mut current) = self.current.write() {
                    *current = (Arc::new(key), now);
                }
                tracing::info!(
                    "TLS certificate reloaded from {}",
                    self.files.cert.display()
                );
            }
            Err(e) => {
                // Half-written files are common during a renewal: try again next time.
                tracing::error!("TLS certificate not reloaded, the old one stays: {e}");
            }
        }
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.0.clone())
    }
}

fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Read {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    let key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::Key {
            path: files.key.clone(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|_| TlsError::Mismatch)?;
    Ok(certified)
}

/// Connections whose handshake finished, for `axum::serve`.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop ends only with this listener.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, addr) = match tcp.accept().await {
            Ok(conn) => conn,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors, most likely: wait rather than spin.
                tracing::error!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Signaling sends small frames in quick succession; see main.rs.
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!("TLS handshake with {addr}: {e}"),
                Err(_) => tracing::debug!("TLS handshake with {addr} timed out"),
            }
            drop(permit);
        });
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> TlsFiles {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let files = TlsFiles {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write cert");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key");
        files
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("calling-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_good_pair_loads_and_bad_ones_say_what_is_wrong() {
        let dir = temp_dir("load");
        let a = write_pair(&dir, "a.example");
        let b = write_pair(&dir, "b.example");
        assert!(Tls::load(a.clone()).is_ok());

        let crossed = TlsFiles {
            cert: a.cert.clone(),
            key: b.key.clone(),
        };
        assert!(matches!(Tls::load(crossed), Err(TlsError::Mismatch)));

        let missing = TlsFiles {
            cert: dir.join("nowhere.crt"),
            key: a.key.clone(),
        };
        let e = Tls::load(missing).err().expect("missing file");
        assert!(e.to_string().contains("nowhere.crt"), "{e}");

        let key_as_cert = TlsFiles {
            cert: a.key.clone(),
            key: a.key.clone(),
        };
        assert!(matches!(
            Tls::load(key_as_cert),
            Err(TlsError::NoCertificate(_))
        ));

        let cert_as_key = TlsFiles {
            cert: a.cert.clone(),
            key: a.cert.clone(),
        };
        assert!(matches!(Tls::load(cert_as_key), Err(TlsError::Key { .. })));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_renewed_certificate_replaces_the_old_one_and_a_broken_one_does_not() {
        let dir = temp_dir("reload");
        let files = write_pair(&dir, "old.example");
        let tls = Tls::load(files.clone()).expect("load");
        let served = || {
            tls.cert
                .current
                .read()
                .unwrap()
                .0
                .end_entity_cert()
                .unwrap()
                .to_vec()
        };
        let old = served();

        // A half-written renewal: the old certificate stays.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&files.cert, "-----BEGIN CERTIFICATE-----\n").unwrap();
        tls.cert.reload_if_changed();
        assert_eq!(served(), old);

        // The finished renewal, a new key and certificate in the same files.
        std::thread::sleep(Duration::from_millis(20));
        let renewed = write_pair(&dir, "new.example");
        std::fs::rename(&renewed.cert, &files.cert).unwrap();
        std::fs::rename(&renewed.key, &files.key).unwrap();
        tls.cert.reload_if_changed();
        assert_ne!(served(), old);
        std::fs::remove_dir_all(dir).ok();
    }
}
