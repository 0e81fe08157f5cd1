//! The command line: `serve` (default; demo mode without a config), `sandbox`, `openapi`,
//! `check-config` and `healthcheck`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{self, Config, TelemetryConfig};
use crate::sandbox::{
    Faults, ListOrder, MAX_CONVERSATIONS_PER_VENDOR, Sandbox, SandboxConfig, SimVendor, Throttle,
};
use crate::telemetry::{self, LogFormat};
use crate::{api, app, demo};

/// One normalized HTTP API over Megaview, GPTBots, Udesk KM and Jijyun conversations.
#[derive(Debug, Parser)]
#[command(name = "conversation-gateway", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log format: `text` or `json`.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gateway (the default). Without a config: demo mode over built-in simulators.
    Serve(ServeArgs),
    /// Run only the vendor simulators, under /megaview, /gptbots, /udesk and /jijyun.
    Sandbox(SandboxArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Validate a config file and print it with every secret redacted.
    CheckConfig {
        /// The config file.
        #[arg(long, env = config::CONFIG_ENV)]
        config: PathBuf,
    },
    /// Probe a running gateway's /healthz (container health checks need no shell tools).
    /// Exit 0 when it answers 200, 1 otherwise.
    Healthcheck {
        /// The URL to probe. Default: /healthz on loopback at the port of `GATEWAY_LISTEN`,
        /// else 8080.
        #[arg(long)]
        url: Option<String>,
        /// Address the gateway listens on (its port is probed on loopback).
        #[arg(long, env = config::LISTEN_ENV)]
        listen: Option<SocketAddr>,
    },
}

#[derive(Debug, Args, Default)]
struct ServeArgs {
    /// Config file (TOML). Without one, demo mode.
    #[arg(long, env = config::CONFIG_ENV)]
    config: Option<PathBuf>,
    /// Address to listen on; overrides `server.listen`.
    #[arg(long, env = config::LISTEN_ENV)]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Conversations per vendor, at most 100000 (messages are generated on request).
    #[arg(long, default_value_t = 300)]
    conversations: usize,
    /// Days of history the data spreads over, ending now.
    #[arg(long, default_value_t = 28)]
    history_days: u32,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Per-vendor latency, e.g. `megaview=50` (repeatable); overrides --latency-ms.
    #[arg(long, value_parser = parse_vendor_ms)]
    vendor_latency: Vec<(SimVendor, u64)>,
    /// Fraction of requests answered with the vendor's 5xx (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fraction of requests that hang past any client timeout (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    timeout_rate: f64,
    /// Vendor-side rate limit per vendor, requests per second (answers the vendor's 429).
    #[arg(long)]
    throttle_per_second: Option<u32>,
    /// `Retry-After` seconds sent with throttle answers.
    #[arg(long)]
    retry_after_seconds: Option<u32>,
    /// Order inside list answers: `documented` (by time) or `arbitrary` (a stable shuffle
    /// before paging, which no vendor document rules out).
    #[arg(long, value_enum, default_value = "documented")]
    list_order: ListOrder,
}

fn parse_vendor_ms(raw: &str) -> Result<(SimVendor, u64), String> {
    let (vendor, ms) = raw
        .split_once('=')
        .ok_or_else(|| format!("`{raw}` is not VENDOR=MILLISECONDS"))?;
    let vendor = SimVendor::ALL
        .into_iter()
        .find(|v| v.as_str() == vendor)
        .ok_or_else(|| format!("`{vendor}` is not a vendor"))?;
    let ms = ms
        .parse()
        .map_err(|_| format!("`{ms}` is not milliseconds"))?;
    Ok((vendor, ms))
}

fn fraction(name: &str, value: f64) -> anyhow::Result<f64> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&value),
        "--{name} must be between 0 and 1"
    );
    Ok(value)
}

/// Prints a failed command's error for people: one line, its causes joined with `: `,
/// never a backtrace (whatever `RUST_BACKTRACE` says). Errors here never carry secrets.
pub fn report(err: &anyhow::Error) {
    eprintln!("error: {err:#}");
}

