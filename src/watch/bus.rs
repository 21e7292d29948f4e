//! The bus source: `qwatch --bus URL` learns of new versions from
//! `qsnap serve`'s events and reads the heads with HEADS.
//!
//! Events are a doorbell, the store is the truth (SPEC section 9). qwatch
//! subscribes to every event first (sequence numbers are the service's,
//! over all resources, so a gap can only be seen by receiving them all),
//! then asks for the heads. From there an event in sequence updates the
//! heads it knows; anything else makes it ask for the heads again (a
//! *resync*): a gap in the sequence numbers, a new epoch (the service
//! restarted), a heartbeat whose sequence number is ahead or that
//! announces a head it does not know, or no heartbeat for
//! [`HEARTBEAT_MISSED`]. A service that does not answer is retried with a
//! backoff (up to [`MAX_BACKOFF`]), said once on stderr, and said again
//! when it answers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::source::{Heads, Source};
use crate::bus::{Client, Message, Subscriber};
use crate::error::{Error, Result};
use crate::snap::Resource;

/// No heartbeat for this long (the service sends one a second) means
/// events may be lost: resync.
pub const HEARTBEAT_MISSED: Duration = Duration::from_secs(3);
/// The longest pause between two attempts to reach a silent service.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a wait looks at the runner's signal pipe at most (nng cannot
/// wait on it): the service's heartbeats end a receive every second
/// anyway, so an idle watcher wakes about once a second, not ten times.
const SIGNAL_CHECK: Duration = Duration::from_secs(1);

/// `qsnap serve`, watched.
pub struct BusSource {
    rep: String,
    /// `--events`, else what HEADS says.
    events: Option<String>,
    token: Option<String>,
    client: Option<Client>,
    sub: Option<Subscriber>,
    epoch: Option<u64>,
    seq: u64,
    known: BTreeMap<Resource, String>,
    /// Ask the service for the heads at the next `heads`.
    resync: bool,
    last_heartbeat: Instant,
    /// When the service failed, the next attempt and the pause after it.
    retry: Option<(Instant, Duration)>,
    said_down: bool,
    verbose: bool,
    /// `--once`: a service that is away is an error, not something to wait
    /// for (a cron job must not exit 0 having watched nothing).
    fail_fast: bool,
    /// The runner's signal pipe: a wait ends when it is readable.
    wake: Option<std::os::fd::RawFd>,
}

impl BusSource {
    pub fn new(rep: &str, events: Option<String>, token: Option<String>, verbose: bool) -> Self {
        BusSource {
            rep: rep.to_owned(),
            events,
            token,
            client: None,
            sub: None,
            epoch: None,
            seq: 0,
            known: BTreeMap::new(),
            resync: true,
            last_heartbeat: Instant::now(),
            retry: None,
            said_down: false,
            verbose,
            fail_fast: false,
            wake: None,
        }
    }

    /// Whether the runner's signal pipe is readable (a signal came).
    fn signalled(&self) -> bool {
        let Some(fd) = self.wake else {
            return false;
        };
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call's duration; no waiting.
        unsafe { libc::poll(&mut p, 1, 0) > 0 }
    }

    /// The longest a wait may block before looking at the signal pipe.
    fn slice(&self) -> Duration {
        if self.wake.is_some() {
            SIGNAL_CHECK
        } else {
            Duration::MAX
        }
    }

