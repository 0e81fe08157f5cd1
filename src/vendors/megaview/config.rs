//! Megaview's keys in a `[[sources]]` entry: the self-built app's credentials, and the hosts
//! its transcripts may come from.

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::VendorKind;
use crate::vendors::VendorSettings;
use crate::vendors::config::{KeyError, VendorKeys, non_empty_secret};
use crate::vendors::download::FileHost;

/// Megaview app credentials, and where its transcripts may come from.
#[derive(Debug, Clone)]
pub struct MegaviewSettings {
    /// `app_key` of the self-built app.
    pub app_key: SecretString,
    /// `app_secret` of the self-built app.
    pub app_secret: SecretString,
    /// `transcript_hosts`: hosts (`host` or `host:port`) transcripts may be downloaded from
    /// even when they resolve to a private, loopback or link-local address (private object
    /// storage). Other hosts must resolve to public addresses only. Default: none.
    pub transcript_hosts: Vec<FileHost>,
}

/// The keys as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMegaview {
    app_key: Option<String>,
    app_secret: Option<String>,
    transcript_hosts: Option<Vec<String>>,
}

impl VendorKeys for RawMegaview {
    /// Megaview documents its list and transcript endpoints as tier "Medium".
    const DEFAULT_TIER: &'static str = "medium";

    fn settings(self) -> Result<VendorSettings, KeyError> {
        let vendor = VendorKind::Megaview;
        let mut transcript_hosts = Vec::new();
        for (position, entry) in self.transcript_hosts.into_iter().flatten().enumerate() {
            let host = FileHost::parse(&entry).map_err(|message| {
                KeyError::new(format!("transcript_hosts[{position}]"), message)
            })?;
            transcript_hosts.push(host);
        }
        Ok(VendorSettings::Megaview(MegaviewSettings {
            app_key: non_empty_secret(self.app_key, "app_key", vendor)?,
            app_secret: non_empty_secret(self.app_secret, "app_secret", vendor)?,
            transcript_hosts,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::config::testing::{env, error_of};
    use crate::vendors::VendorSettings;

    const MEGAVIEW: &str = "[[sources]]\nname = \"sales\"\nvendor = \"megaview\"\nbase_url = \"https://open.megaview.com\"\napp_key = \"k\"\napp_secret = \"s\"\n";

    #[test]
    fn transcript_hosts_are_read_normalized_and_shown() {
        let config = Config::parse(
            &format!(
                "{MEGAVIEW}transcript_hosts = [\"MinIO.Internal:9000\", \"0x7f.0.0.1:9100\", \"[FD00::1]:9000\", \"files.internal\"]\n"
            ),
            env,
        )
        .unwrap();
        let VendorSettings::Megaview(settings) = &config.sources[0].vendor else {
            panic!("not megaview");
        };
        let shown: Vec<_> = settings
            .transcript_hosts
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "minio.internal:9000",
                "127.0.0.1:9100",
                "[fd00::1]:9000",
                "files.internal"
            ]
        );
        let summary = config.redacted_summary();
        assert!(
            summary.contains("transcript_hosts=[minio.internal:9000, 127.0.0.1:9100, [fd00::1]:9000, files.internal]"),
            "{summary}"
        );
        let none = Config::parse(MEGAVIEW, env).unwrap();
        let VendorSettings::Megaview(settings) = &none.sources[0].vendor else {
            panic!("not megaview");
        };
        assert!(settings.transcript_hosts.is_empty());
    }

    #[test]
    fn a_transcript_host_that_is_not_host_or_host_port_is_refused_naming_its_key() {
        for bad in [
            "",
            "http://minio.internal",
            "minio.internal/bucket",
            "user@minio.internal",
            "minio.internal:0",
            "minio.internal:65536",
            "minio.internal:port",
            "*.internal",
            "::1",
            "[::1",
            " minio.internal",
            "999.1.1.1",
        ] {
            let err = error_of(&format!(
                "{MEGAVIEW}transcript_hosts = [\"ok.internal\", {bad:?}]\n"
            ));
            assert!(
                err.contains("sources[0].transcript_hosts[1]"),
                "{bad:?}: {err}"
            );
        }
        let jijyun = "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\ntranscript_hosts = [\"x\"]\n";
        assert!(error_of(jijyun).contains("sources[0].transcript_hosts"));
    }
}
