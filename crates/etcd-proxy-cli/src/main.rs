//! `etcd-proxy-relation`: the etcd-proxy relation interface for charms in any language.

fn main() {}
