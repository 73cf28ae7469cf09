//! The live membership of an etcd cluster, read over HTTP — the provider's source for the
//! cluster string and `client_urls`, and the requirer's way from peer URLs to client URLs.
//!
//! Two calls, tried in this order, one attempt each and bounded by a timeout:
//!
//! 1. `GET <url>/members` — served on the **peer** port by etcd 3.3–3.7, even when the JSON
//!    gateway is off (as on the charm's config-file-driven 3.4 snap). It needs HTTP/1.1 (the
//!    3.4 peer port breaks HTTP/2), which is all our client speaks, and a client certificate
//!    the peer CA trusts.
//! 2. `POST <url>/v3/cluster/member/list` with body `{}` — the v3 JSON gateway on the
//!    **client** port, used when the first call answers 404 (a client URL, or an etcd
//!    without the peer endpoint).
//!
//! Only the given CA is trusted, no proxy from the environment is used and redirects are not
//! followed, so the request goes exactly where the URL says.

mod decode;
mod http;

use std::collections::BTreeSet;
use std::time::Duration;

#[cfg(feature = "testing")]
pub(crate) use http::agent;
pub use http::{FetchErrorKind, MembershipError, TlsFailure};

use crate::cluster::{
    excerpt, ClusterEntry, ClusterString, ClusterStringError, EtcdUrl, MemberName,
};
use crate::tls::ClientTls;

/// A timeout that suits hook code: long enough for a loaded machine, short enough that a
/// dead address does not stall a hook.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One etcd member as the cluster reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member id (exact: parsed as `u64`, never through a float).
    pub id: u64,
    /// The member name; empty while the member has been added but not started.
    pub name: String,
    /// The URLs other members reach it on.
    pub peer_urls: Vec<EtcdUrl>,
    /// The URLs clients reach it on; empty while not started.
    pub client_urls: Vec<EtcdUrl>,
    /// A non-voting learner (etcd ≥ 3.4); proxies must not route to it.
    pub is_learner: bool,
}

impl Member {
    /// Started (it has a name) and voting (not a learner): the members a cluster string and
    /// a proxy should know about.
    pub fn is_started_voter(&self) -> bool {
        !self.name.is_empty() && !self.is_learner
    }
}

/// Which call produced a [`Membership`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipSource {
    /// `GET /members` on a peer URL.
    PeerMembers,
    /// `POST /v3/cluster/member/list` on a client URL (the v3 JSON gateway).
    JsonGateway,
}

/// A cluster's members as one member reported them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The cluster id, when the answer carried it (`X-Etcd-Cluster-Id` of `/members`, the
    /// response header of the gateway). Two answers from one cluster carry the same id.
    pub cluster_id: Option<u64>,
    /// The members, in the order etcd listed them.
    pub members: Vec<Member>,
    /// The call that answered.
    pub source: MembershipSource,
}

impl Membership {
    /// Started, non-learner members.
    pub fn started_voters(&self) -> impl Iterator<Item = &Member> + '_ {
        self.members.iter().filter(|m| m.is_started_voter())
    }

    /// The `--initial-cluster` string of the started, non-learner members: one `name=url`
    /// entry per peer URL, in canonical (sorted) order.
    ///
    /// # Errors
    /// [`ClusterStringError::Empty`] when no member qualifies; a name or URL set that is not
    /// a valid cluster string (e.g. a member name with characters etcd allows but a unit file
    /// must not carry, or a URL shared by two members).
    pub fn cluster_string(&self) -> Result<ClusterString, ClusterStringError> {
        let mut entries = Vec::new();
        for member in self.started_voters() {
            let name: MemberName =
                member
                    .name
                    .parse()
                    .map_err(|source| ClusterStringError::Name {
                        entry: entries.len() + 1,
                        excerpt: excerpt(&member.name),
                        source,
                    })?;
            for url in &member.peer_urls {
                entries.push(ClusterEntry::new(name.clone(), url.clone()));
            }
        }
        ClusterString::new(entries)
    }

    /// The client URLs of the started, non-learner members, sorted, each once.
    pub fn client_urls(&self) -> Vec<EtcdUrl> {
        let urls: BTreeSet<&EtcdUrl> = self
            .started_voters()
            .flat_map(|m| m.client_urls.iter())
            .collect();
        urls.into_iter().cloned().collect()
    }
}