    /// Fails at the first unreachable service instead of retrying
    /// (`qwatch --once`).
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.fail_fast = yes;
        self
    }

    /// Subscribes (when it can: the events address may come from HEADS)
    /// and reads the heads from the service.
    fn fetch(&mut self) -> Result<()> {
        if self.client.is_none() {
            self.client = Some(Client::connect(
                &self.rep,
                self.token.clone(),
                REQUEST_TIMEOUT,
            )?);
        }
        if self.sub.is_none() {
            if let Some(url) = &self.events {
                self.sub = Some(Subscriber::connect(url, std::iter::empty::<&str>())?);
                self.last_heartbeat = Instant::now();
            }
        }
        let client = self.client.as_ref().ok_or_else(|| Error::Unavailable {
            what: self.rep.clone(),
            message: "not connected".into(),
        })?;
        let heads = client.heads()?;
        if self.sub.is_none() {
            // Subscribe first, then read the heads: the reply that told us
            // where events are does not count.
            let url = heads.events_url.clone().ok_or_else(|| Error::Unavailable {
                what: self.rep.clone(),
                message: "the HEADS reply names no events address; give --events URL".into(),
            })?;
            self.sub = Some(Subscriber::connect(&url, std::iter::empty::<&str>())?);
            self.events = Some(url);
            self.last_heartbeat = Instant::now();
            return self.fetch();
        }
        if self.verbose && self.epoch.is_some_and(|e| e != heads.epoch) {
            eprintln!("qwatch: the service restarted (epoch {})", heads.epoch);
        }
        self.epoch = Some(heads.epoch);
        self.seq = heads.seq;
        self.known = heads
            .heads
            .into_iter()
            .map(|(r, c)| (r, c.to_string()))
            .collect();
        self.resync = false;
        Ok(())
    }

    /// A failed request: worth retrying when the service is away or slow.
    fn failed(&mut self, e: Error) -> Result<()> {
        let transient = match &e {
            Error::Unavailable { .. } | Error::Temporary { .. } => true,
            Error::Refused { class, .. } => {
                *class == crate::error::exit::UNAVAILABLE || *class == crate::error::exit::TEMPFAIL
            }
            _ => false,
        };
        if !transient || self.fail_fast {
            return Err(e);
        }
        if !self.said_down {
            eprintln!("qwatch: {e}; retrying until it answers");
            self.said_down = true;
        }
        // A fresh socket next time: nng redials by itself, but a service
        // that was never there at the first dial needs a new one.
        self.client = None;
        self.sub = None;
        self.resync = true;
        let pause = match self.retry {
            None => Duration::from_millis(100),
            Some((_, p)) => (p * 2).min(MAX_BACKOFF),
        };
        self.retry = Some((Instant::now() + pause, pause));
        Ok(())
    }

    fn heads_now(&self) -> Heads {
        Heads {
            epoch: self.epoch.map(|e| e.to_string()),
            seq: self.epoch.map(|_| self.seq),
            heads: self.known.clone(),
        }
    }

    /// Takes in one message; returns whether the heads may have changed.
    fn take(&mut self, msg: Message) -> bool {
        match msg {
            Message::Event(e) => {
                if Some(e.epoch) != self.epoch {
                    self.note(format_args!(
                        "an event of another epoch ({}): resync",
                        e.epoch
                    ));
                    self.resync = true;
                } else if e.seq <= self.seq {
                    // Already covered by the last HEADS reply.
                    return false;
                } else if e.seq != self.seq + 1 {
                    self.note(format_args!(
                        "events {} to {} were lost: resync",
                        self.seq + 1,
                        e.seq - 1
                    ));
                    self.resync = true;
                } else {
                    self.seq = e.seq;
                    self.known.insert(e.resource, e.commit.to_string());
                }
                true
            }
            Message::Heartbeat(h) => {
                self.last_heartbeat = Instant::now();
                let differs = h
                    .heads
                    .iter()
                    .any(|(r, c)| self.known.get(r).is_none_or(|k| *k != c.to_string()));
                if Some(h.epoch) != self.epoch || h.seq > self.seq || (h.seq == self.seq && differs)
                {
                    self.note(format_args!(
                        "the heartbeat (epoch {}, event {}) is ahead of what was seen: resync",
                        h.epoch, h.seq
                    ));
                    self.resync = true;
                    return true;
                }
                false
            }
            Message::Error { .. } => false,
        }
    }

    /// Takes in what is queued already, without waiting: the runner
    /// starts a run on the heads as they are after a wake-up, so a burst
    /// of events is one run on its newest head, however slowly the runner
    /// comes back between wake-ups. Taken one per wake-up, a burst of
    /// 1,000 queued events made 174 runs on a busy machine (each run on
    /// what had been taken when the one before it ended). At most
    /// `QUEUED` at once, so a flood cannot keep the runner from its
    /// commands; and none once a resync is due (the service's heads will
    /// say more than the rest of the queue, which is then behind them).
    fn take_queued(&mut self) -> Result<()> {
        const QUEUED: usize = 10_000;
        for _ in 0..QUEUED {
            if self.resync {
                return Ok(());
            }
            let Some(sub) = self.sub.as_mut() else {
                return Ok(());
            };
            match sub.recv(Duration::ZERO) {
                Ok(Some(msg)) => {
                    self.take(msg);
                }
                Ok(None) => return Ok(()),
                Err(e) => return self.failed(e),
            }
        }
        Ok(())
    }

    fn note(&self, what: std::fmt::Arguments) {
        if self.verbose {
            eprintln!("qwatch: {what}");
        }
    }
}

