//! Binary entry point. All wiring lives in the library.

// glibc's malloc spent a quarter of the gateway's CPU under load and kept per-thread arenas
// of freed memory; mimalloc is faster for this many small short-lived allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    conversation_gateway::cli::run().await
}
