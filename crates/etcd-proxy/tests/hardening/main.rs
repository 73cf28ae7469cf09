//! Hardening suite (issue 5): crash consistency under SIGKILL, hook-tool faults end to end,
//! and property tests of the requirer on arbitrary relation data.

mod crash;
mod fake_tools;
mod faults;
mod props;
mod support;
