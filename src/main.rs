//! Binary entry point. All wiring lives in the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    conversation_gateway::cli::run().await
}