impl Source for BusSource {
    fn heads(&mut self) -> Result<Heads> {
        if self.resync {
            if self.retry.is_some_and(|(at, _)| Instant::now() < at) {
                return Ok(self.heads_now());
            }
            match self.fetch() {
                Ok(()) => {
                    if self.said_down {
                        eprintln!("qwatch: {} answers again", self.rep);
                        self.said_down = false;
                    }
                    self.retry = None;
                }
                Err(e) => self.failed(e)?,
            }
        }
        Ok(self.heads_now())
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool> {
        loop {
            if self.signalled() {
                return Ok(true);
            }
            let now = Instant::now();
            if self.resync {
                // Down: the next attempt is due, or sleep toward it.
                match self.retry {
                    Some((at, _)) if now < at => {
                        if now >= deadline {
                            return Ok(false);
                        }
                        std::thread::sleep((at.min(deadline) - now).min(self.slice()));
                        continue;
                    }
                    _ => return Ok(true),
                }
            }
            if now.duration_since(self.last_heartbeat) >= HEARTBEAT_MISSED {
                self.note(format_args!(
                    "no heartbeat for {HEARTBEAT_MISSED:?}: resync"
                ));
                self.resync = true;
                return Ok(true);
            }
            if now >= deadline {
                return Ok(false);
            }
            let until = deadline.min(self.last_heartbeat + HEARTBEAT_MISSED);
            let slice = self.slice();
            let Some(sub) = self.sub.as_mut() else {
                self.resync = true;
                return Ok(true);
            };
            match sub.recv(until.saturating_duration_since(now).min(slice)) {
                Ok(Some(msg)) => {
                    if self.take(msg) {
                        self.take_queued()?;
                        return Ok(true);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.failed(e)?;
                    return Ok(true);
                }
            }
        }
    }

    fn wake_on(&mut self, fd: std::os::fd::RawFd) -> bool {
        self.wake = Some(fd);
        true
    }

    fn publish_error(&mut self, app: &str, text: &str) {
        if let Some(client) = &self.client {
            if let Err(e) = client.publish_error(app, text) {
                eprintln!("qwatch: could not publish the failure on `{app} errors`: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::{Event, Heads as BusHeads};
    use git2::Oid;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("oid")
    }

    fn raw() -> Resource {
        Resource::new("qplan", "raw").expect("name")
    }

    /// A source that has read the heads: epoch 7, sequence 10, raw at 1.
    fn synced() -> BusSource {
        let mut s = BusSource::new("ipc:///nowhere", None, None, false);
        s.epoch = Some(7);
        s.seq = 10;
        s.known.insert(raw(), oid(1).to_string());
        s.resync = false;
        s
    }

    fn event(epoch: u64, seq: u64, commit: u8) -> Message {
        Message::Event(Event {
            epoch,
            seq,
            resource: raw(),
            commit: oid(commit),
            parent: Some(oid(1)),
            time: 0,
        })
    }

    fn beat(epoch: u64, seq: u64, commit: u8) -> Message {
        Message::Heartbeat(BusHeads {
            epoch,
            seq,
            heads: vec![(raw(), oid(commit))],
            events_url: None,
        })
    }

    /// A burst queued while the runner was away is taken in at the next
    /// wake-up, not one event a wake-up (one run each on a busy machine).
    #[test]
    fn a_wake_up_takes_in_every_event_queued() {
        use nng::options::{Options, SendBufferSize};
        let url = format!("inproc://qwatch-take-queued-{}", std::process::id());
        let publisher = nng::Socket::new(nng::Protocol::Pub0).expect("pub");
        publisher.set_opt::<SendBufferSize>(8192).expect("buffer");
        publisher.listen(&url).expect("listen");
        let mut s = synced();
        s.sub = Some(Subscriber::connect(&url, std::iter::empty::<&str>()).expect("sub"));
        // Heartbeats that agree with what `s` knows until one arrives: the
        // subscription is then in place (a dial completes in the background).
        let agreed = match beat(7, 10, 1) {
            Message::Heartbeat(h) => crate::bus::proto::encode_heartbeat(&h),
            _ => unreachable!(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            publisher.send(agreed.as_slice()).expect("send");
            let got = s.sub.as_mut().unwrap().recv(Duration::from_millis(10));
            if got.expect("recv").is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "the subscriber never connected");
        }
        for seq in 11..=110u64 {
            let Message::Event(e) = event(7, seq, seq as u8) else {
                unreachable!()
            };
            publisher
                .send(crate::bus::proto::encode_event(&e).as_slice())
                .expect("send");
        }
        let mut wakeups = 0;
        while s.seq < 110 {
            assert!(Instant::now() < deadline, "seq {} of 110", s.seq);
            if s.wait(Instant::now() + Duration::from_millis(100))
                .expect("wait")
            {
                wakeups += 1;
            }
        }
        assert!(!s.resync);
        assert_eq!(s.heads_now().heads.get(&raw()), Some(&oid(110).to_string()));
        // One a wake-up would be 100; nng hands the queue over in a few.
        assert!(wakeups < 100, "{wakeups} wake-ups for 100 events");
    }

    #[test]
    fn an_event_in_sequence_moves_the_head_without_asking() {
        let mut s = synced();
        assert!(s.take(event(7, 11, 2)));
        assert!(!s.resync);
        assert_eq!(s.heads_now().heads.get(&raw()), Some(&oid(2).to_string()));
        assert_eq!(s.heads_now().seq, Some(11));
        // Already covered by the heads reply: nothing to do.
        assert!(!s.take(event(7, 9, 3)));
        assert!(!s.resync);
    }

    #[test]
    fn a_gap_a_new_epoch_or_a_heartbeat_ahead_resyncs() {
        let mut s = synced();
        assert!(s.take(event(7, 12, 2)));
        assert!(s.resync, "gap 11");
        let mut s = synced();
        assert!(s.take(event(8, 11, 2)));
        assert!(s.resync, "new epoch");
        let mut s = synced();
        assert!(s.take(beat(7, 11, 1)));
        assert!(s.resync, "heartbeat ahead");
        let mut s = synced();
        assert!(s.take(beat(7, 10, 2)));
        assert!(s.resync, "heartbeat with a head not seen");
        let mut s = synced();
        assert!(!s.take(beat(7, 10, 1)));
        assert!(!s.resync, "a heartbeat that agrees");
        let mut s = synced();
        assert!(s.take(beat(9, 10, 1)));
        assert!(s.resync, "heartbeat of another epoch");
    }
}
