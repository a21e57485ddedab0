//! Process-wide counters and latency histograms, rendered in Prometheus' text format (0.0.4) at
//! `/metrics` by `prometheus-client`. Every metric is declared here, once, with its help text;
//! callers record through the typed functions below. Producers aggregate per batch before
//! recording, so the family locks are rarely taken.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Histogram bucket bounds in seconds (1 ms to 10 s).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The `kind` label of ingested records.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The `rule` and `verdict` labels of evaluations.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleVerdictLabels {
    rule: String,
    verdict: &'static str,
}

/// The `outcome` label of remediation and delivery attempts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// The `service` and `outcome` labels of AWS requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceOutcomeLabels {
    service: &'static str,
    outcome: &'static str,
}

/// The `change` label of collected resources.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabel {
    change: &'static str,
}

/// Values read when `/metrics` is requested rather than recorded as they happen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Remediation jobs queued.
    pub remediation_queue_depth: usize,
    /// Notification deliveries queued.
    pub notification_queue_depth: usize,
    /// Connected `/v1/stream` clients.
    pub stream_listeners: usize,
}

/// Every metric conftrail exposes, registered once.
struct Metrics {
    registry: Registry,
    ingest_records: Family<KindLabel, Counter>,
    ingest_request_seconds: Histogram,
    evaluations: Family<RuleVerdictLabels, Counter>,
    evaluation_batch_seconds: Histogram,
    remediation_attempts: Family<OutcomeLabel, Counter>,
    notification_deliveries: Family<OutcomeLabel, Counter>,
    remediation_queue_depth: Gauge,
    notification_queue_depth: Gauge,
    stream_listeners: Gauge,
    aws_requests: Family<ServiceOutcomeLabels, Counter>,
    collector_scope_sweeps: Family<OutcomeLabel, Counter>,
    collector_scope_sweep_seconds: Histogram,
    collector_resources: Family<ChangeLabel, Counter>,
    collector_redescribes: Counter,
    collector_trail_files: Family<OutcomeLabel, Counter>,
}

impl Metrics {
    /// The metric families with their names and help texts (counters are named without
    /// `_total`, which the encoder appends; help texts get their final period from it too).
    fn new() -> Metrics {
        let ingest_records = Family::default();
        let ingest_request_seconds = Histogram::new(BUCKETS);
        let evaluations = Family::default();
        let evaluation_batch_seconds = Histogram::new(BUCKETS);
        let remediation_attempts = Family::default();
        let notification_deliveries = Family::default();
        let remediation_queue_depth = Gauge::default();
        let notification_queue_depth = Gauge::default();
        let stream_listeners = Gauge::default();
        let aws_requests = Family::default();
        let collector_scope_sweeps = Family::default();
        // A listing with many pages and retries can take minutes.
        let collector_scope_sweep_seconds =
            Histogram::new([0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]);
        let collector_resources = Family::default();
        let collector_redescribes = Counter::default();
        let collector_trail_files = Family::default();
        let mut registry = Registry::default();
        registry.register(
            "conftrail_ingest_records",
            "Records received by POST /v1/ingest, by kind",
            ingest_records.clone(),
        );
        registry.register(
            "conftrail_ingest_request_seconds",
            "Time to record, judge and flush one ingest request",
            ingest_request_seconds.clone(),
        );
        registry.register(
            "conftrail_evaluations",
            "Rule evaluations by rule and verdict (ERROR: the rule failed)",
            evaluations.clone(),
        );
        registry.register(
            "conftrail_evaluation_batch_seconds",
            "Time to judge a batch of versions with every rule in scope and record the verdicts",
            evaluation_batch_seconds.clone(),
        );
        registry.register(
            "conftrail_remediation_attempts",
            "Remediation action attempts by outcome",
            remediation_attempts.clone(),
        );
        registry.register(
            "conftrail_notification_deliveries",
            "Webhook notification delivery attempts by outcome",
            notification_deliveries.clone(),
        );
        registry.register(
            "conftrail_remediation_queue_depth",
            "Remediation jobs queued",
            remediation_queue_depth.clone(),
        );
        registry.register(
            "conftrail_notification_queue_depth",
            "Notification deliveries queued",
            notification_queue_depth.clone(),
        );
        registry.register(
            "conftrail_stream_listeners",
            "Connected /v1/stream clients",
            stream_listeners.clone(),
        );
        registry.register(
            "conftrail_aws_requests",
            "Requests sent to AWS APIs by service and outcome (ok, throttled, error)",
            aws_requests.clone(),
        );
        registry.register(
            "conftrail_collector_scope_sweeps",
            "Collector listings of one region and resource type, by outcome (complete, incomplete)",
            collector_scope_sweeps.clone(),
        );
        registry.register(
            "conftrail_collector_scope_sweep_seconds",
            "Time to list, record and judge one region and resource type",
            collector_scope_sweep_seconds.clone(),
        );
        registry.register(
            "conftrail_collector_resources",
            "Resources the collector listed, by what was recorded (new, unchanged, deleted)",
            collector_resources.clone(),
        );
        registry.register(
            "conftrail_collector_redescribes",
            "Resources described again after an API call named them",
            collector_redescribes.clone(),
        );
        registry.register(
            "conftrail_collector_trail_files",
            "CloudTrail log files the collector read from trail buckets, by outcome (read, error)",
            collector_trail_files.clone(),
        );
        Metrics {
            registry,
            ingest_records,
            ingest_request_seconds,
            evaluations,
            evaluation_batch_seconds,
            remediation_attempts,
            notification_deliveries,
            remediation_queue_depth,
            notification_queue_depth,
            stream_listeners,
            aws_requests,
            collector_scope_sweeps,
            collector_scope_sweep_seconds,
            collector_resources,
            collector_redescribes,
            collector_trail_files,
        }
    }

