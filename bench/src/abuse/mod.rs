//! Honest calls under attack: 1,000 users, each from an address of their own, keep calling at
//! a steady rate while the attacks the server was hardened against run one after another.
//! Each run is compared with a run of the same load, on the same server and connections, with
//! no attack; the server runs with its default limits.

mod attacks;

use std::{path::Path, time::Duration};

use anyhow::Context;
use tokio::sync::watch;

use self::attacks::{Stop, Tally};
use crate::{
    children::{Child, SDK_APP_ID, SECRET_KEY},
    figures::Figure,
    http,
    load::{Flavor, Load, Outcome, Plan},
    stats::Samples,
};

pub struct Sizes {
    pub users: usize,
    pub rate: f64,
    pub duration: Duration,
    pub list_attackers: usize,
    pub slow_pairs: usize,
    pub silent_sockets: usize,
    pub slowloris: usize,
    pub flood_workers: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            users: 1_000,
            rate: 200.0,
            duration: Duration::from_secs(10),
            list_attackers: 8,
            slow_pairs: 40,
            silent_sockets: 2_000,
            slowloris: 2_500,
            flood_workers: 64,
        }
    }

    /// Seconds instead of minutes: enough to catch a benchmark that no longer works.
    pub fn smoke() -> Self {
        Self {
            users: 20,
            rate: 20.0,
            duration: Duration::from_millis(800),
            list_attackers: 1,
            slow_pairs: 2,
            silent_sockets: 10,
            slowloris: 10,
            flood_workers: 2,
        }
    }
}

const GROUP: &str = "abuse";
const PASSWORD: &str = "bench password";

#[derive(Clone, Copy)]
enum Attack {
    LargeLists,
    SlowReaders,
    SilentSockets,
    Slowloris,
    SignInFlood,
}

impl Attack {
    const ALL: [Attack; 5] = [
        Attack::LargeLists,
        Attack::SlowReaders,
        Attack::SilentSockets,
        Attack::Slowloris,
        Attack::SignInFlood,
    ];

    fn name(self) -> &'static str {
        match self {
            Attack::LargeLists => "large lists",
            Attack::SlowReaders => "slow readers",
            Attack::SilentSockets => "never-reading sockets",
            Attack::Slowloris => "slowloris",
            Attack::SignInFlood => "sign-in flood",
        }
    }

    /// Starts the attack on `runtime`.
    fn start(
        self,
        runtime: &tokio::runtime::Handle,
        addr: std::net::SocketAddr,
        flavor: &Flavor,
        sizes: &Sizes,
        victims: &[String],
        stop: Stop,
    ) -> tokio::task::JoinHandle<Tally> {
        let flavor = flavor.clone();
        match self {
            Attack::LargeLists => runtime.spawn(attacks::large_lists(
                addr,
                flavor,
                sizes.list_attackers,
                // Twice what the server lets one connection send.
                100.0,
                stop,
            )),
            Attack::SlowReaders => runtime.spawn(attacks::slow_readers(
                addr,
                flavor,
                sizes.slow_pairs,
                sizes.duration / 2,
                stop,
            )),
            Attack::SilentSockets => runtime.spawn(attacks::silent_sockets(
                addr,
                flavor,
                sizes.silent_sockets,
                stop,
            )),
            Attack::Slowloris => runtime.spawn(attacks::slowloris(addr, sizes.slowloris, stop)),
            Attack::SignInFlood => runtime.spawn(attacks::sign_in_flood(
                addr,
                victims.to_vec(),
                sizes.flood_workers,
                stop,
            )),
        }
    }
}

