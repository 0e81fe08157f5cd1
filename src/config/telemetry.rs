//! `[telemetry]`: where traces go, under which service name, and how many are kept.

use serde::Deserialize;
use url::Url;

use super::error::{ConfigError, invalid};
pub use crate::telemetry::{DEFAULT_SERVICE_NAME, TelemetryConfig};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTelemetry {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
    sampling_ratio: Option<f64>,
}

impl RawTelemetry {
    pub(super) fn validate(self) -> Result<TelemetryConfig, ConfigError> {
        // Empty counts as absent, so `otlp_endpoint = "${OTLP_ENDPOINT}"` can be switched
        // off by an empty variable.
        let otlp_endpoint = match self.otlp_endpoint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                Url::parse(text)
                    .ok()
                    .filter(|url| {
                        matches!(url.scheme(), "http" | "https")
                            && url.host().is_some()
                            && url.username().is_empty()
                            && url.password().is_none()
                            && url.query().is_none()
                            && url.fragment().is_none()
                    })
                    .ok_or_else(|| {
                        invalid(
                            "telemetry.otlp_endpoint",
                            "is not an http(s) URL without user, query or fragment, \
                             like `http://127.0.0.1:4318`",
                        )
                    })?,
            ),
        };
        let service_name = self
            .service_name
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        if service_name.trim().is_empty() || service_name.chars().any(char::is_control) {
            return Err(invalid(
                "telemetry.service_name",
                "must not be empty or hold control characters",
            ));
        }
        let sampling_ratio = self.sampling_ratio.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sampling_ratio) {
            return Err(invalid(
                "telemetry.sampling_ratio",
                "must be between 0.0 and 1.0",
            ));
        }
        Ok(TelemetryConfig {
            otlp_endpoint,
            service_name,
            sampling_ratio,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::testing::{env, error_of};
    use super::*;

    #[test]
    fn telemetry_is_off_by_default_and_its_keys_are_read() {
        let off = Config::parse("", env).unwrap();
        assert_eq!(off.telemetry, TelemetryConfig::default());
        assert_eq!(off.telemetry.traces_url(), None);
        assert!(off.redacted_summary().contains("telemetry = off"));
        let empty = Config::parse("[telemetry]\notlp_endpoint = \"\"\n", env).unwrap();
        assert_eq!(empty.telemetry.otlp_endpoint, None);

        let on = Config::parse(
            "[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318\"\nservice_name = \"gw-eu\"\nsampling_ratio = 0.25\n",
            env,
        )
        .unwrap()
        .telemetry;
        assert_eq!(on.service_name, "gw-eu");
        assert!((on.sampling_ratio - 0.25).abs() < f64::EPSILON);
        assert_eq!(
            on.traces_url().unwrap().as_str(),
            "http://127.0.0.1:4318/v1/traces"
        );
        let prefixed = Config::parse(
            "[telemetry]\notlp_endpoint = \"https://otel.internal/otlp/\"\nsampling_ratio = 1\n",
            env,
        )
        .unwrap();
        assert_eq!(
            prefixed.telemetry.traces_url().unwrap().as_str(),
            "https://otel.internal/otlp/v1/traces"
        );
        let summary = prefixed.redacted_summary();
        assert!(
            summary.contains("telemetry otlp_endpoint = https://otel.internal/otlp/ (OTLP/HTTP protobuf), service_name = conversation-gateway, sampling_ratio = 1"),
            "{summary}"
        );
    }

    #[test]
    fn bad_telemetry_values_are_refused_naming_their_key() {
        for (text, key) in [
            ("sampling_ratio = 1.5", "telemetry.sampling_ratio"),
            ("sampling_ratio = -0.1", "telemetry.sampling_ratio"),
            ("sampling_ratio = nan", "telemetry.sampling_ratio"),
            ("sampling_ratio = \"all\"", "telemetry.sampling_ratio"),
            (
                "otlp_endpoint = \"127.0.0.1:4318\"",
                "telemetry.otlp_endpoint",
            ),
            (
                "otlp_endpoint = \"grpc://collector:4317\"",
                "telemetry.otlp_endpoint",
            ),
            ("otlp_endpoint = \"http://\"", "telemetry.otlp_endpoint"),
            (
                "otlp_endpoint = \"http://user:pw@collector:4318\"",
                "telemetry.otlp_endpoint",
            ),
            (
                "otlp_endpoint = \"http://collector:4318/?token=x\"",
                "telemetry.otlp_endpoint",
            ),
            ("service_name = \" \"", "telemetry.service_name"),
            ("exporter = \"jaeger\"", "exporter"),
        ] {
            let err = error_of(&format!("[telemetry]\n{text}\n"));
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = error_of("[telemetry]\notlp_endpoint = \"${SECRET}\"\n");
        assert!(err.contains("telemetry.otlp_endpoint"), "{err}");
        assert!(!err.contains("secret-value-of-SECRET"), "{err}");
    }
}
