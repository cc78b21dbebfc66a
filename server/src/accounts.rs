//! Accounts: registration and sign-in with argon2id password hashes.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of a core, so it runs on a few dedicated
//! threads of the lowest priority: a burst of sign-ins queues there and takes the CPU that
//! calls leave over, instead of stalling the async runtime or exhausting memory. The queue is
//! bounded ([`QUEUE_PER_THREAD`] jobs per thread): past it, a sign-in is refused at once with
//! [`AccountError::Busy`] (503 and `Retry-After`) rather than waiting behind a flood, and a job
//! whose request has gone (the client gave up) is skipped when its turn comes.

use std::{
    fmt,
    sync::{mpsc, Arc, Mutex},
};

use app::rules::{check_password, check_user_id, FormError};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use sqlx::SqlitePool;
use tokio::sync::{oneshot, OnceCell};

/// Gives the calling thread the lowest priority (nice 19): the scheduler prefers the runtime's
/// threads whenever they want the CPU, yet hashing is never starved outright, as it would be in
/// the idle class on a saturated machine.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take and return plain integers; on Linux,
        // PRIO_PROCESS with a thread ID changes only that thread.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19) != 0
        };
        if failed {
            tracing::debug!("could not lower the hashing thread's priority");
        }
    }
}

/// A PHC-format argon2id hash. Not `Debug`, so it stays out of logs.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
pub enum AccountError {
    Rule(FormError),
    Taken,
    BadCredentials,
    Storage(sqlx::Error),
    Hashing(String),
    /// The hashing queue is full: try again shortly.
    Busy,
    /// This site does not take sign-ups (`CALLING_REGISTRATION=closed`).
    RegistrationClosed,
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(e) => write!(f, "{e}"),
            Self::Taken => write!(f, "user ID taken"),
            Self::BadCredentials => write!(f, "wrong user ID or password"),
            Self::Storage(e) => write!(f, "database: {e}"),
            Self::Hashing(e) => write!(f, "password hashing: {e}"),
            Self::Busy => write!(f, "too many sign-ins at once"),
            Self::RegistrationClosed => write!(f, "registration is closed"),
        }
    }
}

impl std::error::Error for AccountError {}

impl AccountError {
    /// Our fault rather than the user's: worth a line in the log.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Storage(_) | Self::Hashing(_))
    }
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e)
    }
}

impl From<AccountError> for FormError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Rule(rule) => rule,
            AccountError::Taken => FormError::UserIdTaken,
            AccountError::BadCredentials => FormError::BadCredentials,
            AccountError::Busy => FormError::Busy,
            AccountError::RegistrationClosed => FormError::RegistrationClosed,
            AccountError::Storage(_) | AccountError::Hashing(_) => FormError::Internal,
        }
    }
}

/// argon2id with m=19456 KiB, t=2, p=1 (OWASP's recommendation).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

type Job = Box<dyn FnOnce() + Send>;

/// Jobs that may wait for each hashing thread: at ~25 ms a hash, about a second of waiting.
pub const QUEUE_PER_THREAD: usize = 32;

/// Runs argon2 off the async runtime, on `threads` threads of its own.
pub struct Hasher {
    jobs: mpsc::SyncSender<Job>,
    /// Verified against when the user does not exist, so that an unknown user takes as long
    /// to refuse as a wrong password.
    decoy: OnceCell<PasswordHash>,
}

impl Hasher {
    /// The threads end when the hasher is dropped.
    pub fn new(threads: usize) -> Self {
        Self::with_queue(threads, threads.max(1) * QUEUE_PER_THREAD)
    }

    /// With room for `queue` waiting jobs.
    pub fn with_queue(threads: usize, queue: usize) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(queue);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name("argon2".into())
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("starting a hashing thread: {e}");
            }
        }
        Self {
            jobs,
            decoy: OnceCell::new(),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Nobody is waiting for this one any more: the client went away.
            if done.is_closed() {
                return;
            }
            let _ = done.send(work());
        });
        let gone = || AccountError::Hashing("the hashing threads have stopped".into());
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => AccountError::Busy,
            mpsc::TrySendError::Disconnected(_) => gone(),
        })?;
        result.await.map_err(|_| gone())
    }

    pub async fn hash(&self, password: String) -> Result<PasswordHash, AccountError> {
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| PasswordHash(h.to_string()))
                .map_err(|e| AccountError::Hashing(e.to_string()))
        })
        .await?
    }

    /// True when `password` matches `hash`; with no hash, spends the same time and says false.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<PasswordHash>,
    ) -> Result<bool, AccountError> {
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => (self.decoy().await?, false),
        };
        let ok = self
            .blocking(move || {
                argon2::PasswordHash::new(hash.as_str())
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .map_err(|e| AccountError::Hashing(e.to_string()))
            })
            .await??;
        Ok(ok && real)
    }

    async fn decoy(&self) -> Result<PasswordHash, AccountError> {
        self.decoy
            .get_or_try_init(|| self.hash("decoy password, never matched".into()))
            .await
            .cloned()
    }
}

