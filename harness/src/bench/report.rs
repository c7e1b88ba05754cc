//! The bench's report: a Markdown table and an SVG chart (rows/s per sink and configuration,
//! latency per sink), both plain text built here, from the numbers alone.

use super::latency::Latency;
use super::runs::{Measurement, Peer};
use std::fmt::Write;

/// Where and under what a run was measured.
#[derive(Debug, Clone)]
pub struct Context {
    pub machine: String,
    pub records: u64,
    pub batch_size: usize,
    pub load_start: f64,
    pub load_end: f64,
    pub date: String,
    pub command: String,
}

/// The limit's rate for the same partitions and tasks, else for the same partitions.
pub fn limit_for(all: &[Measurement], m: &Measurement) -> Option<f64> {
    let same = |t: &Measurement| t.peer == Peer::Pipe && t.partitions == m.partitions;
    all.iter()
        .find(|t| same(t) && t.tasks == m.tasks)
        .or_else(|| all.iter().find(|t| same(t)))
        .map(Measurement::rows_per_sec)
}

/// One line of the throughput table.
pub fn throughput_row(all: &[Measurement], m: &Measurement) -> String {
    let ratio =
        limit_for(all, m).map_or("-".to_owned(), |l| format!("{:.2}", m.rows_per_sec() / l));
    format!(
        "| {} | {} | {} | {:.0} | {ratio} | {:.1} | {:.0} | {:.1} | {:.2} |",
        m.peer.label(),
        m.partitions,
        m.tasks,
        m.rows_per_sec(),
        m.first_row_secs,
        m.peak_rss_mib,
        m.cpu_secs_per_million(),
        m.load
    )
}

pub const THROUGHPUT_HEADER: &str = "| sink | partitions | processes/tasks | rows/s | of the limit | first row (s) | peak RSS (MiB) | CPU-s per M rows | load (1 min) |\n|---|---|---|---|---|---|---|---|---|";

pub const LATENCY_HEADER: &str = "| sink and table | rate asked (rec/s) | rate kept | rows | p50 (ms) | p99 (ms) | max (ms) | load (1 min) |\n|---|---|---|---|---|---|---|---|";

pub fn latency_row(l: &Latency) -> String {
    format!(
        "| {} | {:.0} | {:.0} | {} | {:.0} | {:.0} | {:.0} | {:.2} |",
        l.variant.label(),
        l.rate,
        l.achieved_rate,
        l.rows,
        l.p50_ms,
        l.p99_ms,
        l.max_ms,
        l.load
    )
}

pub fn markdown(
    ctx: &Context,
    all: &[Measurement],
    latencies: &[Latency],
    goals: &[(String, Option<bool>)],
    skipped: &[String],
    chart: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# harness bench\n");
    let _ = writeln!(
        out,
        "Measured {} on {}; load average (1 min) {:.2} at the start, {:.2} at the end. \
         Backlog: {} seed-shaped records per topic, batch.size={}. Command: `{}`.\n",
        ctx.date,
        ctx.machine,
        ctx.load_start,
        ctx.load_end,
        ctx.records,
        ctx.batch_size,
        ctx.command
    );
    let _ = writeln!(out, "![rows/s and latency per sink]({chart})\n");
    let _ = writeln!(out, "## Throughput (draining the backlog)\n");
    let _ = writeln!(
        out,
        "Rows/s from the sink's start to every row visible in QuestDB (start-up included; \
         \"first row\" says how much of it was start-up). \"Of the limit\": rows/s over the \
         minimal pipe's at the same partitions and processes. Peak RSS and CPU: the sink's \
         processes added up; for a connector, the whole Connect worker JVM (started with \
         -Xmx512m, as the harness starts it; its peak reset before the run).\n"
    );
    let _ = writeln!(out, "{THROUGHPUT_HEADER}");
    for m in all {
        let _ = writeln!(out, "{}", throughput_row(all, m));
    }
    if !latencies.is_empty() {
        let _ = writeln!(out, "\n## End-to-end latency\n");
        let _ = writeln!(
            out,
            "One partition, one task; records produced at a steady rate; latency from handing \
             a record to the producer to its row being visible to a query (counted every 10 ms).\n"
        );
        let _ = writeln!(out, "{LATENCY_HEADER}");
        for l in latencies {
            let _ = writeln!(out, "{}", latency_row(l));
        }
    }
    let _ = writeln!(
        out,
        "\n## Goals (issue 19; benchmark figures, never asserted)\n"
    );
    out.push_str(&goals_markdown(goals));
    if !skipped.is_empty() {
        let _ = writeln!(out, "\n## Not measured\n");
        for s in skipped {
            let _ = writeln!(out, "- {s}");
        }
    }
    out
}

