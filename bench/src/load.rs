//! The load generator: `users` WebSocket clients, each logged in, driving invite → accept →
//! hang-up cycles between random idle pairs at a fixed rate.
//!
//! Against our server the clients speak the real protocol. Against the baseline relay they send
//! frames addressed with `to` that the relay forwards unchanged, shaped like the frames our
//! server delivers (`invited`, `userEnter`, `callEnd`), so the receiving side reads the same
//! sizes and the same code handles both.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::{protocol::WebSocketConfig, Message};

use crate::{http, procfs};

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
        let (events_tx, events) = mpsc::unbounded_channel();
        let names: Vec<String> = (0..users).map(user_name).collect();
        let gate = Arc::new(Semaphore::new(256));
        let now = server::db::unix_now();
        let mut tasks = Vec::with_capacity(users);
        for (i, name) in names.iter().enumerate() {
            let login = match &flavor {
                Flavor::Ours { key, sdk_app_id } => {
                    let sig = server::usersig::mint(key, *sdk_app_id, name, now, 86_400, None);
                    format!(r#"{{"type":"login","userID":"{name}","userSig":"{sig}"}}"#)
                }
                Flavor::Relay => format!(r#"{{"type":"login","userID":"{name}"}}"#),
            };
            let gate = gate.clone();
            let events = events_tx.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                open(addr, i, login, events).await
            }));
        }
        drop(events_tx);
        let mut senders = Vec::with_capacity(users);
        for task in tasks {
            senders.push(Some(task.await.context("connect task")??));
        }
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
        let deadline = Instant::now() + Duration::from_secs(120);
        while load.idle.len() < users {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(Some(event)) = tokio::time::timeout(left, load.events.recv()).await else {
                bail!("only {} of {users} clients logged in", load.idle.len());
            };
            let user = event.user;
            match event.what {
                Incoming::Frame(f) if f.kind == "loggedIn" => {
                    load.roles[user] = Role::Idle;
                    load.idle.push(user);
                }
                Incoming::Frame(f) if f.kind == "presence" => {}
                Incoming::Frame(f) => bail!(
                    "{} could not log in: {} {}",
                    load.names[user],
                    f.kind,
                    f.message.unwrap_or_default()
                ),
                Incoming::Unreadable(text) => bail!("unreadable frame: {text}"),
                Incoming::Closed => bail!("{} was disconnected at login", load.names[user]),
            }
        }
        Ok(load)
    }

    /// Runs invite cycles at `plan.rate` per second for `plan.duration`, then waits (a few
    /// seconds at most) for the cycles in flight.
    pub async fn run(&mut self, plan: Plan, http_addr: Option<SocketAddr>) -> Outcome {
        let mut out = Outcome::default();
        let start = Instant::now();
        let stop_starting = start + plan.duration;
        let give_up = stop_starting + Duration::from_secs(5);
        let mut credit = 0.0;
        let mut last_tick = start;
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        let mut sample_rss = tokio::time::interval(Duration::from_millis(250));
        let mut storm_task = None;
        let mut storm = plan.storm;
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
                    if now < stop_starting {
                        credit += plan.rate * (now - last_tick).as_secs_f64();
                        while credit >= 1.0 {
                            credit -= 1.0;
                            if !self.start_cycle() {
                                out.skipped += 1;
                            }
                        }
                    }
                    last_tick = now;
                    if let (Some(s), Some(addr)) = (&storm, http_addr) {
                        if now >= start + s.after {
                            let s = storm.take().expect("checked above");
                            storm_task = Some(tokio::spawn(sign_in_storm(addr, s, start)));
                        }
                    }
                }
                _ = sample_rss.tick() => {
                    if let Some(rss) = self.target_pid.and_then(procfs::rss_bytes) {
                        out.rss_load = Some(out.rss_load.unwrap_or(0).max(rss));
                    }
                }
            }
        }
        out.elapsed = plan.duration;
        if !self.cycles.is_empty() {
            out.errors += self.cycles.len() as u64;
            note(&mut out, format!("{} cycles unfinished", self.cycles.len()));
            // Their users may be in any state on the server: leave them out of later runs.
            for (_, c) in self.cycles.drain() {
                self.roles[c.caller] = Role::Gone;
                self.roles[c.callee] = Role::Gone;
            }
        }
        if let Some(task) = storm_task {
            out.storm = task.await.ok();
        }
        out
    }

    fn random(&mut self, below: usize) -> usize {
        // xorshift64*: plenty for picking pairs.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below as u64) as usize
    }

    fn take_idle(&mut self) -> usize {
        let i = self.random(self.idle.len());
        self.idle.swap_remove(i)
    }

    fn send(&mut self, user: usize, frame: String) {
        if let Some(tx) = &self.senders[user] {
            let _ = tx.send(frame);
        }
    }

    fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    fn start_cycle(&mut self) -> bool {
        if self.idle.len() < 2 {
            return false;
        }
        let caller = self.take_idle();
        let callee = self.take_idle();
        let id = self.next_cycle;
        self.next_cycle += 1;
        let room = 1_000_000 + (id % 1_000_000_000) as u32;
        self.roles[caller] = Role::Calling(id);
        self.roles[callee] = Role::Answering(id);
        let req = self.req();
        let (from, to) = (&self.names[caller], &self.names[callee]);
        let frame = match self.flavor {
            Flavor::Ours { .. } => {
                format!(
                    r#"{{"type":"call","req":{req},"userIDList":["{to}"],"callType":2,"timeout":30}}"#
                )
            }
            Flavor::Relay => format!(
                r#"{{"to":"{to}","type":"invited","inviteID":"{id:016x}","sponsor":"{from}","userIDList":["{to}"],"isFromGroup":false,"inviteData":{{"version":4,"callType":2,"roomID":{room}}},"timeout":30}}"#
            ),
        };
        self.cycles.insert(
            id,
            Cycle {
                caller,
                callee,
                room,
                started: Instant::now(),
                accepted: None,
            },
        );
        self.send(caller, frame);
        true
    }

    fn handle(&mut self, event: Event, start: Instant, out: &mut Outcome) {
        let user = event.user;
        let frame = match event.what {
            Incoming::Frame(f) => f,
            Incoming::Unreadable(text) => {
                out.errors += 1;
                note(out, format!("unreadable frame: {text}"));
                return;
            }
            Incoming::Closed => {
                if self.roles[user] != Role::Gone {
                    out.errors += 1;
                    note(out, format!("{} disconnected", self.names[user]));
                    self.roles[user] = Role::Gone;
                    self.senders[user] = None;
                }
                return;
            }
        };
        match (frame.kind.as_str(), self.roles[user]) {
            ("invited", Role::Answering(id)) => {
                let Some(cycle) = self.cycles.get_mut(&id) else {
                    return;
                };
                if frame.sponsor.as_deref() != Some(self.names[cycle.caller].as_str()) {
                    return;
                }
                out.invite
                    .push((cycle.started - start, event.at - cycle.started));
                let (caller, callee, room) = (cycle.caller, cycle.callee, cycle.room);
                let reply = match self.flavor {
                    Flavor::Ours { .. } => {
                        let req = self.req();
                        let invite = frame.invite_id.unwrap_or_default();
                        format!(r#"{{"type":"accept","req":{req},"inviteID":"{invite}"}}"#)
                    }
                    Flavor::Relay => format!(
                        r#"{{"to":"{}","type":"userEnter","roomID":{room},"userID":"{}"}}"#,
                        self.names[caller], self.names[callee]
                    ),
                };
                if let Some(cycle) = self.cycles.get_mut(&id) {
                    cycle.accepted = Some(Instant::now());
                }
                self.send(callee, reply);
            }
            ("userEnter", Role::Calling(id)) => {
                let Some(cycle) = self.cycles.get(&id) else {
                    return;
                };
                let Some(accepted) = cycle.accepted else {
                    return;
                };
                if frame.user_id.as_deref() != Some(self.names[cycle.callee].as_str()) {
                    return;
                }
                out.enter.push((cycle.started - start, event.at - accepted));
                let (callee, room) = (cycle.callee, cycle.room);
                let hangup = match self.flavor {
                    Flavor::Ours { .. } => {
                        let req = self.req();
                        format!(r#"{{"type":"hangup","req":{req}}}"#)
                    }
                    Flavor::Relay => format!(
                        r#"{{"to":"{}","type":"callEnd","roomID":{room}}}"#,
                        self.names[callee]
                    ),
                };
                self.send(user, hangup);
            }
            ("callEnd", Role::Answering(id)) => {
                if let Some(cycle) = self.cycles.remove(&id) {
                    for u in [cycle.caller, cycle.callee] {
                        self.roles[u] = Role::Idle;
                        self.idle.push(u);
                    }
                    out.cycles += 1;
                }
            }
            (
                kind @ ("error" | "lineBusy" | "noResp" | "reject" | "callingTimeout"
                | "callingCancel" | "kickedOut"),
                _,
            ) => {
                out.errors += 1;
                let what = match (frame.code, frame.message) {
                    (Some(code), Some(m)) => format!("{kind} {code}: {m}"),
                    _ => kind.to_owned(),
                };
                note(out, format!("{} got {what}", self.names[user]));
            }
            _ => {}
        }
    }
}

/// Keeps the first few error descriptions.
fn note(out: &mut Outcome, what: String) {
    if out.error_samples.len() < 10 {
        out.error_samples.push(what);
    }
}

/// Connects one client and starts its reader and writer; returns where to send its frames.
async fn open(
    addr: SocketAddr,
    user: usize,
    login: String,
    events: mpsc::UnboundedSender<Event>,
) -> anyhow::Result<mpsc::UnboundedSender<String>> {
    // Small buffers: ten thousand clients at tungstenite's default 128 KiB each would need
    // gigabytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/ws"), Some(config), true)
            .await
            .with_context(|| format!("connecting {}", user_name(user)))?;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        while let Some(message) = stream.next().await {
            let at = Instant::now();
            let what = match message {
                Ok(Message::Text(text)) => match serde_json::from_str::<Frame>(text.as_str()) {
                    Ok(frame) => Incoming::Frame(frame),
                    Err(_) => Incoming::Unreadable(text.as_str().chars().take(200).collect()),
                },
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if events.send(Event { user, at, what }).is_err() {
                return;
            }
        }
        let _ = events.send(Event {
            user,
            at: Instant::now(),
            what: Incoming::Closed,
        });
    });
    tx.send(login).context("queueing the login")?;
    Ok(tx)
}

/// Sends every sign-in at once and times each answer.
async fn sign_in_storm(addr: SocketAddr, storm: Storm, start: Instant) -> StormOutcome {
    let sent = Instant::now();
    let tasks: Vec<_> = storm
        .accounts
        .into_iter()
        .map(|user| {
            let body = http::form(&[("user_id", &user), ("password", &storm.password)]);
            tokio::spawn(async move {
                let r = http::post_form(addr, "/auth/login", &body).await;
                (r, Instant::now())
            })
        })
        .collect();
    let mut sign_ins = Vec::new();
    let mut failures = 0;
    let mut last = sent;
    for task in tasks {
        match task.await {
            Ok((Ok(reply), done)) if reply.signed_in() => {
                sign_ins.push(done - sent);
                last = last.max(done);
            }
            _ => failures += 1,
        }
    }
    StormOutcome {
        window: (sent - start, last - start),
        sign_ins,
        failures,
    }
}
