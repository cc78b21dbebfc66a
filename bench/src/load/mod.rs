//! The load generator: `users` WebSocket clients, each logged in, driving invite → accept →
//! hang-up cycles between random idle pairs at a fixed rate.
//!
//! Against our server the clients speak the real protocol. Against the baseline relay they send
//! frames addressed with `to` that the relay forwards unchanged, shaped like the frames our
//! server delivers (`invited`, `userEnter`, `callEnd`), so the receiving side reads the same
//! sizes and the same code handles both.
//!
//! [`clients`] opens the connections; [`cycles`] follows each call cycle frame by frame.

mod clients;
mod cycles;

use std::{
    collections::HashMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::bail;
use serde::Deserialize;
use tokio::sync::mpsc;

pub use self::clients::login_frame;
use self::clients::{open_all, sign_in_storm};
use crate::procfs;

/// Whom the generator talks to.
#[derive(Clone)]
pub enum Flavor {
    /// Our server: logins carry a UserSig made with the server's key.
    Ours {
        key: server::usersig::SecretKey,
        sdk_app_id: u64,
    },
    /// The bare relay.
    Relay,
}

/// Sign-ins to send all at once while the load runs.
pub struct Storm {
    /// After the load starts.
    pub after: Duration,
    pub accounts: Vec<String>,
    pub password: String,
}

pub struct Plan {
    pub rate: f64,
    pub duration: Duration,
    pub storm: Option<Storm>,
}

/// A latency sample: when its cycle started (from the load's start) and how long it took.
pub type Sample = (Duration, Duration);

#[derive(Debug, Default)]
pub struct Outcome {
    pub invite: Vec<Sample>,
    pub enter: Vec<Sample>,
    pub cycles: u64,
    /// Cycles the generator could not start: no two users were idle.
    pub skipped: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub elapsed: Duration,
    /// Highest resident set of the target process seen while the load ran.
    pub rss_load: Option<u64>,
    pub storm: Option<StormOutcome>,
}

#[derive(Debug)]
pub struct StormOutcome {
    /// From the load's start: the sign-ins went out at `.0`; the last answer came at `.1`.
    pub window: (Duration, Duration),
    pub sign_ins: Vec<Duration>,
    pub failures: u64,
}

/// What a client's reader hands the coordinator.
struct Event {
    user: usize,
    at: Instant,
    what: Incoming,
}

enum Incoming {
    Frame(Frame),
    Unreadable(String),
    Closed,
}

/// The fields of any server frame that the generator looks at.
#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "inviteID")]
    invite_id: Option<String>,
    sponsor: Option<String>,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    code: Option<u32>,
    message: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Connecting,
    Idle,
    Calling(u64),
    Answering(u64),
    Gone,
}

struct Cycle {
    caller: usize,
    callee: usize,
    room: u32,
    started: Instant,
    accepted: Option<Instant>,
}

pub fn user_name(i: usize) -> String {
    format!("u{i:05}")
}

/// The connected clients and what each is doing; all frames go through here.
pub struct Load {
    flavor: Flavor,
    target_pid: Option<u32>,
    names: Vec<String>,
    senders: Vec<Option<mpsc::UnboundedSender<String>>>,
    roles: Vec<Role>,
    idle: Vec<usize>,
    events: mpsc::UnboundedReceiver<Event>,
    cycles: HashMap<u64, Cycle>,
    next_cycle: u64,
    next_req: u64,
    rng: u64,
}

impl Load {
    /// Connects and logs in `users` clients to `addr`, a few hundred at a time.
    pub async fn connect(
        addr: SocketAddr,
        users: usize,
        flavor: Flavor,
        target_pid: Option<u32>,
    ) -> anyhow::Result<Self> {
        Self::connect_spread(addr, users, flavor, target_pid, false).await
    }