/// Runs the command line.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    if !matches!(command, Command::Serve(_)) {
        // Logs only: traces are exported by a gateway serving a config that asks for it.
        let _logs = telemetry::init(cli.log_format, &TelemetryConfig::default())?;
    }
    match command {
        Command::Serve(args) => serve(args, cli.log_format).await,
        Command::Sandbox(args) => sandbox(args).await,
        Command::Openapi => {
            let json = api::openapi().to_pretty_json()?;
            writeln!(std::io::stdout().lock(), "{json}")?;
            Ok(())
        }
        Command::CheckConfig { config } => {
            let config = Config::load(&config)?;
            write!(std::io::stdout().lock(), "{}", config.redacted_summary())?;
            Ok(())
        }
        Command::Healthcheck { url, listen } => healthcheck(url, listen).await,
    }
}

async fn healthcheck(url: Option<String>, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(|| {
        let port = listen.map_or(8080, |addr| addr.port());
        format!("http://127.0.0.1:{port}/healthz")
    });
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    Ok(())
}

async fn serve(args: ServeArgs, log_format: LogFormat) -> anyhow::Result<()> {
    let Some(path) = args.config else {
        let _logs = telemetry::init(log_format, &TelemetryConfig::default())?;
        return demo::run(args.listen).await;
    };
    // Read before logging starts: the config says where traces go.
    let mut config = Config::load(&path)?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let telemetry = telemetry::init(log_format, &config.telemetry)
        .context("cannot start the trace exporter")?;
    let served = serve_config(&config).await;
    telemetry.shutdown().await;
    served
}

async fn serve_config(config: &Config) -> anyhow::Result<()> {
    let (router, state) = app::build(config)?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        sources = config.sources.len(),
        "Gateway listening."
    );
    app::serve(listener, router, state).await;
    Ok(())
}

async fn sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.conversations <= MAX_CONVERSATIONS_PER_VENDOR,
        "--conversations must be at most {MAX_CONVERSATIONS_PER_VENDOR}"
    );
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        error_rate: fraction("error-rate", args.error_rate)?,
        timeout_rate: fraction("timeout-rate", args.timeout_rate)?,
        throttle: args.throttle_per_second.map(|per_second| Throttle {
            per_second,
            burst: per_second,
            retry_after_seconds: args.retry_after_seconds,
        }),
        ..Faults::default()
    };
    let sandbox = Sandbox::new(SandboxConfig {
        seed: args.seed,
        conversations_per_vendor: args.conversations,
        history_days: args.history_days,
        faults: faults.clone(),
        list_order: args.list_order,
        ..SandboxConfig::default()
    });
    for (vendor, ms) in args.vendor_latency {
        sandbox.set_faults(
            vendor,
            Faults {
                latency: Duration::from_millis(ms),
                ..faults.clone()
            },
        );
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        jijyun_customers = ?sandbox.jijyun_customers(),
        "Vendor simulators listening under /megaview, /gptbots, /udesk and /jijyun."
    );
    crate::sandbox::serve(listener, sandbox).await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command, SandboxArgs, sandbox};
    use crate::sandbox::ListOrder;

    fn sandbox_args(extra: &[&str]) -> SandboxArgs {
        let argv = ["conversation-gateway", "sandbox"]
            .into_iter()
            .chain(extra.iter().copied());
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Sandbox(args)) => args,
            other => panic!("not the sandbox command: {other:?}"),
        }
    }

    #[test]
    fn list_order_defaults_to_documented_and_accepts_arbitrary() {
        assert_eq!(sandbox_args(&[]).list_order, ListOrder::Documented);
        let args = sandbox_args(&["--list-order", "arbitrary"]);
        assert_eq!(args.list_order, ListOrder::Arbitrary);
        let argv = ["conversation-gateway", "sandbox", "--list-order", "random"];
        assert!(Cli::try_parse_from(argv).is_err());
    }

    #[tokio::test]
    async fn more_conversations_than_supported_are_refused_in_one_line() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("sandbox")
            .unwrap()
            .render_help()
            .to_string();
        assert!(help.contains("at most 100000"), "{help}");

        let args = sandbox_args(&["--conversations", "100001", "--listen", "127.0.0.1:0"]);
        let err = sandbox(args).await.unwrap_err();
        assert_eq!(format!("{err:#}"), "--conversations must be at most 100000");
    }
}
