//! Prometheus metrics, through the `prometheus-client` crate: callbacks by outcome,
//! reason, provider, format and app, their latency, and configuration loads. The request
//! path ([`crate::request`]) counts them and serves `/metrics`.

use std::cell::RefCell;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::recent::Recent;
use crate::relay::Outcome;

/// Labels of a bounce. `provider` is only set from a verified state, so a client cannot
/// grow the label set by inventing provider names; and at most [`MAX_PROVIDER_LABELS`]
/// providers get their own label (the rest count as `other`), so not even the holder of
/// a leaked secret can.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BounceLabels {
    /// The app's name (`default` without a config file).
    pub app: String,
    /// `redirect`, `form_post` or `refused`.
    pub outcome: &'static str,
    /// The reason code, or `ok`.
    pub reason: &'static str,
    /// The provider, or `unknown`.
    pub provider: String,
    /// `native`, `authjs`, `authjs_legacy` or `none`
    /// ([`StateFormat::as_str`](authrelay_client::keyring::StateFormat::as_str)).
    pub format: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Distinct provider label values kept; more fold into `other`.
pub const MAX_PROVIDER_LABELS: usize = 32;

/// Label sets each thread keeps at hand with their counters (see [`KeptLabels`]).
const RECENT_MAX: usize = 16;

/// A bounce's labels as the callback gives them (the provider before it is capped), and
/// the counter they were counted in. A thread keeps the last few distinct ones it added,
/// so that a callback like a recent one is counted without
/// building label strings, taking the provider set's lock or hashing: it only compares
/// a few short strings. The counter is the family's own, so `/metrics` shows the same
/// numbers either way. This holds because the family never removes a label set and the
/// provider set never shrinks (a raw provider keeps its label for good); whatever
/// changes either must clear these too.
struct KeptLabels {
    labels: BounceLabels,
    /// The provider as the callback gave it; `labels` has its capped label.
    provider: Option<String>,
    counter: Counter,
}

impl KeptLabels {
    fn is(&self, app: &str, outcome: &Outcome) -> bool {
        self.labels.outcome == outcome.outcome_label()
            && self.labels.reason == outcome.reason_label()
            && self.labels.format == format_label(outcome)
            && self.labels.app == app
            && self.provider.as_deref() == outcome.provider.as_deref()
    }
}

fn format_label(outcome: &Outcome) -> &'static str {
    outcome.format.map_or("none", |f| f.as_str())
}

