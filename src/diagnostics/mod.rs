//! The diagnostics room: the health report and connectivity checks the SDK gives about itself,
//! and throughput tests over `/fabstir/perf/1.0.0`. It sits beside the façade and uses the
//! network and the marketplace.

pub mod health;
pub mod perf;
