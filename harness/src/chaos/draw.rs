//! Drawing a schedule from a seed: pure, no I/O. Schedule `i` of seed `s` is the same on every
//! machine and does not depend on the schedules before it, so one can be replayed alone.

use crate::fixture::{FaultTarget, Tolerance, WritePath};
use crate::services::{FaultAction, NetworkFault, ProxyName, ServiceName};
use std::time::Duration;

/// SplitMix64: tiny, well mixed, and ours (a dependency's generator may change between
/// versions, and a printed seed must keep meaning the same schedule).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (modulo bias is irrelevant at these ranges).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo) + 1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() as u64 - 1) as usize]
    }

    /// True with `percent`% probability.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
}

/// What may be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    pub records: (u64, u64),
    pub faults: (usize, usize),
    /// Seconds a `stop` or `pause` holds.
    pub down_secs: (u64, u64),
    pub max_partitions: i32,
    pub max_sinks: u32,
    /// Services a fault may strike (ZooKeeper only where Kafka runs with it).
    pub services: Vec<ServiceName>,
    /// Whether a schedule may start with a service down before the sinks start.
    pub at_start: bool,
    /// Whether faults on the Toxiproxy proxies are drawn too (the services then run with
    /// them: [`crate::services::Services::start_proxied`]).
    pub network: bool,
    /// Whether bad records may be mixed in (`@bad every=N`, under `errors.tolerance=all`).
    pub bad: bool,
}

impl Bounds {
    /// `harness chaos`: the ranges.
    pub fn full(zookeeper: bool) -> Bounds {
        let mut services = vec![ServiceName::QuestDb, ServiceName::Kafka];
        if zookeeper {
            services.push(ServiceName::ZooKeeper);
        }
        Bounds {
            records: (5_000, 20_000),
            faults: (1, 4),
            down_secs: (2, 10),
            max_partitions: 4,
            max_sinks: 2,
            services,
            at_start: true,
            network: true,
            bad: true,
        }
    }

    /// Short schedules for the integration test: few records, one fault, QuestDB and the sinks
    /// only (a Kafka restart alone takes longer than the test's budget on a loaded machine).
    pub fn quick() -> Bounds {
        Bounds {
            records: (2_000, 4_000),
            faults: (1, 1),
            down_secs: (1, 3),
            max_partitions: 2,
            max_sinks: 2,
            services: vec![ServiceName::QuestDb],
            at_start: false,
            network: false,
            bad: false,
        }
    }
}

/// One fault of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Records stored before it strikes; `None`: before the sinks start (`at=start`).
    pub after: Option<u64>,
    pub target: FaultTarget,
    pub action: FaultAction,
}

impl Fault {
    /// The `@fault` line's words after `@fault `.
    pub fn directive(&self) -> String {
        let when = match self.after {
            Some(n) => format!("after={n}"),
            None => "at=start".into(),
        };
        let (verb, down) = match self.action {
            FaultAction::Kill => ("kill", None),
            FaultAction::Restart => ("restart", None),
            FaultAction::Stop { down } => ("stop", Some(down)),
            FaultAction::Pause { down } => ("pause", Some(down)),
            // Not drawn: a dropped table, an HTTP status and a late topic are no process faults.
            FaultAction::Drop => ("drop", None),
            FaultAction::Answer { .. } => ("http-503", None),
            FaultAction::Create { late } => ("create", Some(late)),
            FaultAction::Network { fault, held } => {
                let proxy = match self.target {
                    FaultTarget::Proxy(p) => p.to_string(),
                    t => t.to_string(),
                };
                let words = network_words(fault);
                return format!("{when} {words} {proxy} for={}s", held.as_secs());
            }
            // Not drawn: chaos runs on one broker.
            FaultAction::Shutdown { hard: false } => ("clean-shutdown", None),
            FaultAction::Shutdown { hard: true } => ("hard-shutdown", None),
        };
        match down {
            Some(d) => format!("{when} {verb} {} for={}s", self.target, d.as_secs()),
            None => format!("{when} {verb} {}", self.target),
        }
    }

