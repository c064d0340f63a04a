//! Helpers shared by the integration tests. Each test binary uses only part of them.
#![allow(dead_code)]

pub mod backend;
pub mod clickhouse;
pub mod mariadb;
pub mod pg;
pub mod process;
pub mod serve;
pub mod server;
pub mod sshd;
pub mod tmux;
pub mod tui;
pub mod xlsx;
