//! Which WebSockets may open: caps on sockets that have not logged in yet, per address and in
//! total, and on sockets overall.
//!
//! A socket that has not logged in costs its buffers and a task for up to the login deadline
//! while proving nothing, so a stranger may hold only a few; a logged-in one holds a valid
//! UserSig, and each user has at most one (a second login kicks out the first). The counts are
//! plain numbers under a lock, taken and given back by [`Pending`] and [`Socket`] guards, so a
//! socket that ends in any way gives its places back.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::peer::ClientIp;

#[derive(Clone, Copy, Debug)]
pub struct AdmissionLimits {
    /// Sockets not logged in yet, from one address.
    pub pending_per_ip: usize,
    /// Sockets not logged in yet, from everywhere.
    pub pending: usize,
    /// Sockets of any kind.
    pub sockets: usize,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        Self {
            pending_per_ip: 16,
            pending: 1024,
            sockets: 20_000,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too many sockets from this address still logging in.
    Address,
    /// Too many sockets in all.
    Full,
}

#[derive(Default)]
struct Counts {
    sockets: usize,
    pending: usize,
    pending_by_ip: HashMap<ClientIp, usize>,
}

pub struct Admission {
    limits: AdmissionLimits,
    counts: Mutex<Counts>,
}

/// A place among all sockets, given back on drop.
pub struct Socket {
    admission: Arc<Admission>,
}

/// A place among the sockets still logging in, given back on drop (at login, or at the end).
pub struct Pending {
    admission: Arc<Admission>,
    ip: ClientIp,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sockets open now.
    pub fn sockets(&self) -> usize {
        self.counts().sockets
    }

    /// A place for a new socket from `ip`, counted as logging in.
    pub fn admit(self: &Arc<Self>, ip: ClientIp) -> Result<(Socket, Pending), Refused> {
        let mut counts = self.counts();
        if counts.sockets >= self.limits.sockets || counts.pending >= self.limits.pending {
            return Err(Refused::Full);
        }
        let from_ip = counts.pending_by_ip.get(&ip).copied().unwrap_or(0);
        if from_ip >= self.limits.pending_per_ip {
            return Err(Refused::Address);
        }
        counts.sockets += 1;
        counts.pending += 1;
        counts.pending_by_ip.insert(ip, from_ip + 1);
        Ok((
            Socket {
                admission: self.clone(),
            },
            Pending {
                admission: self.clone(),
                ip,
            },
        ))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        counts.sockets = counts.sockets.saturating_sub(1);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        counts.pending = counts.pending.saturating_sub(1);
        if let Some(n) = counts.pending_by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.pending_by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> ClientIp {
        ClientIp(std::net::IpAddr::from([198, 51, 100, last]))
    }

    #[test]
    fn pending_sockets_are_capped_per_address_and_in_total() {
        let admission = Admission::new(AdmissionLimits {
            pending_per_ip: 2,
            pending: 3,
            sockets: 4,
        });
        let a1 = admission.admit(ip(1)).unwrap();
        let a2 = admission.admit(ip(1)).unwrap();
        assert_eq!(admission.admit(ip(1)).err(), Some(Refused::Address));
        let b1 = admission.admit(ip(2)).unwrap();
        assert_eq!(admission.admit(ip(3)).err(), Some(Refused::Full));

        // Logging in frees a pending place but keeps the socket's.
        let (a1_socket, a1_pending) = a1;
        drop(a1_pending);
        let a3 = admission.admit(ip(1)).unwrap();
        assert_eq!(
            admission.admit(ip(4)).err(),
            Some(Refused::Full),
            "four sockets"
        );
        drop(a1_socket);
        drop((a2, b1, a3));
        assert!(admission.counts().pending_by_ip.is_empty());
        assert_eq!(admission.counts().sockets, 0);
        assert!(admission.admit(ip(1)).is_ok());
    }
}
