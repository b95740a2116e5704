use clap::Parser;
use std::process::ExitCode;

mod memory;

fn main() -> ExitCode {
    let allocator_tuned = memory::tune_allocator();
    let config = server::config::Config::parse();
    server::telemetry::init(config.log_format);
    if !allocator_tuned {
        tracing::warn!("glibc refused the allocator settings; idle memory will be higher");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
