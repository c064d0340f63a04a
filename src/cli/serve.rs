//! `tdb serve`: the flags. The server itself is handed in by main.rs, like the terminal UI,
//! so the command line depends on neither.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Context;
use crate::core::{Error, Result};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tdb key create alice --sources orders && tdb serve
  tdb serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  curl -H \"Authorization: Bearer $KEY\" http://127.0.0.1:8000/v1/sources

Every request but /healthz and /openapi.json needs `Authorization: Bearer tdbk_…`.
SIGTERM or Ctrl-C stops accepting, lets running queries finish within --grace-s, then
cancels the rest on their servers; every query ends with its audit line.")]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// PEM certificate chain for HTTPS
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback (keys and rows travel in clear)
    #[arg(long)]
    insecure_http: bool,
    /// Queries running at once on one source; more wait in line
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_per_source: u32,
    /// How long a query waits in line for its source before it is refused with 503
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    queue_timeout_s: u64,
    /// How long running queries may go on after SIGTERM/SIGINT before they are cancelled
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    grace_s: u64,
}

/// What the server needs to know, from the flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_per_source: u32,
    pub queue_timeout: Duration,
    pub grace: Duration,
}

/// Starts the server on a home until a signal stops it.
pub type Server = fn(&crate::home::Home, ServeOptions) -> Result<()>;

pub fn run(ctx: &Context, args: ServeArgs, server: Server) -> Result<()> {
    let tls = args.tls_cert.zip(args.tls_key);
    if tls.is_none() && !args.listen.ip().is_loopback() && !args.insecure_http {
        return Err(Error::Invalid(format!(
            "listen: {} is not a loopback address; give --tls-cert and --tls-key, or \
             --insecure-http to send keys and rows in clear",
            args.listen
        )));
    }
    server(
        &ctx.home,
        ServeOptions {
            listen: args.listen,
            tls,
            max_per_source: args.max_per_source,
            queue_timeout: Duration::from_secs(args.queue_timeout_s),
            grace: Duration::from_secs(args.grace_s),
        },
    )
}
