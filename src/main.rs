//! Binary entry point. All wiring lives in the library.

// glibc's malloc spent a quarter of the gateway's CPU under load. jemalloc (as in Apollo
// router, vector and TiKV) is as fast here as mimalloc and returns freed memory sooner; its
// options are compiled in from `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match conversation_gateway::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            conversation_gateway::cli::report(&err);
            std::process::ExitCode::FAILURE
        }
    }
}
