//! Signaling under load and the sign-in storm: our server against the bare relay, both driven
//! by the same generator in the same run.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context};

use crate::{
    children::{Child, SDK_APP_ID, SECRET_KEY},
    figures::Figure,
    http,
    load::{Flavor, Load, Outcome, Plan, Sample, Storm, StormOutcome},
    procfs,
    stats::Samples,
};

pub struct Sizes {
    pub users: Vec<usize>,
    pub rates: Vec<f64>,
    pub duration: Duration,
    pub storm_users: usize,
    pub storm_rate: f64,
    pub sign_ins: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            users: vec![1_000, 10_000],
            rates: vec![100.0, 1_000.0],
            duration: Duration::from_secs(10),
            storm_users: 1_000,
            storm_rate: 1_000.0,
            sign_ins: 200,
        }
    }

    /// Seconds instead of minutes: enough to catch a benchmark that no longer works.
    pub fn smoke() -> Self {
        Self {
            users: vec![20],
            rates: vec![50.0],
            duration: Duration::from_millis(600),
            storm_users: 20,
            storm_rate: 50.0,
            sign_ins: 3,
        }
    }
}

const CPU: &str = "CPU: server (or relay) and generator share the cores";
/// The figures' groups: the load against the relay, and the sign-in storm.
const LOAD: &str = "signaling";
const STORM: &str = "sign-in storm";
const PASSWORD: &str = "bench password";

/// What one target did at one size.
struct Measured {
    rss_before: u64,
    rss_idle: u64,
    runs: Vec<(f64, Outcome)>,
}

/// Which parts to run: the load at every size, the sign-in storm, or both.
pub struct Parts {
    pub load: bool,
    pub storm: bool,
}

pub async fn run(server_bin: &Path, sizes: &Sizes, parts: Parts) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let ours_flavor = Flavor::Ours {
        key: server::usersig::SecretKey::new(SECRET_KEY.into()),
        sdk_app_id: SDK_APP_ID,
    };
    for &users in sizes.users.iter().filter(|_| parts.load) {
        eprintln!("signaling: {users} users, relay");
        let relay = measure(Child::relay()?, users, Flavor::Relay, sizes).await?;
        eprintln!("signaling: {users} users, server");
        let ours = measure(
            Child::server(server_bin, None)?,
            users,
            ours_flavor.clone(),
            sizes,
        )
        .await?;
        figures.extend(compare(users, &ours, &relay));
    }
    if parts.storm {
        eprintln!("signaling: sign-in storm");
        figures.extend(storm(server_bin, ours_flavor, sizes).await?);
    }
    Ok(figures)
}

async fn measure(
    target: Child,
    users: usize,
    flavor: Flavor,
    sizes: &Sizes,
) -> anyhow::Result<Measured> {
    let pid = target.pid();
    let rss = || procfs::rss_bytes(pid).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss();
    let mut load = Load::connect(target.addr, users, flavor, Some(pid))
        .await
        .with_context(|| target.log())?;
    // Let the connections settle (login replies written, buffers returned) before reading.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss();
    let mut runs = Vec::new();
    for &rate in &sizes.rates {
        let plan = Plan {
            rate,
            duration: sizes.duration,
            storm: None,
        };
        let outcome = load.run(plan, None).await;
        report_errors(&outcome);
        runs.push((rate, outcome));
    }
    Ok(Measured {
        rss_before,
        rss_idle,
        runs,
    })
}

fn report_errors(outcome: &Outcome) {
    for e in &outcome.error_samples {
        eprintln!("  error: {e}");
    }
}

fn ms(samples: &[Sample]) -> Samples {
    Samples::from_durations(samples.iter().map(|s| s.1))
}

/// Our server against the relay at `users` connections: each run's latency, throughput and
/// errors, then memory.
fn compare(users: usize, ours: &Measured, relay: &Measured) -> Vec<Figure> {
    let mut figures = Vec::new();
    for ((rate, o), (_, r)) in ours.runs.iter().zip(&relay.runs) {
        let at = format!("{users} users, {rate}/s");
        figures.extend(latency_figures(&at, o, r));
        figures.extend(throughput_figures(&at, *rate, o, r));
    }
    figures.extend(memory_figures(users, ours, relay));
    figures
}

/// Invite delivery and accept-to-userEnter latency of one run.
fn latency_figures(at: &str, o: &Outcome, r: &Outcome) -> Vec<Figure> {
    let (oi, ri) = (ms(&o.invite), ms(&r.invite));
    let (oe, re) = (ms(&o.enter), ms(&r.enter));
    let mut figures = percentile_figures("invite delivery", at, &oi, &ri);
    if let (Some(v), Some(b)) = (oi.max(), ri.max()) {
        figures.push(
            Figure::new(LOAD, format!("invite delivery max, {at}"), v, "ms")
                .against(b)
                .limited_by("scheduling noise of a shared machine"),
        );
    }
    figures.extend(percentile_figures("accept to userEnter", at, &oe, &re));
    figures
}

/// p50 and p99 of `name`, ours against the relay's, where both have samples.
fn percentile_figures(name: &str, at: &str, ours: &Samples, relay: &Samples) -> Vec<Figure> {
    let mut figures = Vec::new();
    for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
        if let (Some(v), Some(b)) = (ours.percentile(p), relay.percentile(p)) {
            figures.push(
                Figure::new(LOAD, format!("{name} {label}, {at}"), v, "ms")
                    .against(b)
                    .limited_by(CPU),
            );
        }
    }
    figures
}