    /// `pause questdb`, `kill sink`: what the summary counts (every task is `sink`).
    pub fn kind(&self) -> String {
        let verb = match self.action {
            FaultAction::Kill => "kill",
            FaultAction::Restart => "restart",
            FaultAction::Stop { .. } => "stop",
            FaultAction::Pause { .. } => "pause",
            FaultAction::Drop => "drop",
            FaultAction::Answer { .. } => "http",
            FaultAction::Create { .. } => "create",
            FaultAction::Network { fault, .. } => match fault {
                NetworkFault::Latency(_) => "latency",
                NetworkFault::Timeout => "timeout",
                NetworkFault::Reset => "reset",
                NetworkFault::Bandwidth { .. } => "bandwidth",
                NetworkFault::Down => "down",
            },
            FaultAction::Shutdown { .. } => "shutdown",
        };
        let target = match self.target {
            FaultTarget::Sink { .. } => "sink".to_string(),
            FaultTarget::Proxy(p) => p.to_string(),
            t => t.to_string(),
        };
        format!("{verb} {target}")
    }
}

/// A network fault's ACTION word of a `@fault` line (`harness/src/fixture/network.rs`).
fn network_words(fault: NetworkFault) -> String {
    match fault {
        NetworkFault::Latency(d) => format!("latency={}ms", d.as_millis()),
        NetworkFault::Timeout => "timeout".into(),
        NetworkFault::Reset => "reset".into(),
        NetworkFault::Bandwidth { kb_per_s } => format!("bandwidth={kb_per_s}"),
        NetworkFault::Down => "down".into(),
    }
}

/// The proxies a write path's sink dials: Kafka always; QuestDB's PG port where the sink
/// creates tables or writes over it (the ILP path of the JDBC mapping issues its DDL over
/// PG); its HTTP port where rows go over ILP.
fn proxies_of(path: WritePath) -> &'static [ProxyName] {
    match path {
        WritePath::Pg => &[ProxyName::Kafka, ProxyName::QuestDbPg],
        WritePath::Ilp => &[
            ProxyName::Kafka,
            ProxyName::QuestDbHttp,
            ProxyName::QuestDbPg,
        ],
        WritePath::Connector => &[ProxyName::Kafka, ProxyName::QuestDbHttp],
    }
}

/// A network fault with its amount: latency 100 ms-2 s, bandwidth 16-256 KB/s.
fn draw_network(rng: &mut Rng) -> NetworkFault {
    match rng.range(0, 4) {
        0 => NetworkFault::Latency(Duration::from_millis(rng.range(100, 2_000))),
        1 => NetworkFault::Timeout,
        2 => NetworkFault::Reset,
        3 => NetworkFault::Bandwidth {
            kb_per_s: rng.range(16, 256),
        },
        _ => NetworkFault::Down,
    }
}

/// A drawn schedule: everything a fault case file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub seed: u64,
    pub index: u32,
    pub path: WritePath,
    pub tolerance: Tolerance,
    /// A native DEDUP table (`pk.mode=kafka`): drawn on PG wire only (see [`draw`]).
    pub dedup: bool,
    pub records: u64,
    pub partitions: i32,
    pub sinks: u32,
    /// `@bad every=N`: every Nth record is bad, for the dead letter topic (tolerance all).
    pub bad_every: Option<u64>,
    pub faults: Vec<Fault>,
}

