//! Process-level tests of `ProcessHookTools`: the real spawning code against a shell stand-in
//! for each hook tool that records its argv and stdin and answers from fixtures.

mod argv;
mod faults;
mod persist;
mod secrets;
mod shim;
mod timing;
