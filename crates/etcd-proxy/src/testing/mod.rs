//! Test support shared by this crate's tests and other crates' tests (feature `testing`): a
//! PKI generated at test time, the Python provider's databag, and the bad-input corpus.
//!
//! Not for production: these helpers panic when certificate generation fails.

mod corpus;
pub mod etcd;
mod pki;

pub use corpus::{corpus_path, load_corpus, BadInput, CorpusError};
pub use pki::{CertSpec, IssuedCert, TestPki, TestValidity};
