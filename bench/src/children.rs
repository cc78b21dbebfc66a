//! The processes under test: our server on a fresh database, or the baseline relay. Each is
//! killed when its handle is dropped.

use std::{
    fs,
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

pub const SECRET_KEY: &str = "bench-secret-key-0123456789abcdef0123456789abcdef";
pub const SDK_APP_ID: u64 = 1_400_000_000;

pub struct Child {
    process: std::process::Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Child {
    /// Our server binary at `bin`, on a new database in a temporary directory, serving the site
    /// in `site`; without one, an empty folder, so that the server's work on the site's files
    /// (precompressing them) stays out of signaling figures.
    pub fn server(bin: &Path, site: Option<&Path>) -> anyhow::Result<Self> {
        Self::server_with(bin, site, &[])
    }

    /// Like [`server`](Self::server), with more environment variables.
    pub fn server_with(
        bin: &Path,
        site: Option<&Path>,
        env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let addr = free_port()?;
        let dir = temp_dir("server")?;
        let mut command = Command::new(bin);
        let empty_site = dir.join("site");
        fs::create_dir_all(&empty_site)?;
        command.env("LEPTOS_SITE_ROOT", site.unwrap_or(&empty_site));
        command
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bench.db", dir.display()),
            )
            .env("CALLING_SECRET_KEY", SECRET_KEY)
            .env("CALLING_SDK_APP_ID", SDK_APP_ID.to_string())
            .env("CALLING_TURN_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn,stun_proto::auth=off")
            // Every simulated user connects from loopback, thousands at once.
            .env("CALLING_MAX_PENDING_PER_IP", "100000")
            .env("CALLING_MAX_PENDING", "100000")
            .env("CALLING_MAX_SOCKETS", "100000")
            .env("CALLING_MAX_HTTP_CONNECTIONS", "100000");
        for (name, value) in env {
            command.env(name, value);
        }
        for (name, default) in [
            ("LEPTOS_OUTPUT_NAME", "calling"),
            ("LEPTOS_WASM_OUTPUT_NAME", "calling"),
            ("LEPTOS_SITE_PKG_DIR", "pkg"),
            ("LEPTOS_ENV", "PROD"),
        ] {
            if std::env::var_os(name).is_none() {
                command.env(name, default);
            }
        }
        Self::start(command, addr, dir)
    }

    /// Debian's coturn on `addr` (UDP and TCP), checking credentials made with `secret` as
    /// `CALLING_TURN=external` has it, and allowing loopback peers: relayed addresses are on
    /// loopback here.
    pub fn coturn(addr: SocketAddr, secret: &str) -> anyhow::Result<Self> {
        let dir = temp_dir("coturn")?;
        let mut command = Command::new("turnserver");
        command
            .arg("-n") // nothing from /etc/turnserver.conf
            .arg(format!("--listening-ip={}", addr.ip()))
            .arg(format!("--listening-port={}", addr.port()))
            .arg(format!("--relay-ip={}", addr.ip()))
            .args(["--min-port=40000", "--max-port=40999"])
            .args([
                "--use-auth-secret",
                &format!("--static-auth-secret={secret}"),
            ])
            .args(["--realm=calling", "--no-cli", "--no-tls", "--no-dtls"])
            .args([
                "--allow-loopback-peers",
                "--simple-log",
                "--log-file=stdout",
            ])
            .arg(format!("--userdb={}", dir.join("turndb").display()))
            .arg(format!(
                "--pidfile={}",
                dir.join("turnserver.pid").display()
            ));
        Self::start(command, addr, dir)
    }

    /// The baseline relay: this same program, `bench relay <addr>`.
    pub fn relay() -> anyhow::Result<Self> {
        let addr = free_port()?;
        let dir = temp_dir("relay")?;
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("relay").arg(addr.to_string());
        Self::start(command, addr, dir)
    }

    fn start(mut command: Command, addr: SocketAddr, dir: PathBuf) -> anyhow::Result<Self> {
        let log = fs::File::create(dir.join("log"))?;
        let process = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let mut child = Self { process, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = child.process.try_wait()? {
                bail!("{command:?} exited with {status}:\n{}", child.log());
            }
            if Instant::now() > deadline {
                bail!("{command:?} did not listen on {addr}:\n{}", child.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(child)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

fn temp_dir(what: &str) -> anyhow::Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("calling-bench-{}-{what}-{n}", std::process::id()));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
