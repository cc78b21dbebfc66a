//! Just enough HTTP/1.1 to post the sign-in form and read where it redirects. Written out here
//! rather than taken from an HTTP client crate: a client would switch on hyper's client features
//! and so rebuild the whole server stack a second time.

use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
}

impl Reply {
    /// The forms answer a successful sign-in (or sign-up) by redirecting home.
    pub fn signed_in(&self) -> bool {
        self.status == 303 && self.location.as_deref() == Some("/")
    }
}

/// `application/x-www-form-urlencoded` for ASCII letters, digits and spaces, all the
/// benchmark's accounts use.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn post_form(addr: SocketAddr, path: &str, body: &str) -> anyhow::Result<Reply> {
    post_form_from(None, addr, path, body).await
}

/// Like [`post_form`], from the loopback address `source` if given.
pub async fn post_form_from(
    source: Option<IpAddr>,
    addr: SocketAddr,
    path: &str,
    body: &str,
) -> anyhow::Result<Reply> {
    let mut stream = connect_from(source, addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    parse(&String::from_utf8_lossy(&response))
}

/// A TCP connection to `addr`, from `source` (any loopback address: all of 127/8 is this
/// machine's) when given, so that one generator can look like many clients.
pub async fn connect_from(source: Option<IpAddr>, addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(addr).await.context("connecting");
    };
    let socket = match source {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket
        .bind(SocketAddr::new(source, 0))
        .with_context(|| format!("binding {source}"))?;
    let stream = socket.connect(addr).await.context("connecting")?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn parse(response: &str) -> anyhow::Result<Reply> {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let Some(status) = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
    else {
        bail!("not an HTTP response: {status_line:?}");
    };
    let location = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    Ok(Reply { status, location })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_and_location() {
        let r =
            parse("HTTP/1.1 303 See Other\r\nlocation: /\r\ncontent-length: 0\r\n\r\n").unwrap();
        assert!(r.signed_in());
        let r =
            parse("HTTP/1.1 303 See Other\r\nLocation: /login?error=credentials\r\n\r\n").unwrap();
        assert!(!r.signed_in());
        assert_eq!(r.location.as_deref(), Some("/login?error=credentials"));
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn encodes_spaces() {
        assert_eq!(
            form(&[("user_id", "s1"), ("password", "a b")]),
            "user_id=s1&password=a+b"
        );
    }
}
