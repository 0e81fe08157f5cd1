//! What both benchmarks share: the `[[sources]]` of a gateway config with one source per
//! vendor simulator.

use std::net::SocketAddr;

use conversation_gateway::sandbox::SandboxCredentials;

/// The four sources over the simulators at `sim`, each with the `limit` line (empty: the
/// vendor's default quota).
pub fn simulator_sources(sim: SocketAddr, limit: &str) -> String {
    let c = SandboxCredentials::default();
    format!(
        r#"[[sources]]
name = "sales"
vendor = "megaview"
base_url = "http://{sim}/megaview"
app_key = "{}"
app_secret = "{}"
transcript_hosts = ["{sim}"]
{limit}

[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "http://{sim}/gptbots"
api_key = "{}"
{limit}

[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "http://{sim}/udesk"
email = "{}"
api_token = "{}"
robot_id = {}
{limit}

[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "http://{sim}/jijyun"
api_key = "{}"
{limit}
"#,
        c.megaview_app_key,
        c.megaview_app_secret,
        c.gptbots_api_key,
        c.udesk_email,
        c.udesk_api_token,
        c.udesk_robot_id,
        c.jijyun_api_key,
    )
}
