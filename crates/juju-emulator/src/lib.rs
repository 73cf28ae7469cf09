//! A local stand-in for Juju: the hook tools over a model kept on disk, and a hook runner
//! that fires hooks in Juju's order and commits relation writes only when a hook succeeds.
#![deny(missing_docs)]
