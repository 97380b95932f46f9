//! Fault tests: the real `concert-server` binary killed, restarted and driven
//! over HTTP, each run ending with the money invariants checked.

mod crash;
mod link;
mod memory;
mod proxy;
mod server;