/// The issue's goals, each with whether this run's numbers meet it (`None`: not measured).
pub fn goals(
    all: &[Measurement],
    latencies: &[Latency],
    decode: f64,
) -> Vec<(String, Option<bool>)> {
    let find = |peer: Peer, p: i32, t: u32| {
        all.iter()
            .find(|m| m.peer == peer && m.partitions == p && m.tasks == t)
    };
    let mut out = Vec::new();
    for m in all.iter().filter(|m| m.peer == Peer::Ilp) {
        let (p, t) = (m.partitions, m.tasks);
        let at = format!("{p} partition(s), {t} process(es)");
        let limit = find(Peer::Pipe, p, t).map(Measurement::rows_per_sec);
        out.push((
            format!(
                "ours over ILP >= 0.8 of the minimal pipe, {at}: {}",
                limit.map_or("-".into(), |l| format!("{:.2}", m.rows_per_sec() / l))
            ),
            limit.map(|l| m.rows_per_sec() >= 0.8 * l),
        ));
        if let Some(q) = find(Peer::Questdb, p, t) {
            out.push((
                format!(
                    "ours over ILP >= 2x QuestDB's connector's rows/s, {at}: {:.2}x",
                    m.rows_per_sec() / q.rows_per_sec()
                ),
                Some(m.rows_per_sec() >= 2.0 * q.rows_per_sec()),
            ));
            out.push((
                format!(
                    "RSS <= 1/20 of QuestDB's connector's, {at}: 1/{:.0}",
                    q.peak_rss_mib / m.peak_rss_mib
                ),
                Some(m.peak_rss_mib * 20.0 <= q.peak_rss_mib),
            ));
            out.push((
                format!(
                    "CPU per row <= 1/4 of QuestDB's connector's, {at}: 1/{:.1}",
                    q.cpu_secs_per_million() / m.cpu_secs_per_million()
                ),
                Some(m.cpu_secs_per_million() * 4.0 <= q.cpu_secs_per_million()),
            ));
        }
        let per_process = m.peak_rss_mib / t as f64;
        out.push((
            format!("RSS <= 64 MiB per process, {at}: {per_process:.0} MiB"),
            Some(per_process <= 64.0),
        ));
    }
    use super::latency::Variant;
    for (ours, theirs) in [
        (Variant::Ours, Variant::Questdb),
        (Variant::OursDedup, Variant::QuestdbDedup),
    ] {
        let get = |v| latencies.iter().find(|l| l.variant == v);
        if let (Some(o), Some(q)) = (get(ours), get(theirs)) {
            out.push((
                format!(
                    "p99 latency below QuestDB's connector's ({} vs {}): {:.0} ms vs {:.0} ms",
                    o.variant.label(),
                    q.variant.label(),
                    o.p99_ms,
                    q.p99_ms
                ),
                Some(o.p99_ms < q.p99_ms),
            ));
        }
    }
    out.push((
        format!("decode >= 1M records/s on one core: {decode:.0}"),
        Some(decode >= 1e6),
    ));
    out
}

pub fn goals_markdown(goals: &[(String, Option<bool>)]) -> String {
    let mut out = String::new();
    for (what, met) in goals {
        let mark = match met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not measured",
        };
        let _ = writeln!(out, "- {mark}: {what}");
    }
    out
}

