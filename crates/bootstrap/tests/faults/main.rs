//! Fault tests: the real `concert-server` binary killed, restarted and driven
//! over HTTP, each run ending with the money invariants checked.

mod crash;
mod invariants;
mod link;
mod memory;
mod ops;
mod parser;
mod proxy;
mod redis_down;
mod server;
mod slow_clients;