    /// The text exposition, with `gauges` as measured by the caller.
    fn render(&self, gauges: &Gauges) -> Result<String, std::fmt::Error> {
        let set = |gauge: &Gauge, value: usize| {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        set(
            &self.remediation_queue_depth,
            gauges.remediation_queue_depth,
        );
        set(
            &self.notification_queue_depth,
            gauges.notification_queue_depth,
        );
        set(&self.stream_listeners, gauges.stream_listeners);
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// Adds `n` records of `kind` (item, event, rejected) received by `POST /v1/ingest`.
pub fn ingest_records(kind: &'static str, n: u64) {
    METRICS
        .ingest_records
        .get_or_create(&KindLabel { kind })
        .inc_by(n);
}

/// Records how long one ingest request took.
pub fn ingest_request(took: Duration) {
    METRICS.ingest_request_seconds.observe(took.as_secs_f64());
}

/// Adds `n` evaluations of `rule` that ended in `verdict` (a compliance value or ERROR).
pub fn evaluations(rule: &str, verdict: &'static str, n: u64) {
    METRICS
        .evaluations
        .get_or_create(&RuleVerdictLabels {
            rule: rule.to_string(),
            verdict,
        })
        .inc_by(n);
}

/// Records how long one evaluation batch took.
pub fn evaluation_batch(took: Duration) {
    METRICS.evaluation_batch_seconds.observe(took.as_secs_f64());
}

/// Counts one remediation attempt that ended in `outcome`.
pub fn remediation_attempt(outcome: &'static str) {
    METRICS
        .remediation_attempts
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
}

/// Counts one notification delivery attempt that ended in `outcome`.
pub fn notification_delivery(outcome: &'static str) {
    METRICS
        .notification_deliveries
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
}

/// Counts one request to an AWS service that ended in `outcome` (ok, throttled, error).
pub fn aws_request(service: &'static str, outcome: &'static str) {
    METRICS
        .aws_requests
        .get_or_create(&ServiceOutcomeLabels { service, outcome })
        .inc();
}

/// Records one collector listing of a region and type: complete or not, how long, and how
/// many resources were new, unchanged and deleted.
pub fn collector_scope_sweep(
    complete: bool,
    took: Duration,
    new_versions: u64,
    unchanged: u64,
    deleted: u64,
) {
    let outcome = if complete { "complete" } else { "incomplete" };
    METRICS
        .collector_scope_sweeps
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
    METRICS
        .collector_scope_sweep_seconds
        .observe(took.as_secs_f64());
    for (change, n) in [
        ("new", new_versions),
        ("unchanged", unchanged),
        ("deleted", deleted),
    ] {
        METRICS
            .collector_resources
            .get_or_create(&ChangeLabel { change })
            .inc_by(n);
    }
}

/// Counts one resource described again after an API call.
pub fn collector_redescribe() {
    METRICS.collector_redescribes.inc();
}

/// Counts one trail log file read, or a failed look or fetch (`error`).
pub fn trail_file(outcome: &'static str) {
    METRICS
        .collector_trail_files
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
}

/// The text exposition of everything recorded, plus `gauges` measured by the caller.
pub fn render(gauges: &Gauges) -> Result<String, std::fmt::Error> {
    METRICS.render(gauges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_histograms_and_gauges_render_in_text_format() {
        // A registry of its own: the process-wide one also counts other tests' work.
        let metrics = Metrics::new();
        for n in [2, 3] {
            metrics
                .evaluations
                .get_or_create(&RuleVerdictLabels {
                    rule: "r\"1".into(),
                    verdict: "COMPLIANT",
                })
                .inc_by(n);
        }
        metrics
            .ingest_request_seconds
            .observe(Duration::from_millis(3).as_secs_f64());
        let text = metrics
            .render(&Gauges {
                remediation_queue_depth: 7,
                ..Gauges::default()
            })
            .unwrap();
        for line in [
            "# HELP conftrail_evaluations_total Rule evaluations by rule and verdict (ERROR: the rule failed).\n",
            "# TYPE conftrail_evaluations_total counter\n",
            "conftrail_evaluations_total{rule=\"r\\\"1\",verdict=\"COMPLIANT\"} 5\n",
            "# TYPE conftrail_ingest_request_seconds histogram\n",
            "conftrail_ingest_request_seconds_bucket{le=\"0.0025\"} 0\n",
            "conftrail_ingest_request_seconds_bucket{le=\"0.005\"} 1\n",
            "conftrail_ingest_request_seconds_bucket{le=\"1\"} 1\n",
            "conftrail_ingest_request_seconds_bucket{le=\"+Inf\"} 1\n",
            "conftrail_ingest_request_seconds_count 1\n",
            "# TYPE conftrail_remediation_queue_depth gauge\n",
            "conftrail_remediation_queue_depth 7\n",
            "conftrail_stream_listeners 0\n",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
        assert!(!text.contains(".."), "{text}");
    }

    #[test]
    fn the_process_wide_registry_records_through_the_typed_functions() {
        evaluations("metrics-test-rule", "NON_COMPLIANT", 4);
        remediation_attempt("metrics-test-outcome");
        let text = render(&Gauges::default()).unwrap();
        assert!(
            text.contains(
                "conftrail_evaluations_total{rule=\"metrics-test-rule\",verdict=\"NON_COMPLIANT\"} 4\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "conftrail_remediation_attempts_total{outcome=\"metrics-test-outcome\"} 1\n"
            ),
            "{text}"
        );
    }
}