/// Reads the membership from `url` (a peer or a client URL of any member): `GET /members`,
/// then, on HTTP 404 only, `POST /v3/cluster/member/list`. Each call is tried once and takes
/// at most `timeout`.
///
/// # Errors
/// A [`MembershipError`] naming the URL and what failed: refused, unreachable, timed out,
/// TLS (unknown CA, client certificate missing or rejected), an HTTP status, neither call
/// served, or an undecodable answer.
pub fn fetch_members(
    url: &EtcdUrl,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<Membership, MembershipError> {
    let agent = http::agent(tls, timeout);
    match http::get_peer_members(&agent, url, timeout) {
        Err(e) if e.kind == FetchErrorKind::Status(404) => {
            http::post_member_list(&agent, url, timeout).map_err(|e| match e.kind {
                FetchErrorKind::Status(404) => MembershipError {
                    url: url.to_string(),
                    kind: FetchErrorKind::NotServed,
                },
                _ => e,
            })
        }
        other => other,
    }
}

/// Reads the membership with `GET <url>/members` only (no fallback): what a requirer asks a
/// peer URL.
///
/// # Errors
/// As [`fetch_members`], with a 404 reported as [`FetchErrorKind::Status`].
pub fn fetch_peer_members(
    url: &EtcdUrl,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<Membership, MembershipError> {
    http::get_peer_members(&http::agent(tls, timeout), url, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> EtcdUrl {
        s.parse().unwrap()
    }

    fn member(id: u64, name: &str, peers: &[&str], clients: &[&str], learner: bool) -> Member {
        Member {
            id,
            name: name.into(),
            peer_urls: peers.iter().map(|u| url(u)).collect(),
            client_urls: clients.iter().map(|u| url(u)).collect(),
            is_learner: learner,
        }
    }

    fn sample() -> Membership {
        Membership {
            cluster_id: Some(7),
            members: vec![
                member(
                    3,
                    "etcd1",
                    &["https://10.0.0.2:2380", "https://10.1.0.2:2380"],
                    &["https://10.0.0.2:2379"],
                    false,
                ),
                member(
                    1,
                    "etcd0",
                    &["https://10.0.0.1:2380"],
                    &["https://10.0.0.1:2379"],
                    false,
                ),
                member(9, "", &["https://10.0.0.9:2380"], &[], true),
                member(
                    5,
                    "etcd3",
                    &["https://10.0.0.4:2380"],
                    &["https://10.0.0.4:2379"],
                    true,
                ),
            ],
            source: MembershipSource::PeerMembers,
        }
    }

    #[test]
    fn cluster_string_has_started_voters_one_entry_per_peer_url_sorted() {
        assert_eq!(
            sample().cluster_string().unwrap().to_string(),
            "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380,etcd1=https://10.1.0.2:2380"
        );
    }

    #[test]
    fn client_urls_leave_out_learners_and_unstarted_members() {
        let urls: Vec<String> = sample()
            .client_urls()
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(urls, ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]);
    }

    #[test]
    fn no_started_voter_is_an_empty_cluster_string() {
        let mut membership = sample();
        membership.members.retain(|m| !m.is_started_voter());
        assert_eq!(membership.cluster_string(), Err(ClusterStringError::Empty));
        assert!(membership.client_urls().is_empty());
    }

    #[test]
    fn a_name_a_unit_file_must_not_carry_is_refused() {
        let mut membership = sample();
        membership.members[0].name = "bad name\n".into();
        let err = membership.cluster_string().unwrap_err();
        assert!(matches!(err, ClusterStringError::Name { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'));
    }
}
