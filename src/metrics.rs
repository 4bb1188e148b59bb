//! Prometheus metrics, through the `prometheus-client` crate.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

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
    /// `native`, `authjs` or `none`.
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

/// The relay's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    reloads: Family<ReloadLabels, Counter>,
    generation: Gauge,
    bounces: Family<BounceLabels, Counter>,
    latency: Histogram,
    providers: std::sync::Mutex<std::collections::HashSet<String>>,
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
        }
    }

    /// Counts one callback.
    pub fn observe(&self, outcome: &Outcome, seconds: f64) {
        let labels = BounceLabels {
            app: outcome.app.clone().unwrap_or_default(),
            outcome: outcome.outcome_label(),
            reason: outcome.reason_label(),
            provider: match &outcome.provider {
                Some(p) => self.provider_label(p),
                None => "unknown".to_owned(),
            },
            format: outcome.format.map_or("none", |f| f.as_str()),
        };
        self.bounces.get_or_create(&labels).inc();
        self.latency.observe(seconds);
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
}