    /// Like [`connect`](Self::connect); with `spread`, each client from its own loopback
    /// address ([`user_address`]), as people are.
    pub async fn connect_spread(
        addr: SocketAddr,
        users: usize,
        flavor: Flavor,
        target_pid: Option<u32>,
        spread: bool,
    ) -> anyhow::Result<Self> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let names: Vec<String> = (0..users).map(user_name).collect();
        let senders = open_all(addr, &names, &flavor, spread, events_tx).await?;
        let mut load = Self {
            flavor,
            target_pid,
            names,
            senders,
            roles: vec![Role::Connecting; users],
            idle: Vec::with_capacity(users),
            events,
            cycles: HashMap::new(),
            next_cycle: 0,
            next_req: 1,
            rng: 0x9E37_79B9_7F4A_7C15 ^ users as u64,
        };
        load.await_logins().await?;
        Ok(load)
    }

    /// Waits (two minutes at most) until every client has logged in, and marks each idle.
    async fn await_logins(&mut self) -> anyhow::Result<()> {
        let users = self.roles.len();
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.idle.len() < users {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(Some(event)) = tokio::time::timeout(left, self.events.recv()).await else {
                bail!("only {} of {users} clients logged in", self.idle.len());
            };
            let user = event.user;
            match event.what {
                Incoming::Frame(f) if f.kind == "loggedIn" => {
                    self.roles[user] = Role::Idle;
                    self.idle.push(user);
                }
                Incoming::Frame(f) if f.kind == "presence" => {}
                Incoming::Frame(f) => bail!(
                    "{} could not log in: {} {}",
                    self.names[user],
                    f.kind,
                    f.message.unwrap_or_default()
                ),
                Incoming::Unreadable(text) => bail!("unreadable frame: {text}"),
                Incoming::Closed => bail!("{} was disconnected at login", self.names[user]),
            }
        }
        Ok(())
    }

    /// Runs invite cycles at `plan.rate` per second for `plan.duration`, then waits (a few
    /// seconds at most) for the cycles in flight.
    pub async fn run(&mut self, plan: Plan, http_addr: Option<SocketAddr>) -> Outcome {
        let mut out = Outcome::default();
        let start = Instant::now();
        let stop_starting = start + plan.duration;
        let give_up = stop_starting + Duration::from_secs(5);
        let mut pace = Pace {
            rate: plan.rate,
            credit: 0.0,
            last_tick: start,
            stop_starting,
        };
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        let mut sample_rss = tokio::time::interval(Duration::from_millis(250));
        let mut storm = StormSlot {
            pending: plan.storm,
            addr: http_addr,
            task: None,
        };
        loop {
            let now = Instant::now();
            if now >= give_up || (now >= stop_starting && self.cycles.is_empty()) {
                break;
            }
            tokio::select! {
                event = self.events.recv() => match event {
                    Some(event) => self.handle(event, start, &mut out),
                    None => break,
                },
                _ = tick.tick() => {
                    let now = Instant::now();
                    for _ in 0..pace.due(now) {
                        if !self.start_cycle() {
                            out.skipped += 1;
                        }
                    }
                    storm.start_if_due(start, now);
                }
                _ = sample_rss.tick() => self.sample_rss(&mut out),
            }
        }
        out.elapsed = plan.duration;
        self.abandon_unfinished(&mut out);
        out.storm = storm.outcome().await;
        out
    }

    /// Keeps the highest resident set of the target seen so far.
    fn sample_rss(&self, out: &mut Outcome) {
        if let Some(rss) = self.target_pid.and_then(procfs::rss_bytes) {
            out.rss_load = Some(out.rss_load.unwrap_or(0).max(rss));
        }
    }

    /// Counts the cycles still in flight when a run ends as errors, and retires their users.
    fn abandon_unfinished(&mut self, out: &mut Outcome) {
        if !self.cycles.is_empty() {
            out.errors += self.cycles.len() as u64;
            note(out, format!("{} cycles unfinished", self.cycles.len()));
            // Their users may be in any state on the server: leave them out of later runs.
            for (_, c) in self.cycles.drain() {
                self.roles[c.caller] = Role::Gone;
                self.roles[c.callee] = Role::Gone;
            }
        }
    }
}

/// Turns the offered rate into whole cycles to start at each tick, until starting stops.
struct Pace {
    rate: f64,
    credit: f64,
    last_tick: Instant,
    stop_starting: Instant,
}

impl Pace {
    /// How many cycles are due at `now`.
    fn due(&mut self, now: Instant) -> u64 {
        let mut due = 0;
        if now < self.stop_starting {
            self.credit += self.rate * (now - self.last_tick).as_secs_f64();
            while self.credit >= 1.0 {
                self.credit -= 1.0;
                due += 1;
            }
        }
        self.last_tick = now;
        due
    }
}

/// A sign-in storm waiting for its moment, then the task running it. Without an HTTP address
/// it never starts.
struct StormSlot {
    pending: Option<Storm>,
    addr: Option<SocketAddr>,
    task: Option<tokio::task::JoinHandle<StormOutcome>>,
}

impl StormSlot {
    /// Sends the sign-ins once `after` has passed since `start`.
    fn start_if_due(&mut self, start: Instant, now: Instant) {
        if let (Some(s), Some(addr)) = (&self.pending, self.addr) {
            if now >= start + s.after {
                let s = self.pending.take().expect("checked above");
                self.task = Some(tokio::spawn(sign_in_storm(addr, s, start)));
            }
        }
    }

    /// The storm's outcome once all its answers are in, if it ran.
    async fn outcome(self) -> Option<StormOutcome> {
        match self.task {
            Some(task) => task.await.ok(),
            None => None,
        }
    }
}

/// Keeps the first few error descriptions.
fn note(out: &mut Outcome, what: String) {
    if out.error_samples.len() < 10 {
        out.error_samples.push(what);
    }
}