pub struct Accounts {
    db: SqlitePool,
    hasher: Hasher,
}

impl Accounts {
    pub fn new(db: SqlitePool, hasher: Hasher) -> Self {
        Self { db, hasher }
    }

    pub async fn register(
        &self,
        user_id: &str,
        password: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        check_user_id(user_id).map_err(AccountError::Rule)?;
        check_password(password).map_err(AccountError::Rule)?;
        if self.exists(user_id).await? {
            return Err(AccountError::Taken);
        }
        let hash = self.hasher.hash(password.to_owned()).await?;
        // The primary key settles a race between two sign-ups for the same ID.
        sqlx::query("INSERT INTO users (user_id, password_hash, created_at) VALUES (?, ?, ?)")
            .bind(user_id)
            .bind(hash.as_str())
            .bind(now)
            .execute(&self.db)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => AccountError::Taken,
                _ => AccountError::Storage(e),
            })?;
        Ok(())
    }

    pub async fn authenticate(&self, user_id: &str, password: &str) -> Result<(), AccountError> {
        // A malformed ID or an overlong password cannot match; say so the same way as a wrong
        // password, after the same amount of work.
        let plausible =
            check_user_id(user_id).is_ok() && password.chars().count() <= app::rules::PASSWORD_MAX;
        let stored: Option<String> = if plausible {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = ?")
                .bind(user_id)
                .fetch_optional(&self.db)
                .await?
        } else {
            None
        };
        let password = if plausible {
            password.to_owned()
        } else {
            String::new()
        };
        if self
            .hasher
            .verify(password, stored.map(PasswordHash))
            .await?
        {
            Ok(())
        } else {
            Err(AccountError::BadCredentials)
        }
    }

    /// A new hash of `password`, for a password change.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, AccountError> {
        self.hasher.hash(password.to_owned()).await
    }

    pub async fn exists(&self, user_id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&self.db)
            .await?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_round_trip_is_argon2id_phc() {
        let hasher = Hasher::new(2);
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong horse".into(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn no_hash_never_matches() {
        let hasher = Hasher::new(1);
        assert!(!hasher
            .verify("decoy password, never matched".into(), None)
            .await
            .unwrap());
    }

    /// Holds the hasher's only thread until the returned sender is dropped or sent to.
    fn occupy(hasher: &Hasher) -> (std::sync::mpsc::Sender<()>, std::sync::mpsc::Receiver<()>) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, is_started) = std::sync::mpsc::channel::<()>();
        let job: Job = Box::new(move || {
            let _ = started.send(());
            let _ = hold.recv();
        });
        hasher.jobs.try_send(job).unwrap();
        (release, is_started)
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let hasher = Hasher::with_queue(1, 2);
        let (release, started) = occupy(&hasher);
        started.recv().unwrap();
        for _ in 0..2 {
            hasher.jobs.try_send(Box::new(|| ())).unwrap();
        }
        assert!(matches!(
            hasher.hash("one too many".into()).await,
            Err(AccountError::Busy)
        ));
        drop(release);
        // Room comes back once the thread has worked through the queue.
        let mut again = hasher.hash("room again".into()).await;
        for _ in 0..200 {
            if !matches!(again, Err(AccountError::Busy)) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            again = hasher.hash("room again".into()).await;
        }
        assert!(again.is_ok());
    }

    #[tokio::test]
    async fn a_job_whose_request_has_gone_is_skipped() {
        let hasher = Hasher::with_queue(1, 4);
        let (release, started) = occupy(&hasher);
        started.recv().unwrap();
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let abandoned =
            hasher.blocking(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
        // Polled once, so that its job is queued, then dropped as a handler is when its client
        // disconnects.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), abandoned).await;
        drop(release);
        // A later job runs after the abandoned one would have.
        hasher.blocking(|| ()).await.unwrap();
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn salts_differ() {
        let hasher = Hasher::new(2);
        let a = hasher.hash("same password".into()).await.unwrap();
        let b = hasher.hash("same password".into()).await.unwrap();
        assert_ne!(a.as_str(), b.as_str());
    }
}
