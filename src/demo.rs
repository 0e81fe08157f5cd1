//! Demo mode: the built-in vendor simulators and the gateway in one process, one source
//! per vendor wired to them, so Swagger UI shows real-looking data at once.

use std::net::SocketAddr;

use anyhow::Context;
use secrecy::SecretString;
use tokio::net::TcpListener;
use url::Url;

use crate::app;
use crate::config::{
    self, AuthConfig, CacheConfig, Config, CursorConfig, RateLimitStoreConfig, ServerConfig,
    SourceConfig, TelemetryConfig, VendorSettings,
};
use crate::sandbox::{self, Sandbox, SandboxConfig, SandboxCredentials};
use crate::vendors::download::FileHost;
use crate::vendors::reads::{DEFAULT_MAX_CONCURRENT_READS, DEFAULT_MAX_ITEMS_PER_READ};
use crate::vendors::{
    GptbotsSettings, JijyunSettings, MegaviewSettings, SignAlgorithm, UdeskSettings, vendor_config,
};

/// The demo's gateway address.
pub const DEMO_LISTEN: &str = "127.0.0.1:8080";

/// A config with one source per vendor, pointed at simulators on `simulators`.
pub fn config(
    simulators: SocketAddr,
    credentials: &SandboxCredentials,
    listen: SocketAddr,
) -> anyhow::Result<Config> {
    let source = |name: &str, path: &str, vendor: VendorSettings| -> anyhow::Result<SourceConfig> {
        let base_url = Url::parse(&format!("http://{simulators}/{path}"))?;
        let tier = vendor_config(vendor.kind()).default_tier;
        Ok(SourceConfig {
            name: name
                .parse()
                .map_err(|err: crate::domain::InvalidId| anyhow::anyhow!(err.0))?,
            base_url,
            timeout: config::DEFAULT_SOURCE_TIMEOUT,
            timezone: chrono_tz::Asia::Shanghai,
            rate_limit: config::tier(tier).context("tier")?,
            max_concurrent_reads: DEFAULT_MAX_CONCURRENT_READS,
            max_items_per_read: DEFAULT_MAX_ITEMS_PER_READ,
            vendor,
        })
    };
    let secret = |value: &str| SecretString::from(value.to_owned());
    Ok(Config {
        server: ServerConfig {
            listen,
            request_timeout: config::DEFAULT_REQUEST_TIMEOUT,
            max_range_days: config::DEFAULT_MAX_RANGE_DAYS,
            ..ServerConfig::default()
        },
        auth: AuthConfig::default(),
        cursor: CursorConfig::default(),
        rate_limit: RateLimitStoreConfig::default(),
        cache: CacheConfig::with_ttl(config::DEFAULT_CACHE_TTL),
        telemetry: TelemetryConfig::default(),
        sources: vec![
            source(
                "sales",
                "megaview",
                VendorSettings::Megaview(MegaviewSettings {
                    app_key: secret(&credentials.megaview_app_key),
                    app_secret: secret(&credentials.megaview_app_secret),
                    // The simulated object store is the simulators' own loopback address,
                    // which only a listed host may be.
                    transcript_hosts: vec![
                        FileHost::parse(&simulators.to_string()).map_err(anyhow::Error::msg)?,
                    ],
                }),
            )?,
            source(
                "assistant",
                "gptbots",
                VendorSettings::Gptbots(GptbotsSettings {
                    api_key: secret(&credentials.gptbots_api_key),
                    conversation_type: "ALL".to_owned(),
                }),
            )?,
            source(
                "helpdesk",
                "udesk",
                VendorSettings::Udesk(UdeskSettings {
                    email: credentials.udesk_email.clone(),
                    api_token: secret(&credentials.udesk_api_token),
                    robot_id: credentials.udesk_robot_id,
                    sign_algorithm: match credentials.udesk_sign_algorithm {
                        sandbox::SignAlgorithm::Sha1 => SignAlgorithm::Sha1,
                        sandbox::SignAlgorithm::Sha256 => SignAlgorithm::Sha256,
                    },
                }),
            )?,
            source(
                "inbox",
                "jijyun",
                VendorSettings::Jijyun(JijyunSettings {
                    api_key: secret(&credentials.jijyun_api_key),
                }),
            )?,
        ],
    })
}

/// Runs demo mode until SIGINT/SIGTERM.
pub async fn run(listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let listen = match listen {
        Some(listen) => listen,
        None => DEMO_LISTEN.parse()?,
    };
    let simulators = Sandbox::new(SandboxConfig::default());
    let sim_listener = TcpListener::bind("127.0.0.1:0").await?;
    let sim_addr = sim_listener.local_addr()?;
    tokio::spawn(sandbox::serve(sim_listener, simulators.clone()));

    let config = config(sim_addr, simulators.credentials(), listen)?;
    let (router, state) = app::build(&config)?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let customer = simulators
        .jijyun_customers()
        .into_iter()
        .next()
        .unwrap_or_default();
    tracing::info!(
        simulators = %sim_addr,
        jijyun_customer_id = %customer,
        "Demo mode: no config given, serving the built-in vendor simulators. Open http://{addr}/docs (Jijyun answers with customer_id={customer})."
    );
    app::serve(listener, router, state).await;
    Ok(())
}
