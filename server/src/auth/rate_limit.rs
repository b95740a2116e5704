//! Sign-in attempt limits: at most 5 failures per account and per peer address in a
//! sliding minute; the 6th attempt is refused before the password is even checked.
//! In memory: it protects one berth process (run one per database, as the worker does).

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked keys, idle ones are swept on the next failure.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Peer(IpAddr),
}

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `Err(retry_after)` when the account or the peer used up its failures.
    pub fn check(&self, email: &str, peer: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().expect("limiter lock");
        let mut wait = None;
        for key in [Key::Account(email.to_owned()), Key::Peer(peer)] {
            if let Some(times) = map.get_mut(&key) {
                prune(times, now);
                if times.len() >= MAX_FAILURES {
                    let retry = WINDOW.saturating_sub(now.duration_since(times[0]));
                    wait = Some(wait.map_or(retry, |w: Duration| w.max(retry)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, email: &str, peer: IpAddr, now: Instant) {
        let mut map = self.failures.lock().expect("limiter lock");
        if map.len() > SWEEP_AT {
            map.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
        }
        for key in [Key::Account(email.to_owned()), Key::Peer(peer)] {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// A correct password clears the account's failures (not the peer's).
    pub fn record_success(&self, email: &str) {
        self.failures
            .lock()
            .expect("limiter lock")
            .remove(&Key::Account(email.to_owned()));
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn sixth_attempt_within_a_minute_is_refused() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.check("ada@x.io", A, t0).is_ok(), "attempt {}", i + 1);
            l.record_failure("ada@x.io", A, t0);
        }
        let wait = l
            .check("ada@x.io", A, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            l.check("ada@x.io", A, t0 + WINDOW).is_ok(),
            "window slid past"
        );
    }

    #[test]
    fn account_limit_holds_across_peers_and_peer_limit_across_accounts() {
        let l = LoginLimiter::default();
        let t = Instant::now();
        for i in 0..5 {
            l.record_failure("ada@x.io", if i % 2 == 0 { A } else { B }, t);
        }
        assert!(l
            .check("ada@x.io", IpAddr::from([192, 0, 2, 9]), t)
            .is_err());
        let l = LoginLimiter::default();
        for i in 0..5 {
            l.record_failure(&format!("u{i}@x.io"), A, t);
        }
        assert!(l.check("new@x.io", A, t).is_err());
        assert!(l.check("new@x.io", B, t).is_ok());
    }

    #[test]
    fn success_clears_the_account_only() {
        let l = LoginLimiter::default();
        let t = Instant::now();
        for _ in 0..5 {
            l.record_failure("ada@x.io", A, t);
        }
        l.record_success("ada@x.io");
        assert!(l.check("ada@x.io", B, t).is_ok());
        assert!(
            l.check("ada@x.io", A, t).is_err(),
            "the peer is still limited"
        );
    }
}