/// The relay's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    reloads: Family<ReloadLabels, Counter>,
    generation: Gauge,
    bounces: Family<BounceLabels, Counter>,
    latency: Histogram,
    providers: std::sync::Mutex<std::collections::HashSet<String>>,
    recent: thread_local::ThreadLocal<RefCell<Recent<KeptLabels, RECENT_MAX>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("authrelay");
        let bounces = Family::<BounceLabels, Counter>::default();
        registry.register(
            "bounces",
            "Callbacks handled, by outcome, reason, provider and state format",
            bounces.clone(),
        );
        // 50 µs to about 1.6 s.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "callback_duration_seconds",
            "Time to decide and answer a callback",
            latency.clone(),
        );
        registry.register(
            "build",
            "Build information",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "config_reloads",
            "Configuration loads at start and on SIGHUP, by result",
            reloads.clone(),
        );
        let generation = Gauge::default();
        registry.register(
            "config_generation",
            "Generation of the configuration in use",
            generation.clone(),
        );
        Self {
            registry,
            reloads,
            generation,
            bounces,
            latency,
            providers: std::sync::Mutex::new(std::collections::HashSet::new()),
            recent: thread_local::ThreadLocal::new(),
        }
    }

    /// Counts one callback.
    pub fn observe(&self, outcome: &Outcome, seconds: f64) {
        self.count(outcome);
        self.latency.observe(seconds);
    }

    fn count(&self, outcome: &Outcome) {
        let app = outcome.app.as_deref().unwrap_or_default();
        let mut recent = self.recent.get_or_default().borrow_mut();
        if let Some(r) = recent.find(|r| r.is(app, outcome)) {
            r.counter.inc();
            return;
        }
        let labels = BounceLabels {
            app: app.to_owned(),
            outcome: outcome.outcome_label(),
            reason: outcome.reason_label(),
            provider: match &outcome.provider {
                Some(p) => self.provider_label(p),
                None => "unknown".to_owned(),
            },
            format: format_label(outcome),
        };
        let counter = self.bounces.get_or_create(&labels).clone();
        counter.inc();
        recent.keep(KeptLabels {
            labels,
            provider: outcome.provider.clone(),
            counter,
        });
    }

    fn provider_label(&self, provider: &str) -> String {
        // A poisoned lock only means another thread panicked mid-insert; the set is
        // still usable.
        let mut known = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        if known.contains(provider) {
            return provider.to_owned();
        }
        if known.len() < MAX_PROVIDER_LABELS {
            known.insert(provider.to_owned());
            return provider.to_owned();
        }
        "other".to_owned()
    }

    /// Counts a configuration load; `generation` is the one now in use.
    pub fn reloaded(&self, ok: bool, generation: u64) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ReloadLabels { result }).inc();
        self.generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::{Decision, Outcome, Refusal};

    #[test]
    fn provider_labels_are_capped() {
        let m = Metrics::new();
        for i in 0..(MAX_PROVIDER_LABELS + 10) {
            let o = Outcome {
                decision: Decision::Redirect("https://a.example.com/".into()),
                provider: Some(format!("p{i}")),
                ..Outcome::refused(Refusal::NotFound)
            };
            m.observe(&o, 0.001);
        }
        let text = m.render();
        assert!(text.contains(r#"provider="p0""#));
        assert!(!text.contains(&format!(r#"provider="p{MAX_PROVIDER_LABELS}""#)));
        assert!(text.contains(r#"provider="other""#), "{text}");
    }

    fn redirect_for(provider: &str) -> Outcome {
        Outcome {
            decision: Decision::Redirect("https://a.example.com/".into()),
            provider: Some(provider.to_owned()),
            ..Outcome::refused(Refusal::NotFound)
        }
    }

    /// The count on the one bounce line for `provider`.
    fn count(text: &str, provider: &str) -> u64 {
        let label = format!(r#"provider="{provider}""#);
        let lines: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("authrelay_bounces_total{") && l.contains(&label))
            .collect();
        assert_eq!(lines.len(), 1, "{label} in {text}");
        lines[0].rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn recent_label_sets_count_exactly_and_per_registry() {
        // More label sets than a thread keeps at hand, each seen a different number of
        // times and interleaved, on two registries in the same thread.
        let (a, b) = (Metrics::new(), Metrics::new());
        let sets = RECENT_MAX + 4;
        for round in 0..sets {
            for i in round..sets {
                a.observe(&redirect_for(&format!("p{i}")), 0.001);
            }
            b.observe(&redirect_for("p0"), 0.001);
        }
        let (text_a, text_b) = (a.render(), b.render());
        for i in 0..sets {
            assert_eq!(count(&text_a, &format!("p{i}")), i as u64 + 1);
        }
        assert_eq!(count(&text_b, "p0"), sets as u64);
        assert!(!text_b.contains(r#"provider="p1""#), "{text_b}");
    }

    #[test]
    fn recent_label_sets_keep_the_provider_cap() {
        let m = Metrics::new();
        for _ in 0..3 {
            for i in 0..(MAX_PROVIDER_LABELS + 5) {
                m.observe(&redirect_for(&format!("p{i}")), 0.001);
            }
        }
        let text = m.render();
        assert_eq!(count(&text, "p0"), 3);
        assert_eq!(count(&text, "other"), 15);
    }
}
