//! What a visitor downloads (the site's Wasm, JavaScript and CSS: raw, gzip and brotli at their
//! best levels, and what the server actually sends), and how long the server takes to render
//! the sign-in page, measured with wrk against a static file from the same server.

use std::{net::SocketAddr, path::Path, process::Command};

use anyhow::{bail, Context};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use server::assets::{brotli, gzip};

use crate::{children::Child, figures::Figure};

pub async fn run(server_bin: &Path, site: &Path, smoke: bool) -> anyhow::Result<Vec<Figure>> {
    let pkg = site.join("pkg");
    // A smoke run only checks that everything works: the fastest levels will do.
    let levels = if smoke {
        Levels { gzip: 1, brotli: 1 }
    } else {
        Levels {
            gzip: 9,
            brotli: 11,
        }
    };
    let mut figures = compressed_sizes(&pkg, &levels)?;

    let server = Child::server(server_bin, Some(site))?;
    if !smoke {
        // The server precompresses in the background after it starts; measure what it sends
        // once that is done.
        wait_for_precompressed(&pkg, &server).await?;
    }
    figures.extend(served_sizes(server.addr).await?);
    let requests = if smoke { 50 } else { 1000 };
    figures.push(render_time(&server, requests)?);
    Ok(figures)
}

/// The compression settings measured offline.
struct Levels {
    gzip: u32,
    brotli: i32,
}

/// Each file raw, gzipped and brotli-compressed at `levels`, then the three files together.
fn compressed_sizes(pkg: &Path, levels: &Levels) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let labels = [
        "raw".to_owned(),
        format!("gzip -{}", levels.gzip),
        format!("brotli -{}", levels.brotli),
    ];
    let mut total = [0.0; 3];
    for (file, what) in [
        ("calling.wasm", "Wasm"),
        ("calling.js", "JS"),
        ("calling.css", "CSS"),
    ] {
        let path = pkg.join(file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let sizes = [
            bytes.len(),
            gzip(&bytes, levels.gzip)?.len(),
            brotli(&bytes, levels.brotli)?.len(),
        ];
        for (i, size) in sizes.into_iter().enumerate() {
            let kb = size as f64 / 1000.0;
            total[i] += kb;
            let mut figure = Figure::new("download", format!("{what} {}", labels[i]), kb, "kB");
            if what == "Wasm" && i == 1 {
                figure = figure.limited_by("target <= 250 kB");
            }
            figures.push(figure);
        }
    }
    for (label, sum) in labels.iter().zip(total) {
        figures.push(Figure::new(
            "download",
            format!("all three, {label}"),
            sum,
            "kB",
        ));
    }
    Ok(figures)
}

/// Waits (two minutes at most) until the server has written its compressed copies of the Wasm.
async fn wait_for_precompressed(pkg: &Path, server: &Child) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !["br", "gz"]
        .iter()
        .all(|ext| pkg.join(format!("calling.wasm.{ext}")).exists())
    {
        if std::time::Instant::now() > deadline {
            bail!(
                "the server did not precompress calling.wasm:\n{}",
                server.log()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}

/// What the server actually sends of the Wasm, with each encoding a browser asks for.
async fn served_sizes(addr: SocketAddr) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for (encoding, what) in [("br", "brotli"), ("gzip", "gzip")] {
        let sent = served_size(addr, "/pkg/calling.wasm", encoding).await?;
        figures.push(
            Figure::new(
                "download",
                format!("Wasm as served, {what}"),
                sent as f64 / 1000.0,
                "kB",
            )
            .limited_by("compression level the server uses"),
        );
    }
    Ok(figures)
}

/// The sign-in page's render time, against a static file from the same server.
fn render_time(server: &Child, requests: usize) -> anyhow::Result<Figure> {
    let page = wrk_median(server.addr, "/login", requests).with_context(|| server.log())?;
    let file = wrk_median(server.addr, "/favicon.svg", requests)?;
    Ok(Figure::new(
        "download",
        format!("render /login, median of {requests}"),
        page,
        "ms",
    )
    .against(file)
    .limited_by("baseline: /favicon.svg from the same server"))
}

/// The body size of `path` as the server sends it with `Accept-Encoding: encoding`.
async fn served_size(addr: SocketAddr, path: &str, encoding: &str) -> anyhow::Result<usize> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        bail!("no end of headers in the reply to {path}");
    };
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = &response[split + 4..];
    if !head.starts_with("http/1.1 200") {
        bail!("{path}: {}", head.lines().next().unwrap_or(""));
    }
    if !head.contains(&format!("content-encoding: {encoding}")) {
        bail!("{path} was not sent with {encoding}");
    }
    if head.contains("transfer-encoding: chunked") {
        dechunked_len(body)
    } else {
        Ok(body.len())
    }
}

/// The payload length of a chunked body.
fn dechunked_len(mut body: &[u8]) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            bail!("truncated chunked body");
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        if size == 0 {
            return Ok(total);
        }
        total += size;
        body = body.get(eol + 2 + size + 2..).context("truncated chunk")?;
    }
}

/// The median latency in milliseconds of `requests` sequential GETs of `path`, by wrk.
fn wrk_median(addr: SocketAddr, path: &str, requests: usize) -> anyhow::Result<f64> {
    let script = std::env::temp_dir().join(format!("bench-wrk-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            r#"local n = 0
response = function(status, headers, body)
  n = n + 1
  if status ~= 200 then io.stderr:write("status " .. status .. "\n") end
  if n >= {requests} then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d\nmedian_us %d\nerrors %d\n", summary.requests,
    latency:percentile(50), summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"#
        ),
    )?;
    let output = Command::new("wrk")
        .args(["-t1", "-c1", "-d60s", "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://{addr}{path}"))
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    match (field("median_us"), field("errors"), field("requests")) {
        (Some(median), Some(errors), Some(done)) if errors == 0.0 && done >= requests as f64 => {
            Ok(median / 1000.0)
        }
        _ => bail!(
            "wrk on {path} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_lengths_add_up() {
        assert_eq!(
            dechunked_len(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(),
            5
        );
        assert!(dechunked_len(b"3\r\nab").is_err());
        assert!(dechunked_len(b"zz\r\n").is_err());
    }
}
