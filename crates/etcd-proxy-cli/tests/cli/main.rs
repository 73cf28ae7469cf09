//! Process-level tests of `etcd-proxy-relation`: the real binary as CLI, as the emulator that
//! drives charm hooks, and as the hook tools those hooks call.

mod commands;
mod corpus;
mod hook_tools;
mod hygiene;
mod lifecycle;
mod python;
mod support;
