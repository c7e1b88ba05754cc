//! Subscribed topics that do not exist yet: the sink waits for them (a Connect task keeps
//! polling too), saying so once when the wait starts, then at most once a `every`; pure.

use std::time::{Duration, Instant};

/// The wait for missing topics, and when it was last logged.
#[derive(Debug)]
pub struct TopicWait {
    every: Duration,
    /// When the topics were last looked up.
    checked: Option<Instant>,
    /// The topics missing, since when, and when the last line was logged.
    waiting: Option<(Vec<String>, Instant, Instant)>,
}

impl TopicWait {
    pub fn new(every: Duration) -> TopicWait {
        TopicWait {
            every,
            checked: None,
            waiting: None,
        }
    }

    /// Whether some topic was missing at the last look.
    pub fn waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Whether to look the topics up again (once a second while waiting): librdkafka reports a
    /// missing topic once, and looks again only every `topic.metadata.refresh.interval.ms`.
    pub fn check_due(&mut self, now: Instant) -> bool {
        let due = self.waiting()
            && self
                .checked
                .is_none_or(|c| now.duration_since(c) >= Duration::from_secs(1));
        if due {
            self.checked = Some(now);
        }
        due
    }

    /// `missing` are the subscribed topics Kafka does not have at `now`: the line to log, if
    /// one is due (the first, a changed set, once a `every`, and the end of the wait).
    pub fn note(&mut self, mut missing: Vec<String>, now: Instant) -> Option<String> {
        missing.sort();
        match &mut self.waiting {
            None if missing.is_empty() => None,
            Some((topics, since, _)) if missing.is_empty() => {
                let line = format!(
                    "topic {} exists now (waited {:.1} s); consuming it",
                    topics.join(", "),
                    now.duration_since(*since).as_secs_f64()
                );
                self.waiting = None;
                Some(line)
            }
            Some((topics, since, last)) if *topics == missing => {
                if now.duration_since(*last) < self.every {
                    return None;
                }
                *last = now;
                Some(format!(
                    "still waiting for topic {} to be created ({:.0} s so far)",
                    topics.join(", "),
                    now.duration_since(*since).as_secs_f64()
                ))
            }
            _ => {
                let line = format!(
                    "topic {} does not exist: waiting for it to be created (its records are stored once it exists)",
                    missing.join(", ")
                );
                let since = self.waiting.as_ref().map_or(now, |(_, since, _)| *since);
                self.waiting = Some((missing, since, now));
                Some(line)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_once_then_once_a_period_then_the_end() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w = TopicWait::new(s(60));
        let missing = || vec!["orders".to_string()];
        let lines: Vec<Option<String>> = vec![
            w.note(missing(), t0),
            w.note(missing(), t0 + s(1)),
            w.note(missing(), t0 + s(59)),
            w.note(missing(), t0 + s(61)),
            w.note(missing(), t0 + s(62)),
            w.note(vec![], t0 + s(70)),
            w.note(vec![], t0 + s(71)),
        ];
        assert_eq!(
            lines,
            vec![
                Some("topic orders does not exist: waiting for it to be created (its records are stored once it exists)".into()),
                None,
                None,
                Some("still waiting for topic orders to be created (61 s so far)".into()),
                None,
                Some("topic orders exists now (waited 70.0 s); consuming it".into()),
                None,
            ]
        );
    }

    #[test]
    fn a_changed_set_of_missing_topics_is_logged_at_once() {
        let t0 = Instant::now();
        let mut w = TopicWait::new(Duration::from_secs(60));
        assert!(w.note(vec!["b".into(), "a".into()], t0).is_some());
        let line = w.note(vec!["b".into()], t0 + Duration::from_secs(1));
        assert_eq!(
            line.as_deref(),
            Some("topic b does not exist: waiting for it to be created (its records are stored once it exists)")
        );
    }

    #[test]
    fn looks_again_once_a_second_while_waiting_only() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = TopicWait::new(Duration::from_secs(60));
        assert!(!w.check_due(t0), "not waiting");
        w.note(vec!["a".into()], t0);
        let due: Vec<bool> = [0, 500, 1000, 1500, 2100]
            .iter()
            .map(|&t| w.check_due(t0 + ms(t)))
            .collect();
        assert_eq!(due, [true, false, true, false, true]);
        w.note(vec![], t0 + ms(3000));
        assert!(!w.check_due(t0 + ms(9000)), "done waiting");
    }

    #[test]
    fn nothing_missing_says_nothing() {
        assert_eq!(
            TopicWait::new(Duration::from_secs(1)).note(vec![], Instant::now()),
            None
        );
    }
}
