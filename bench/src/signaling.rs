//! Signaling under load and the sign-in storm: our server against the bare relay, both driven
//! by the same generator in the same run.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context};

use crate::{
    children::{Child, SDK_APP_ID, SECRET_KEY},
    figures::Figure,
    http,
    load::{Flavor, Load, Outcome, Plan, Sample, Storm},
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

fn compare(users: usize, ours: &Measured, relay: &Measured) -> Vec<Figure> {
    let g = "signaling";
    let mut figures = Vec::new();
    for ((rate, o), (_, r)) in ours.runs.iter().zip(&relay.runs) {
        let at = format!("{users} users, {rate}/s");
        let (oi, ri) = (ms(&o.invite), ms(&r.invite));
        let (oe, re) = (ms(&o.enter), ms(&r.enter));
        for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
            if let (Some(v), Some(b)) = (oi.percentile(p), ri.percentile(p)) {
                figures.push(
                    Figure::new(g, format!("invite delivery {label}, {at}"), v, "ms")
                        .against(b)
                        .limited_by(CPU),
                );
            }
        }
        if let (Some(v), Some(b)) = (oi.max(), ri.max()) {
            figures.push(
                Figure::new(g, format!("invite delivery max, {at}"), v, "ms")
                    .against(b)
                    .limited_by("scheduling noise of a shared machine"),
            );
        }
        for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
            if let (Some(v), Some(b)) = (oe.percentile(p), re.percentile(p)) {
                figures.push(
                    Figure::new(g, format!("accept to userEnter {label}, {at}"), v, "ms")
                        .against(b)
                        .limited_by(CPU),
                );
            }
        }
        let per_second = |x: &Outcome| x.cycles as f64 / x.elapsed.as_secs_f64();
        let (oc, rc) = (per_second(o), per_second(r));
        figures.push(
            Figure::new(g, format!("cycles/s achieved, {at}"), oc, "/s")
                .against(rc)
                .limited_by(if oc >= 0.95 * rate {
                    "the offered rate"
                } else {
                    CPU
                }),
        );
        figures.push(
            Figure::new(g, format!("errors, {at}"), o.errors as f64, "")
                .against(r.errors as f64)
                .limited_by("should be 0"),
        );
    }
    let per_conn = |m: &Measured| m.rss_idle.saturating_sub(m.rss_before) as f64 / users as f64;
    figures.push(
        Figure::new(
            g,
            format!("idle RSS per connection, {users} users"),
            per_conn(ours) / 1024.0,
            "KiB",
        )
        .against(per_conn(relay) / 1024.0)
        .limited_by("target <= 16 KiB"),
    );
    let peak = |m: &Measured| {
        m.runs
            .iter()
            .filter_map(|(_, o)| o.rss_load)
            .max()
            .unwrap_or(0) as f64
            / (1024.0 * 1024.0)
    };
    figures.push(
        Figure::new(
            g,
            format!("peak RSS under load, {users} users"),
            peak(ours),
            "MiB",
        )
        .against(peak(relay))
        .limited_by("memory"),
    );
    figures
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
    let (from, to) = storm.window;
    let within = |o: &Outcome| {
        Samples::from_durations(
            o.invite
                .iter()
                .filter(|(at, _)| *at >= from && *at <= to)
                .map(|s| s.1),
        )
    };
    let (during, same_window) = (within(&stormy), within(&quiet));
    let g = "sign-in storm";
    let n = sizes.sign_ins;
    let users = sizes.storm_users;
    let mut figures = Vec::new();
    for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
        if let (Some(v), Some(b)) = (during.percentile(p), same_window.percentile(p)) {
            figures.push(
                Figure::new(
                    g,
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
        Figure::new(g, "invites sent during the storm", during.len() as f64, "")
            .against(same_window.len() as f64),
    );
    let sign_ins = Samples::from_durations(storm.sign_ins.iter().copied());
    if let Some(p50) = sign_ins.percentile(50.0) {
        figures.push(
            Figure::new(g, format!("sign-in time p50, {n} at once"), p50, "ms")
                .limited_by("argon2id on nice-19 threads, one per core"),
        );
    }
    figures.push(Figure::new(
        g,
        format!("storm duration, {n} sign-ins"),
        (to - from).as_secs_f64() * 1000.0,
        "ms",
    ));
    figures.push(
        Figure::new(g, "failed sign-ins", storm.failures as f64, "").limited_by("should be 0"),
    );
    if storm.failures > 0 {
        eprintln!("  {} sign-ins failed", storm.failures);
    }
    Ok(figures)
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