/// Cycles completed per second against the offered `rate`, and the errors, of one run.
fn throughput_figures(at: &str, rate: f64, o: &Outcome, r: &Outcome) -> Vec<Figure> {
    let per_second = |x: &Outcome| x.cycles as f64 / x.elapsed.as_secs_f64();
    let (oc, rc) = (per_second(o), per_second(r));
    vec![
        Figure::new(LOAD, format!("cycles/s achieved, {at}"), oc, "/s")
            .against(rc)
            .limited_by(if oc >= 0.95 * rate {
                "the offered rate"
            } else {
                CPU
            }),
        Figure::new(LOAD, format!("errors, {at}"), o.errors as f64, "")
            .against(r.errors as f64)
            .limited_by("should be 0"),
    ]
}

/// Resident memory per idle connection, and at its peak under load over all runs.
fn memory_figures(users: usize, ours: &Measured, relay: &Measured) -> Vec<Figure> {
    let per_conn = |m: &Measured| m.rss_idle.saturating_sub(m.rss_before) as f64 / users as f64;
    let peak = |m: &Measured| {
        m.runs
            .iter()
            .filter_map(|(_, o)| o.rss_load)
            .max()
            .unwrap_or(0) as f64
            / (1024.0 * 1024.0)
    };
    vec![
        Figure::new(
            LOAD,
            format!("idle RSS per connection, {users} users"),
            per_conn(ours) / 1024.0,
            "KiB",
        )
        .against(per_conn(relay) / 1024.0)
        .limited_by("target <= 16 KiB"),
        Figure::new(
            LOAD,
            format!("peak RSS under load, {users} users"),
            peak(ours),
            "MiB",
        )
        .against(peak(relay))
        .limited_by("memory"),
    ]
}

/// The same load twice on one server, the second time with a burst of sign-ins; invites sent
/// while the sign-ins were being answered are compared with those sent in the same seconds of
/// the quiet run.
async fn storm(server_bin: &Path, flavor: Flavor, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let server = Child::server(server_bin, None)?;
    let accounts: Vec<String> = (0..sizes.sign_ins)
        .map(|i| format!("storm{i:04}"))
        .collect();
    register(server.addr, &accounts).await?;
    let mut load = Load::connect(server.addr, sizes.storm_users, flavor, Some(server.pid()))
        .await
        .with_context(|| server.log())?;
    let plan = |storm| Plan {
        rate: sizes.storm_rate,
        duration: sizes.duration.max(Duration::from_millis(1500)),
        storm,
    };
    let quiet = load.run(plan(None), None).await;
    report_errors(&quiet);
    let after = plan(None).duration / 5;
    let stormy = load
        .run(
            plan(Some(Storm {
                after,
                accounts,
                password: PASSWORD.into(),
            })),
            Some(server.addr),
        )
        .await;
    report_errors(&stormy);
    let Some(storm) = &stormy.storm else {
        bail!("the sign-in storm did not run");
    };
    let mut figures = invites_during_storm(sizes, storm.window, &quiet, &stormy);
    figures.extend(sign_in_figures(sizes.sign_ins, storm));
    if storm.failures > 0 {
        eprintln!("  {} sign-ins failed", storm.failures);
    }
    Ok(figures)
}

/// Invites sent within the storm's `window`, against those sent in the same seconds of the
/// quiet run: their delivery latency and how many there were.
fn invites_during_storm(
    sizes: &Sizes,
    window: (Duration, Duration),
    quiet: &Outcome,
    stormy: &Outcome,
) -> Vec<Figure> {
    let (from, to) = window;
    let within = |o: &Outcome| {
        Samples::from_durations(
            o.invite
                .iter()
                .filter(|(at, _)| *at >= from && *at <= to)
                .map(|s| s.1),
        )
    };
    let (during, same_window) = (within(stormy), within(quiet));
    let n = sizes.sign_ins;
    let users = sizes.storm_users;
    let mut figures = Vec::new();
    for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
        if let (Some(v), Some(b)) = (during.percentile(p), same_window.percentile(p)) {
            figures.push(
                Figure::new(
                    STORM,
                    format!("invite delivery {label} during {n} sign-ins, {users} users"),
                    v,
                    "ms",
                )
                .against(b)
                .limited_by("CPU: HTTP, sessions and argon2 share the cores"),
            );
        }
    }
    figures.push(
        Figure::new(
            STORM,
            "invites sent during the storm",
            during.len() as f64,
            "",
        )
        .against(same_window.len() as f64),
    );
    figures
}

/// How the `n` sign-ins themselves went: their time, the storm's length and the failures.
fn sign_in_figures(n: usize, storm: &StormOutcome) -> Vec<Figure> {
    let (from, to) = storm.window;
    let mut figures = Vec::new();
    let sign_ins = Samples::from_durations(storm.sign_ins.iter().copied());
    if let Some(p50) = sign_ins.percentile(50.0) {
        figures.push(
            Figure::new(STORM, format!("sign-in time p50, {n} at once"), p50, "ms")
                .limited_by("argon2id on nice-19 threads, one per core"),
        );
    }
    figures.push(Figure::new(
        STORM,
        format!("storm duration, {n} sign-ins"),
        (to - from).as_secs_f64() * 1000.0,
        "ms",
    ));
    figures.push(
        Figure::new(STORM, "failed sign-ins", storm.failures as f64, "").limited_by("should be 0"),
    );
    figures
}

/// Creates the storm's accounts, a few at a time.
async fn register(addr: std::net::SocketAddr, accounts: &[String]) -> anyhow::Result<()> {
    for chunk in accounts.chunks(8) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|user| {
                let body = http::form(&[("user_id", user), ("password", PASSWORD)]);
                tokio::spawn(async move { http::post_form(addr, "/auth/register", &body).await })
            })
            .collect();
        for task in tasks {
            let reply = task.await??;
            if !reply.signed_in() {
                bail!("registering failed: {} {:?}", reply.status, reply.location);
            }
        }
    }
    Ok(())
}