pub async fn run(server_bin: &Path, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    // The defaults, not the wide limits the other benchmarks set for one address.
    let defaults = [
        ("CALLING_MAX_PENDING_PER_IP", "16"),
        ("CALLING_MAX_PENDING", "1024"),
        ("CALLING_MAX_SOCKETS", "20000"),
        ("CALLING_MAX_HTTP_CONNECTIONS", "4096"),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let server = Child::server_with(server_bin, None, &defaults)?;
    let victims: Vec<String> = (0..8).map(|i| format!("victim{i}")).collect();
    register(server.addr, &victims).await?;
    let flavor = Flavor::Ours {
        key: server::usersig::SecretKey::new(SECRET_KEY.into()),
        sdk_app_id: SDK_APP_ID,
    };
    let mut load = Load::connect_spread(
        server.addr,
        sizes.users,
        flavor.clone(),
        Some(server.pid()),
        true,
    )
    .await
    .with_context(|| server.log())?;
    let plan = || Plan {
        rate: sizes.rate,
        duration: sizes.duration,
        storm: None,
    };
    eprintln!("abuse: {} users, quiet", sizes.users);
    let quiet = load.run(plan(), None).await;
    report_errors(&quiet);
    let mut figures = vec![Figure::new(
        GROUP,
        format!("honest calls completed, quiet, {} users", sizes.users),
        quiet.cycles as f64,
        "",
    )];
    // The attackers stand for other machines: they get a runtime and a thread of their own,
    // at the lowest priority, so that their own work (making 64 KiB frames, thousands of
    // connections) neither delays the honest clients' reads nor takes the CPU from the server,
    // whose work on what they send is all counted.
    let attackers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("attacker")
        .on_thread_start(lowest_priority)
        .enable_all()
        .build()?;
    for attack in Attack::ALL {
        eprintln!("abuse: {} users, {}", sizes.users, attack.name());
        let (stop_tx, stop) = watch::channel(false);
        let task = attack.start(
            attackers.handle(),
            server.addr,
            &flavor,
            sizes,
            &victims,
            stop,
        );
        let under = load.run(plan(), None).await;
        let _ = stop_tx.send(true);
        let tally = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .context("the attack did not stop")?
            .context("the attack failed")?;
        report_errors(&under);
        figures.extend(compare(attack.name(), &quiet, &under, &tally));
        // Let what the attack left behind (closed sockets, queued hashes) clear.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    attackers.shutdown_background();
    Ok(figures)
}

/// Nice 19 for the calling thread.
fn lowest_priority() {
    // SAFETY: gettid and setpriority take and return plain integers; on Linux, PRIO_PROCESS
    // with a thread ID changes only that thread.
    let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19) };
    if done != 0 {
        eprintln!("abuse: could not lower the attackers' priority");
    }
}

fn report_errors(outcome: &Outcome) {
    for e in &outcome.error_samples {
        eprintln!("  error: {e}");
    }
}

/// One attack's run against the quiet one: honest invite delivery, memory, honest calls, then
/// what the attack did.
fn compare(name: &str, quiet: &Outcome, under: &Outcome, tally: &Tally) -> Vec<Figure> {
    let ms = |o: &Outcome| Samples::from_durations(o.invite.iter().map(|s| s.1));
    let (q, u) = (ms(quiet), ms(under));
    let mut figures = Vec::new();
    for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
        if let (Some(v), Some(b)) = (u.percentile(p), q.percentile(p)) {
            figures.push(
                Figure::new(GROUP, format!("invite delivery {label}, {name}"), v, "ms")
                    .against(b)
                    .limited_by(if p == 99.0 {
                        "target <= 2x the quiet run"
                    } else {
                        "CPU: server, honest users and attackers share the cores"
                    }),
            );
        }
    }
    let mib = |o: &Outcome| o.rss_load.unwrap_or(0) as f64 / (1024.0 * 1024.0);
    figures.push(
        Figure::new(GROUP, format!("peak RSS, {name}"), mib(under), "MiB")
            .against(mib(quiet))
            .limited_by("memory"),
    );
    figures.push(
        Figure::new(
            GROUP,
            format!("honest calls failed, {name}"),
            under.errors as f64,
            "",
        )
        .against(quiet.errors as f64)
        .limited_by("should be 0"),
    );
    figures.push(
        Figure::new(
            GROUP,
            format!("honest calls completed, {name}"),
            under.cycles as f64,
            "",
        )
        .against(quiet.cycles as f64)
        .limited_by("the offered rate"),
    );
    for (what, count) in tally {
        figures.push(Figure::new(
            GROUP,
            format!("{name}: {what}"),
            *count as f64,
            "",
        ));
    }
    figures
}

/// The accounts the sign-in flood guesses at.
async fn register(addr: std::net::SocketAddr, accounts: &[String]) -> anyhow::Result<()> {
    for user in accounts {
        let body = http::form(&[("user_id", user), ("password", PASSWORD)]);
        let reply = http::post_form(addr, "/auth/register", &body).await?;
        anyhow::ensure!(
            reply.signed_in(),
            "registering {user} failed: {} {:?}",
            reply.status,
            reply.location
        );
    }
    Ok(())
}