/// Schedule `index` of `seed`.
///
/// DEDUP is drawn on the PG wire path only: that is where `pk.mode=kafka` is documented to
/// create the table with DEDUP keys (`docs/native-tables.md`); over ILP the table's keys come
/// from whoever created it.
pub fn draw(seed: u64, index: u32, bounds: &Bounds) -> Schedule {
    // Each schedule its own stream: a mix of the seed and the index.
    let mut rng = Rng::new(seed ^ u64::from(index).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    rng.next_u64();
    let path = rng.pick(&[WritePath::Pg, WritePath::Ilp, WritePath::Connector]);
    let tolerance = rng.pick(&[Tolerance::None, Tolerance::All]);
    // Only under `all`: under `none` a bad record stops the sink, by design.
    let bad_every = (bounds.bad && tolerance == Tolerance::All && rng.chance(50))
        .then(|| rng.range(100, 1_000));
    let dedup = path == WritePath::Pg && rng.chance(50);
    let records = rng.range(bounds.records.0, bounds.records.1);
    let partitions = rng.range(1, bounds.max_partitions.max(1) as u64) as i32;
    let sinks = rng.range(1, bounds.max_sinks.max(1) as u64) as u32;
    let count = rng.range(bounds.faults.0 as u64, bounds.faults.1 as u64) as usize;

    let mut targets: Vec<FaultTarget> = bounds
        .services
        .iter()
        .map(|&s| FaultTarget::Service(s))
        .collect();
    targets.extend((0..sinks).map(|task| FaultTarget::Sink { task }));
    if bounds.network {
        targets.extend(proxies_of(path).iter().map(|&p| FaultTarget::Proxy(p)));
    }
    let mut faults = Vec::with_capacity(count);
    let at_start = bounds.at_start && count > 0 && rng.chance(10);
    if at_start {
        let starters: Vec<ServiceName> = bounds
            .services
            .iter()
            .copied()
            .filter(|s| *s != ServiceName::ZooKeeper)
            .collect();
        if !starters.is_empty() {
            let down = Duration::from_secs(rng.range(bounds.down_secs.0, bounds.down_secs.1));
            faults.push(Fault {
                after: None,
                target: FaultTarget::Service(rng.pick(&starters)),
                action: FaultAction::Stop { down },
            });
        }
    }
    // Strictly rising `after`s between 5% and 90% of the records.
    let mut afters: Vec<u64> = Vec::new();
    let (lo, hi) = (records / 20, records * 9 / 10);
    while afters.len() < count - faults.len() {
        let n = rng.range(lo.max(1), hi);
        if !afters.contains(&n) {
            afters.push(n);
        }
    }
    afters.sort_unstable();
    for after in afters {
        let target = rng.pick(&targets);
        let down = Duration::from_secs(rng.range(bounds.down_secs.0, bounds.down_secs.1));
        let action = match (target, rng.range(0, 3)) {
            (FaultTarget::Proxy(_), _) => FaultAction::Network {
                fault: draw_network(&mut rng),
                held: down,
            },
            (_, 0) => FaultAction::Kill,
            (_, 1) => FaultAction::Restart,
            (_, 2) => FaultAction::Stop { down },
            _ => FaultAction::Pause { down },
        };
        faults.push(Fault {
            after: Some(after),
            target,
            action,
        });
    }
    Schedule {
        seed,
        index,
        path,
        tolerance,
        dedup,
        records,
        partitions,
        sinks,
        bad_every,
        faults,
    }
}

impl Schedule {
    /// The topic a printed case names: its variant's label is appended by the fixture.
    pub fn topic(&self) -> String {
        format!("chaos-{}-{}", self.seed, self.index)
    }

    /// `pg-all dedup 12000 rec 2p 1s: after=2400 kill questdb; ...`
    pub fn summary(&self) -> String {
        let faults: Vec<String> = self.faults.iter().map(Fault::directive).collect();
        format!(
            "{}-{}{}{} {} rec {}p {}s: {}",
            self.path.label(),
            self.tolerance.label(),
            if self.dedup { " dedup" } else { "" },
            self.bad_every
                .map_or(String::new(), |n| format!(" bad/{n}")),
            self.records,
            self.partitions,
            self.sinks,
            faults.join("; ")
        )
    }

    /// The schedule as a fault case file (`harness/src/fixture.rs`'s format), ready to commit
    /// under `fixtures/faults/`.
    pub fn case_text(&self) -> String {
        let mut t = format!(
            "# Drawn by `harness chaos --seed {seed}`: schedule {index} ({summary}).\n\
             # Replay: cargo test -p kq-conformance --test faults -- chaos_{seed}_{index}\n",
            seed = self.seed,
            index = self.index,
            summary = self.summary(),
        );
        t.push_str(&format!("@topic {}\n", self.topic()));
        // Retries outlast every drawn outage: giving up is not what a schedule tests.
        t.push_str("@set max.retries=600\n@set retry.backoff.ms=500\n");
        if self.dedup {
            t.push_str("@set timestamp.kafka.native=true\n@set pk.mode=kafka\n");
        }
        t.push_str(&format!("@records {}\n", self.records));
        if let Some(n) = self.bad_every {
            t.push_str(&format!("@bad every={n}\n"));
        }
        if self.partitions > 1 {
            t.push_str(&format!("@partitions {}\n", self.partitions));
        }
        if self.sinks > 1 {
            t.push_str(&format!("@sinks {}\n", self.sinks));
        }
        t.push_str(&format!("@paths {}\n", self.path.label()));
        t.push_str(&format!("@tolerance {}\n", self.tolerance.label()));
        for f in &self.faults {
            t.push_str(&format!("@fault {}\n", f.directive()));
        }
        t
    }

    /// The file name a printed case gets.
    pub fn file_name(&self) -> String {
        format!("chaos-{}-{}.case", self.seed, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Case;
    use std::path::Path;

    #[test]
    fn a_seed_draws_the_same_schedules_every_time() {
        let b = Bounds::full(true);
        for i in 0..20 {
            assert_eq!(draw(7, i, &b), draw(7, i, &b));
        }
        let first: Vec<Schedule> = (0..20).map(|i| draw(1, i, &b)).collect();
        let other: Vec<Schedule> = (0..20).map(|i| draw(2, i, &b)).collect();
        assert_ne!(first, other);
        // Not one schedule over and over.
        assert!(first.iter().any(|s| s.faults != first[0].faults));
    }

    #[test]
    fn schedules_stay_in_their_ranges() {
        let b = Bounds::full(true);
        let mut paths = std::collections::HashSet::new();
        let mut actions = std::collections::HashSet::new();
        let mut bad = 0;
        for seed in 0..5 {
            for i in 0..100 {
                let s = draw(seed, i, &b);
                assert!((5_000..=20_000).contains(&s.records), "{s:?}");
                assert!((1..=4).contains(&s.partitions), "{s:?}");
                assert!((1..=2).contains(&s.sinks), "{s:?}");
                assert!((1..=4).contains(&s.faults.len()), "{s:?}");
                assert!(!s.dedup || s.path == WritePath::Pg, "{s:?}");
                assert!(
                    s.bad_every.is_none() || s.tolerance == Tolerance::All,
                    "{s:?}"
                );
                bad += u32::from(s.bad_every.is_some());
                paths.insert(s.path.label());
                let afters: Vec<u64> = s.faults.iter().filter_map(|f| f.after).collect();
                assert!(afters.windows(2).all(|w| w[0] < w[1]), "{s:?}");
                assert!(afters.iter().all(|&a| a > 0 && a < s.records), "{s:?}");
                for (n, f) in s.faults.iter().enumerate() {
                    actions.insert(f.kind());
                    if let FaultTarget::Sink { task } = f.target {
                        assert!(task < s.sinks, "{s:?}");
                    }
                    assert!(f.after.is_some() || n == 0, "{s:?}");
                    assert!(!matches!(
                        f.action,
                        FaultAction::Drop | FaultAction::Answer { .. }
                    ));
                    if let FaultAction::Stop { down }
                    | FaultAction::Pause { down }
                    | FaultAction::Network { held: down, .. } = f.action
                    {
                        assert!((2..=10).contains(&down.as_secs()), "{s:?}");
                    }
                    if let FaultTarget::Proxy(p) = f.target {
                        assert!(proxies_of(s.path).contains(&p), "{s:?}");
                        assert!(matches!(f.action, FaultAction::Network { .. }), "{s:?}");
                    }
                }
            }
        }
        assert_eq!(paths.len(), 3);
        // About a quarter of the schedules mix bad records in.
        assert!((50..200).contains(&bad), "{bad} of 500");
        // Every verb on every service and the sink comes up in 500 schedules, and every
        // network fault on every proxy.
        for verb in ["kill", "restart", "stop", "pause"] {
            for target in ["questdb", "kafka", "zookeeper", "sink"] {
                assert!(
                    actions.contains(&format!("{verb} {target}")),
                    "{verb} {target}"
                );
            }
        }
        for verb in ["latency", "timeout", "reset", "bandwidth", "down"] {
            for target in ["kafka", "questdb-pg", "questdb-http"] {
                assert!(
                    actions.contains(&format!("{verb} {target}")),
                    "{verb} {target}"
                );
            }
        }
    }

    #[test]
    fn quick_bounds_keep_to_questdb_and_the_sinks() {
        let b = Bounds::quick();
        for i in 0..50 {
            let s = draw(1, i, &b);
            assert_eq!(s.faults.len(), 1);
            assert!(s.records <= 4_000);
            assert!(matches!(
                s.faults[0].target,
                FaultTarget::Service(ServiceName::QuestDb) | FaultTarget::Sink { .. }
            ));
        }
    }

    #[test]
    fn every_drawn_schedule_is_a_fault_case_the_fixture_parser_takes() {
        let b = Bounds::full(true);
        for i in 0..200 {
            let s = draw(3, i, &b);
            let text = s.case_text();
            let case = Case::parse(Path::new(&s.file_name()), &s.file_name(), &text)
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            let variants = case.variants();
            assert_eq!(variants.len(), 1, "{text}");
            let scenario = variants[0].scenario.as_ref().unwrap();
            assert_eq!(scenario.records, s.records);
            assert_eq!(scenario.bad_every, s.bad_every);
            assert_eq!(scenario.faults.len(), s.faults.len());
            assert_eq!(
                scenario.network_faults(),
                s.faults
                    .iter()
                    .any(|f| matches!(f.target, FaultTarget::Proxy(_))),
                "{text}"
            );
            for (parsed, drawn) in scenario.faults.iter().zip(&s.faults) {
                assert_eq!(
                    (parsed.target, parsed.action, parsed.at_start),
                    (drawn.target, drawn.action, drawn.after.is_none())
                );
            }
        }
    }
}
