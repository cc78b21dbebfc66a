//! TURN over TCP: STUN messages and ChannelData back to back in one stream (RFC 8656 §12.5:
//! ChannelData padded to a multiple of four bytes over TCP). The relay's machine gets whole
//! frames; anything else ends the connection, so a stranger cannot make us buffer garbage.

/// Whole frames from a TCP stream, at most one frame's worth buffered.
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
}

/// The stream is not TURN.
#[derive(Debug, PartialEq, Eq)]
pub struct NotTurn;

const STUN_HEADER: usize = 20;
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];

impl Framer {
    /// Appends `data`, then hands each whole frame (without ChannelData padding) to `frame`.
    pub fn push(&mut self, data: &[u8], mut frame: impl FnMut(&[u8])) -> Result<(), NotTurn> {
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some((len, padded)) = next_frame(&self.buf[start..])? {
            frame(&self.buf[start..start + len]);
            start += padded;
        }
        self.buf.drain(..start);
        Ok(())
    }
}

/// The length of the frame at the start of `buf`, and with its padding; `None` until whole.
fn next_frame(buf: &[u8]) -> Result<Option<(usize, usize)>, NotTurn> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let body = u16::from_be_bytes([buf[2], buf[3]]) as usize;
    let (len, padded) = match buf[0] >> 6 {
        0b00 => {
            if buf.len() >= 8 && buf[4..8] != MAGIC_COOKIE || !body.is_multiple_of(4) {
                return Err(NotTurn);
            }
            (STUN_HEADER + body, STUN_HEADER + body)
        }
        // Channel numbers are 0x4000 to 0x4FFF.
        0b01 if buf[0] <= 0x4F => (4 + body, 4 + body.next_multiple_of(4)),
        _ => return Err(NotTurn),
    };
    Ok((buf.len() >= padded).then_some((len, padded)))
}

/// `frame` as it goes on a TCP stream: ChannelData padded.
pub fn pad(mut frame: Vec<u8>) -> Vec<u8> {
    if frame.first().is_some_and(|b| b >> 6 == 0b01) {
        frame.resize(frame.len().next_multiple_of(4), 0);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(body: usize) -> Vec<u8> {
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&(body as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[7; 12]);
        m.extend(std::iter::repeat_n(1, body));
        m
    }

    fn channel(data: &[u8]) -> Vec<u8> {
        let mut c = vec![0x40, 0x00];
        c.extend_from_slice(&(data.len() as u16).to_be_bytes());
        c.extend_from_slice(data);
        c
    }

    fn frames(framer: &mut Framer, data: &[u8]) -> Result<Vec<Vec<u8>>, NotTurn> {
        let mut out = Vec::new();
        framer.push(data, |f| out.push(f.to_vec()))?;
        Ok(out)
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let mut stream = stun(8);
        stream.extend(pad(channel(&[1, 2, 3, 4, 5])));
        stream.extend(stun(0));
        for cut in 0..stream.len() {
            let mut f = Framer::default();
            let mut out = frames(&mut f, &stream[..cut]).unwrap();
            out.extend(frames(&mut f, &stream[cut..]).unwrap());
            assert_eq!(
                out,
                [stun(8), channel(&[1, 2, 3, 4, 5]), stun(0)],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn garbage_ends_the_stream() {
        assert_eq!(
            frames(&mut Framer::default(), b"POST / HTTP/1.1\r\n"),
            Err(NotTurn)
        );
        let mut bad_cookie = stun(0);
        bad_cookie[4] = 0;
        assert_eq!(frames(&mut Framer::default(), &bad_cookie), Err(NotTurn));
    }

    #[test]
    fn the_buffer_holds_at_most_one_frame() {
        let mut f = Framer::default();
        let big = stun(65532);
        frames(&mut f, &big[..60_000]).unwrap();
        assert!(f.buf.len() <= big.len());
        assert_eq!(frames(&mut f, &big[60_000..]).unwrap(), [big]);
        assert!(f.buf.is_empty());
    }
}
