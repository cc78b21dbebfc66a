//! The benchmarks: signaling under load and a sign-in storm (against a bare WebSocket relay),
//! honest calls under attack, and what a visitor downloads. See BENCHMARKS.md.
//!
//! ```text
//! bench signaling --server <bin> [--smoke] [--out <file>] [load] [storm]
//! bench download --server <bin> --site <dir> --out <file>
//! bench turn --server <bin> [--smoke] [--out <file>]
//! bench abuse --server <bin> [--smoke] [--out <file>]
//! bench report --out <results.json> <part.json>...
//! bench relay <addr>          (the baseline, started by `signaling`)
//! ```

mod abuse;
mod children;
mod download;
mod figures;
mod http;
mod load;
mod procfs;
mod relay;
mod signaling;
mod stats;
mod turn;

use std::path::PathBuf;

use anyhow::{bail, Context};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        bail!("usage: bench signaling|download|turn|abuse|report|relay ...");
    };
    let opts = Options::parse(&args[1..])?;
    let runtime = tokio::runtime::Runtime::new()?;
    match command.as_str() {
        "relay" => {
            let addr = opts
                .free
                .first()
                .context("relay needs an address")?
                .parse()?;
            runtime.block_on(relay::serve(addr))
        }
        "signaling" => {
            let sizes = if opts.smoke {
                signaling::Sizes::smoke()
            } else {
                signaling::Sizes::full()
            };
            let server = opts.server.context("--server <bin> is needed")?;
            let only = |part: &str| opts.free.is_empty() || opts.free.iter().any(|f| f == part);
            let parts = signaling::Parts {
                load: only("load"),
                storm: only("storm"),
            };
            let figures = runtime.block_on(signaling::run(&server, &sizes, parts))?;
            finish(&opts.out, &figures)
        }
        "download" => {
            let server = opts.server.context("--server <bin> is needed")?;
            let site = opts.site.context("--site <dir> is needed")?;
            let figures = runtime.block_on(download::run(&server, &site, opts.smoke))?;
            finish(&opts.out, &figures)
        }
        "turn" => {
            let sizes = if opts.smoke {
                turn::Sizes::smoke()
            } else {
                turn::Sizes::full()
            };
            let server = opts.server.context("--server <bin> is needed")?;
            let figures = runtime.block_on(turn::run(&server, &sizes))?;
            finish(&opts.out, &figures)
        }
        "abuse" => {
            let sizes = if opts.smoke {
                abuse::Sizes::smoke()
            } else {
                abuse::Sizes::full()
            };
            let server = opts.server.context("--server <bin> is needed")?;
            let figures = runtime.block_on(abuse::run(&server, &sizes))?;
            finish(&opts.out, &figures)
        }
        "report" => {
            let mut all = Vec::new();
            for part in &opts.free {
                all.extend(figures::read(&PathBuf::from(part))?);
            }
            print!("{}", figures::table(&all));
            if let Some(out) = &opts.out {
                figures::write(out, &all)?;
                println!("wrote {}", out.display());
            }
            Ok(())
        }
        other => bail!("unknown command {other:?}"),
    }
}

fn finish(out: &Option<PathBuf>, figures: &[figures::Figure]) -> anyhow::Result<()> {
    print!("{}", figures::table(figures));
    if let Some(out) = out {
        figures::write(out, figures)?;
    }
    Ok(())
}

#[derive(Default)]
struct Options {
    server: Option<PathBuf>,
    site: Option<PathBuf>,
    out: Option<PathBuf>,
    smoke: bool,
    free: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut opts = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .map(PathBuf::from)
                    .with_context(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--server" => opts.server = Some(value("--server")?),
                "--site" => opts.site = Some(value("--site")?),
                "--out" => opts.out = Some(value("--out")?),
                "--smoke" => opts.smoke = true,
                flag if flag.starts_with("--") => bail!("unknown option {flag}"),
                free => opts.free.push(free.to_owned()),
            }
        }
        Ok(opts)
    }
}
