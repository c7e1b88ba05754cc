//! The bench's report: a Markdown table and an SVG chart (rows/s per sink and configuration,
//! latency per sink), both plain text built here, from the numbers alone.

use super::latency::Latency;
use super::runs::{Measurement, Peer};
use super::Shape;
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

/// The limit's run for the same records, partitions and tasks, else for the same records and
/// partitions.
pub fn limit_run<'a>(all: &'a [Measurement], m: &Measurement) -> Option<&'a Measurement> {
    let same = |t: &Measurement| {
        t.peer == Peer::Pipe && t.partitions == m.partitions && t.shape == m.shape
    };
    all.iter()
        .find(|t| same(t) && t.tasks == m.tasks)
        .or_else(|| all.iter().find(|t| same(t)))
}

/// The limit's rate (see [`limit_run`]).
pub fn limit_for(all: &[Measurement], m: &Measurement) -> Option<f64> {
    limit_run(all, m).map(Measurement::rows_per_sec)
}

/// CPU per row over the limit's (see [`limit_run`]).
pub fn cpu_of_limit(all: &[Measurement], m: &Measurement) -> Option<f64> {
    limit_run(all, m).map(|l| m.cpu_secs_per_million() / l.cpu_secs_per_million())
}

/// One line of the throughput table.
pub fn throughput_row(all: &[Measurement], m: &Measurement) -> String {
    let ratio =
        limit_for(all, m).map_or("-".to_owned(), |l| format!("{:.2}", m.rows_per_sec() / l));
    let cpu = cpu_of_limit(all, m).map_or("-".to_owned(), |c| format!("{c:.2}"));
    format!(
        "| {} | {} | {} | {} | {:.0} | {ratio} | {:.1} | {:.0} | {:.1} | {cpu} | {:.2} |",
        m.peer.label(),
        m.shape.label(),
        m.partitions,
        m.tasks,
        m.rows_per_sec(),
        m.first_row_secs,
        m.peak_rss_mib,
        m.cpu_secs_per_million(),
        m.load
    )
}

pub const THROUGHPUT_HEADER: &str = "| sink | records | partitions | processes/tasks | rows/s | of the limit | first row (s) | peak RSS (MiB) | CPU-s per M rows | CPU per row, of the limit's | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|---|";

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
         Backlog: {} records per topic (one topic per record shape and partition count), batch.size={}. Command: `{}`.\n",
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
         minimal pipe's for the same records, partitions and processes; \"CPU per row, of the \
         limit's\": CPU-s per row over the pipe's in that run. Peak RSS and CPU: the sink's \
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
        "\n## Goals (issue 28; benchmark figures, never asserted)\n"
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
/// `decode`: the seed's shape on the sink's path, records/s on one core.
pub fn goals(
    all: &[Measurement],
    latencies: &[Latency],
    decode: f64,
) -> Vec<(String, Option<bool>)> {
    let find = |peer: Peer, m: &Measurement| {
        all.iter().find(|o| {
            o.peer == peer
                && o.shape == m.shape
                && o.partitions == m.partitions
                && o.tasks == m.tasks
        })
    };
    let mut out = Vec::new();
    for m in all
        .iter()
        .filter(|m| matches!(m.peer, Peer::Ilp | Peer::Pg))
    {
        let (p, t) = (m.partitions, m.tasks);
        let at = format!("{}, {p} partition(s), {t} process(es)", m.shape.label());
        let (path, share) = match m.peer {
            Peer::Ilp => ("ILP", 0.9),
            _ => ("PG wire", 0.5),
        };
        let limit = limit_for(all, m);
        out.push((
            format!(
                "ours over {path} >= {share} of the minimal pipe, {at}: {}",
                limit.map_or("-".into(), |l| format!("{:.2}", m.rows_per_sec() / l))
            ),
            limit.map(|l| m.rows_per_sec() >= share * l),
        ));
        if m.peer == Peer::Pg {
            continue;
        }
        if let Some(c) = cpu_of_limit(all, m) {
            out.push((
                format!("CPU per row <= 1.3x the pipe's, {at}: {c:.2}x"),
                Some(c <= 1.3),
            ));
        }
        if let Some(q) = find(Peer::Questdb, m) {
            let times = if p == 1 { 3.0 } else { 2.5 };
            out.push((
                format!(
                    "ours over ILP >= {times}x QuestDB's connector's rows/s, {at}: {:.2}x",
                    m.rows_per_sec() / q.rows_per_sec()
                ),
                Some(m.rows_per_sec() >= times * q.rows_per_sec()),
            ));
        }
        let per_process = m.peak_rss_mib / t as f64;
        out.push((
            format!("peak RSS <= 48 MiB per process, {at}: {per_process:.0} MiB"),
            Some(per_process <= 48.0),
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
        format!("decode >= 3M records/s on one core, the seed's shape: {decode:.0}"),
        Some(decode >= 3e6),
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
    let mut groups: Vec<(Shape, i32, u32)> = all
        .iter()
        .map(|m| (m.shape, m.partitions, m.tasks))
        .collect();
    groups.dedup();
    for (shape, p, t) in groups {
        y += 10.0;
        text(
            &mut body,
            10.0,
            y + 10.0,
            &format!(
                "{} records, {p} partition(s), {t} process(es)/task(s)",
                shape.label()
            ),
            r#"font-style="italic""#,
        );
        y += 14.0;
        for m in all
            .iter()
            .filter(|m| m.shape == shape && m.partitions == p && m.tasks == t)
        {
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
            shape: Shape::Seed,
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
        // CPU per million rows: 2 s for 100 000 rows, as much as the pipe's.
        assert!(throughput_row(&all, &all[1]).contains("| 40 | 20.0 | 1.00 |"));
    }

    #[test]
    fn each_record_shape_is_compared_with_its_own_pipe() {
        let mut guide_pipe = m(Peer::Pipe, 1, 1, 4.0);
        guide_pipe.shape = Shape::Guide;
        guide_pipe.cpu_secs = 1.0;
        let mut guide = m(Peer::Ilp, 1, 1, 8.0);
        guide.shape = Shape::Guide;
        let all = vec![m(Peer::Pipe, 1, 1, 1.0), guide_pipe, guide];
        let row = throughput_row(&all, &all[2]);
        assert!(row.contains("| guide (id8 coerced) |"), "{row}");
        assert!(row.contains("| 12500 | 0.50 |"), "{row}");
        assert!(row.contains("| 20.0 | 2.00 |"), "{row}");
        let goals = goals(&all, &[], 3.1e6);
        let text = goals_markdown(&goals);
        assert!(text.contains("NOT met: CPU per row <= 1.3x the pipe's, guide (id8 coerced), 1 partition(s), 1 process(es): 2.00x"), "{text}");
        assert!(text.contains("met: decode >= 3M records/s"), "{text}");
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
