//! Tests of the typed relation data: URLs and cluster strings, client credentials, the wire
//! codec, and the bad-input corpus.

mod cluster_props;
mod corpus;
mod credentials;
mod rsa;
mod wire;
mod wire_props;