fn color(peer: Peer) -> &'static str {
    match peer {
        Peer::Pipe => "#9e9e9e",
        Peer::Ilp => "#1f77b4",
        Peer::Pg => "#6baed6",
        Peer::Questdb => "#d62728",
        Peer::Debezium => "#ff9f40",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Horizontal bars: rows/s per sink, grouped by partitions and tasks; then p50 and p99 latency
/// per sink and table.
pub fn svg(ctx: &Context, all: &[Measurement], latencies: &[Latency]) -> String {
    const WIDTH: f64 = 1000.0;
    const LABEL: f64 = 300.0;
    const BAR: f64 = 16.0;
    const GAP: f64 = 4.0;
    // Room on the right for the value written after the longest bar.
    let plot = WIDTH - LABEL - 260.0;
    let mut body = String::new();
    let mut y = 30.0;
    let text = |body: &mut String, x: f64, y: f64, s: &str, extra: &str| {
        let _ = writeln!(
            body,
            r#"<text x="{x:.1}" y="{y:.1}" {extra}>{}</text>"#,
            escape(s)
        );
    };
    text(
        &mut body,
        10.0,
        y,
        &format!(
            "Rows/s draining {} records ({}; load {:.2}-{:.2})",
            ctx.records, ctx.date, ctx.load_start, ctx.load_end
        ),
        r#"font-weight="bold""#,
    );
    y += 14.0;
    let max = all
        .iter()
        .map(Measurement::rows_per_sec)
        .fold(1.0, f64::max);
    let mut groups: Vec<(i32, u32)> = all.iter().map(|m| (m.partitions, m.tasks)).collect();
    groups.dedup();
    for (p, t) in groups {
        y += 10.0;
        text(
            &mut body,
            10.0,
            y + 10.0,
            &format!("{p} partition(s), {t} process(es)/task(s)"),
            r#"font-style="italic""#,
        );
        y += 14.0;
        for m in all.iter().filter(|m| m.partitions == p && m.tasks == t) {
            let w = plot * m.rows_per_sec() / max;
            text(
                &mut body,
                LABEL - 6.0,
                y + 12.0,
                m.peer.label(),
                r#"text-anchor="end""#,
            );
            let _ = writeln!(
                body,
                r#"<rect x="{LABEL}" y="{y:.1}" width="{w:.1}" height="{BAR}" fill="{}"/>"#,
                color(m.peer)
            );
            let ratio = limit_for(all, m)
                .filter(|_| m.peer != Peer::Pipe)
                .map_or(String::new(), |l| {
                    format!(" ({:.2} of limit)", m.rows_per_sec() / l)
                });
            text(
                &mut body,
                LABEL + w + 4.0,
                y + 12.0,
                &format!("{:.0}{ratio}", m.rows_per_sec()),
                "",
            );
            y += BAR + GAP;
        }
    }
    if !latencies.is_empty() {
        y += 24.0;
        text(
            &mut body,
            10.0,
            y,
            "End-to-end latency, ms (p50 light, p99 dark; max in text), 1 partition",
            r#"font-weight="bold""#,
        );
        y += 10.0;
        let max = latencies.iter().map(|l| l.p99_ms).fold(1.0, f64::max);
        for l in latencies {
            let dark = if l.variant.needs_questdb_connector() {
                "#d62728"
            } else {
                "#1f77b4"
            };
            text(
                &mut body,
                LABEL - 6.0,
                y + 18.0,
                l.variant.label(),
                r#"text-anchor="end""#,
            );
            let w99 = plot * l.p99_ms / max;
            let w50 = plot * l.p50_ms / max;
            let _ = writeln!(
                body,
                r#"<rect x="{LABEL}" y="{y:.1}" width="{w99:.1}" height="{BAR}" fill="{dark}"/>"#
            );
            let _ = writeln!(
                body,
                r#"<rect x="{LABEL}" y="{:.1}" width="{w50:.1}" height="{:.1}" fill="{dark}" fill-opacity="0.4"/>"#,
                y + BAR,
                BAR / 2.0
            );
            text(
                &mut body,
                LABEL + w99 + 4.0,
                y + 12.0,
                &format!(
                    "p50 {:.0}, p99 {:.0}, max {:.0} at {:.0}/s",
                    l.p50_ms, l.p99_ms, l.max_ms, l.achieved_rate
                ),
                "",
            );
            y += BAR * 1.5 + GAP * 2.0;
        }
    }
    y += 10.0;
    text(&mut body, 10.0, y, &ctx.machine, r##"fill="#555""##);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{:.0}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n{body}</svg>\n",
        y + 10.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(peer: Peer, partitions: i32, tasks: u32, secs: f64) -> Measurement {
        Measurement {
            peer,
            partitions,
            tasks,
            rows: 100_000,
            secs,
            first_row_secs: 0.5,
            cpu_secs: 2.0,
            peak_rss_mib: 40.0,
            load: 3.0,
        }
    }

    fn ctx() -> Context {
        Context {
            machine: "2 cores".into(),
            records: 100_000,
            batch_size: 3000,
            load_start: 2.0,
            load_end: 3.0,
            date: "today".into(),
            command: "harness bench".into(),
        }
    }

    #[test]
    fn ratios_are_to_the_pipe_at_the_same_partitions_and_tasks() {
        let all = vec![
            m(Peer::Pipe, 1, 1, 1.0),
            m(Peer::Ilp, 1, 1, 2.0),
            m(Peer::Pipe, 4, 4, 0.5),
            m(Peer::Ilp, 4, 4, 1.0),
        ];
        assert!(throughput_row(&all, &all[1]).contains("| 50000 | 0.50 |"));
        assert!(throughput_row(&all, &all[3]).contains("| 100000 | 0.50 |"));
        // CPU per million rows: 2 s for 100 000 rows.
        assert!(throughput_row(&all, &all[1]).contains("| 40 | 20.0 |"));
    }

    #[test]
    fn the_chart_has_a_bar_per_measurement_and_escapes_its_text() {
        let all = vec![m(Peer::Pipe, 1, 1, 1.0), m(Peer::Ilp, 1, 1, 2.0)];
        let mut c = ctx();
        c.machine = "a <b> & c".into();
        let svg = svg(&c, &all, &[]);
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.contains("0.50 of limit"));
        assert!(svg.starts_with("<svg"));
    }
}
