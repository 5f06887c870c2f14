//! Request guards: what a handler's signature says it needs from the request (the client's
//! address, the keys it carries, how it came, whether an upload may start), in one place.

pub mod caching;
pub mod client;
pub mod keys;
pub mod uploads;
pub mod visit;
