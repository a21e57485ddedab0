//! Process-wide counters and latency histograms, rendered in Prometheus' text format at
//! `/metrics`. Producers aggregate per batch before recording, so the lock is rare.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket bounds in seconds (1 ms to 10 s).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
    help: BTreeMap<&'static str, &'static str>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut guard = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(Registry::default))
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_string())).collect()
}

/// Adds `by` to a counter.
pub fn count(name: &'static str, help: &'static str, pairs: &[(&'static str, &str)], by: u64) {
    with(|r| {
        r.help.insert(name, help);
        *r.counters.entry((name, labels(pairs))).or_default() += by;
    });
}

/// Records one duration in a histogram.
pub fn observe(
    name: &'static str,
    help: &'static str,
    pairs: &[(&'static str, &str)],
    took: Duration,
) {
    let seconds = took.as_secs_f64();
    with(|r| {
        r.help.insert(name, help);
        let h = r.histograms.entry((name, labels(pairs))).or_default();
        for (slot, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *slot += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    });
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(labels: &Labels, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// The text exposition of everything recorded, plus `gauges` measured by the caller.
pub fn render(gauges: &[(&'static str, &'static str, f64)]) -> String {
    let mut out = String::new();
    with(|r| {
        let mut last = "";
        for ((name, labels), value) in &r.counters {
            if *name != last {
                let _ = writeln!(
                    out,
                    "# HELP {name} {}\n# TYPE {name} counter",
                    r.help.get(name).copied().unwrap_or("")
                );
                last = name;
            }
            let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
        }
        for ((name, labels), h) in &r.histograms {
            if *name != last {
                let _ = writeln!(
                    out,
                    "# HELP {name} {}\n# TYPE {name} histogram",
                    r.help.get(name).copied().unwrap_or("")
                );
                last = name;
            }
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {count}",
                    label_text(labels, Some(("le", bound.to_string())))
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{} {}",
                label_text(labels, Some(("le", "+Inf".into()))),
                h.count
            );
            let _ = writeln!(out, "{name}_sum{} {}", label_text(labels, None), h.sum);
            let _ = writeln!(out, "{name}_count{} {}", label_text(labels, None), h.count);
        }
    });
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_text_format() {
        count(
            "test_metric_total",
            "a test counter",
            &[("rule", "r\"1")],
            2,
        );
        count(
            "test_metric_total",
            "a test counter",
            &[("rule", "r\"1")],
            3,
        );
        observe(
            "test_latency_seconds",
            "a test histogram",
            &[],
            Duration::from_millis(3),
        );
        let text = render(&[("test_gauge", "a gauge", 7.0)]);
        assert!(
            text.contains("# TYPE test_metric_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("test_metric_total{rule=\"r\\\"1\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("test_latency_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("test_latency_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("test_latency_seconds_count 1\n"), "{text}");
        assert!(text.contains("test_gauge 7\n"), "{text}");
    }
}
