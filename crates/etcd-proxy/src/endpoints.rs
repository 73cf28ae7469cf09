//! The requirer's client endpoints: the cluster string carries **peer** URLs, while the
//! gateway and grpc-proxy need **client** URLs.
//!
//! In order of preference:
//!
//! 1. the provider's `client_urls` key, when present (this implementation's providers and
//!    the unmerged upstream proposal send it);
//! 2. `GET <peer>/members` with the relation's credentials, trying the cluster string's peer
//!    URLs in order until one gives a usable answer (deployed Python providers send only the
//!    cluster string). The first usable answer is taken, so there is no second answer whose
//!    cluster id could disagree; instead an answer that does not list the peer URL that was
//!    asked (another etcd at that address, or a member list the cluster string was not made
//!    from) is still used, with a warning;
//! 3. as a last resort, each peer host with port 2379, with a warning: the etcd charm may
//!    advertise client URLs on another network than peer URLs, so this is a guess.
//!
//! Nothing here logs; warnings are returned for the caller to log or show
//! ([`crate::LocalProxy::ensure`] logs them). They are few and short whatever the peers
//! answer: at most [`MAX_PEER_WARNINGS`] peers are named, each with a cut message.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::cluster::{ClusterString, EtcdUrl};
use crate::membership::{fetch_members, MembershipError};
use crate::tls::ClientTls;

/// etcd's default client port, used only for the last-resort guess.
pub const DEFAULT_CLIENT_PORT: u16 = 2379;

/// How many unanswered peers the warnings name one by one; the others are counted.
pub const MAX_PEER_WARNINGS: usize = 3;

/// How many URLs a warning lists before it counts the rest.
const MAX_LISTED_URLS: usize = 5;

/// How long resolution may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolveLimits {
    /// The timeout of one `/members` request.
    pub per_request: Duration,
    /// No new request starts after this much time has passed.
    pub total: Duration,
}

impl Default for ResolveLimits {
    /// 3 s per request, 10 s in all: a dead peer costs at most one request timeout.
    fn default() -> Self {
        ResolveLimits {
            per_request: Duration::from_secs(3),
            total: Duration::from_secs(10),
        }
    }
}

/// Where resolved endpoints came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointSource {
    /// The provider's `client_urls`.
    ClientUrls,
    /// The live member list, as answered by this peer URL.
    PeerMembers {
        /// The peer URL that answered.
        from: EtcdUrl,
    },
    /// Peer hosts with port [`DEFAULT_CLIENT_PORT`]: nothing better was available (now, or
    /// in an earlier hook whose guess is kept).
    Guessed,
    /// Kept from an earlier hook: the relation data they came from has not changed (or no
    /// resolution is needed, as for the v2 proxy).
    Cached,
}

/// The client endpoints a local proxy should use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedEndpoints {
    /// The client URLs, sorted, each once; never empty.
    pub urls: Vec<EtcdUrl>,
    /// How they were found.
    pub source: EndpointSource,
    /// One-line notes for the operator (peers that did not answer, a guess); the caller logs
    /// them.
    pub warnings: Vec<String>,
}

/// Resolves client endpoints from the provider's `client_urls` (if any), else the live
/// membership behind `cluster`'s peer URLs, else a guess. Bounded by `limits`.
pub fn resolve_endpoints(
    cluster: &ClusterString,
    client_urls: Option<&[EtcdUrl]>,
    tls: &ClientTls,
    limits: ResolveLimits,
) -> ResolvedEndpoints {
    if let Some(given) = given_endpoints(client_urls) {
        return given;
    }
    let started = Instant::now();
    let mut warnings = Vec::new();
    let mut failed = 0;
    let peers: Vec<&EtcdUrl> = cluster.peer_urls().collect();
    for (i, peer) in peers.iter().enumerate() {
        if started.elapsed() >= limits.total {
            warnings.push(format!(
                "stopped asking peers after {:?}; {} not asked",
                limits.total,
                peers.len() - i
            ));
            break;
        }
        match client_urls_from(peer, tls, limits.per_request) {
            Ok((urls, note)) => {
                warnings.extend(silent_peers(failed));
                warnings.extend(note);
                return ResolvedEndpoints {
                    urls,
                    source: EndpointSource::PeerMembers {
                        from: (*peer).clone(),
                    },
                    warnings,
                };
            }
            Err(why) if failed < MAX_PEER_WARNINGS => {
                failed += 1;
                warnings.push(why);
            }
            Err(_) => failed += 1,
        }
    }
    warnings.extend(silent_peers(failed));
    let urls = guess(cluster);
    warnings.push(format!(
        "no peer told us the client URLs; guessing port {DEFAULT_CLIENT_PORT} on the peer \
         hosts: {}",
        join(&urls)
    ));
    ResolvedEndpoints {
        urls,
        source: EndpointSource::Guessed,
        warnings,
    }
}

/// The provider's `client_urls`, when it sent any: no request needed.
pub fn given_endpoints(client_urls: Option<&[EtcdUrl]>) -> Option<ResolvedEndpoints> {
    let urls = client_urls.filter(|urls| !urls.is_empty())?;
    Some(ResolvedEndpoints {
        urls: sorted_unique(urls.iter().cloned()),
        source: EndpointSource::ClientUrls,
        warnings: Vec::new(),
    })
}

/// The last resort when the peers cannot be asked at all (e.g. the credentials make no TLS
/// client): each peer host on port [`DEFAULT_CLIENT_PORT`], with `why` as a warning.
pub fn guessed_endpoints(cluster: &ClusterString, why: &str) -> ResolvedEndpoints {
    let urls = guess(cluster);
    let warning = format!(
        "{why}; guessing port {DEFAULT_CLIENT_PORT} on the peer hosts: {}",
        join(&urls)
    );
    ResolvedEndpoints {
        urls,
        source: EndpointSource::Guessed,
        warnings: vec![warning],
    }
}

/// The client URLs of the started voters that `peer` reports, if its answer is usable, and
/// a warning when the answer does not list `peer` itself.
fn client_urls_from(
    peer: &EtcdUrl,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<(Vec<EtcdUrl>, Option<String>), String> {
    let membership =
        fetch_members(peer, tls, timeout).map_err(|e: MembershipError| e.to_string())?;
    let urls = membership.client_urls();
    if urls.is_empty() {
        return Err(format!(
            "{peer}/members lists no started voting member with a client URL"
        ));
    }
    let lists_itself = membership
        .members
        .iter()
        .any(|m| m.peer_urls.contains(peer));
    let note = (!lists_itself).then(|| {
        format!(
            "{peer}/members answered with a member list that does not include {peer}; \
             using it anyway"
        )
    });
    Ok((urls, note))
}

/// A count of the unanswered peers the warnings do not name.
fn silent_peers(failed: usize) -> Option<String> {
    (failed > MAX_PEER_WARNINGS).then(|| {
        format!(
            "{} more peers did not answer either",
            failed - MAX_PEER_WARNINGS
        )
    })
}

fn guess(cluster: &ClusterString) -> Vec<EtcdUrl> {
    // `with_port` fails only for port 0, which DEFAULT_CLIENT_PORT is not.
    sorted_unique(
        cluster
            .peer_urls()
            .filter_map(|peer| peer.with_port(DEFAULT_CLIENT_PORT).ok()),
    )
}

fn sorted_unique(urls: impl Iterator<Item = EtcdUrl>) -> Vec<EtcdUrl> {
    urls.collect::<BTreeSet<_>>().into_iter().collect()
}

/// The URLs for a warning: the first few, then how many there are.
fn join(urls: &[EtcdUrl]) -> String {
    let mut text = urls
        .iter()
        .take(MAX_LISTED_URLS)
        .map(EtcdUrl::as_str)
        .collect::<Vec<_>>()
        .join(",");
    if urls.len() > MAX_LISTED_URLS {
        text.push_str(&format!(",... ({} URLs)", urls.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> ClientTls {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        ClientTls::from_pem(&ca.pem(), &ca.pem(), &key.serialize_pem()).unwrap()
    }

    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn client_urls_win_and_are_sorted_and_unique() {
        let cluster: ClusterString = "a=https://10.0.0.1:2380".parse().unwrap();
        let given: Vec<EtcdUrl> = [
            "https://10.0.0.2:2379",
            "https://10.0.0.1:2379",
            "https://10.0.0.2:2379",
        ]
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
        let resolved = resolve_endpoints(&cluster, Some(&given), &tls(), ResolveLimits::default());
        assert_eq!(resolved.source, EndpointSource::ClientUrls);
        assert_eq!(
            resolved
                .urls
                .iter()
                .map(EtcdUrl::as_str)
                .collect::<Vec<_>>(),
            ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
        );
        assert!(resolved.warnings.is_empty());
    }

    #[test]
    fn unreachable_peers_lead_to_a_guess_with_warnings() {
        let (p1, p2) = (closed_port(), closed_port());
        let cluster: ClusterString = format!("a=https://127.0.0.1:{p1},b=https://localhost:{p2}")
            .parse()
            .unwrap();
        let resolved = resolve_endpoints(&cluster, Some(&[]), &tls(), ResolveLimits::default());
        assert_eq!(resolved.source, EndpointSource::Guessed);
        assert_eq!(
            join(&resolved.urls),
            "https://127.0.0.1:2379,https://localhost:2379"
        );
        // One warning per peer asked, then the guess.
        assert_eq!(resolved.warnings.len(), 3, "{:?}", resolved.warnings);
        assert!(
            resolved.warnings[0].contains("refused"),
            "{:?}",
            resolved.warnings
        );
        assert!(resolved.warnings[2].contains("guessing port 2379"));
    }

    #[test]
    fn many_silent_peers_make_few_short_warnings() {
        let peers: Vec<String> = (0..40)
            .map(|i| format!("m{i}=https://127.0.0.{}:{}", i + 1, closed_port()))
            .collect();
        let cluster: ClusterString = peers.join(",").parse().unwrap();
        let resolved = resolve_endpoints(&cluster, None, &tls(), ResolveLimits::default());
        assert_eq!(resolved.source, EndpointSource::Guessed);
        // Three named, one count, one guess.
        assert_eq!(resolved.warnings.len(), 5, "{:?}", resolved.warnings);
        assert!(resolved.warnings[3].starts_with("37 more peers"));
        assert!(
            resolved.warnings[4].ends_with(",... (40 URLs)"),
            "{:?}",
            resolved.warnings
        );
        assert!(resolved.warnings.iter().all(|w| w.len() < 400));
    }

    #[test]
    fn the_total_limit_stops_asking() {
        let cluster: ClusterString = format!(
            "a=https://127.0.0.1:{},b=https://127.0.0.1:{}",
            closed_port(),
            closed_port()
        )
        .parse()
        .unwrap();
        let limits = ResolveLimits {
            per_request: Duration::from_secs(1),
            total: Duration::ZERO,
        };
        let resolved = resolve_endpoints(&cluster, None, &tls(), limits);
        assert_eq!(resolved.source, EndpointSource::Guessed);
        assert!(
            resolved.warnings[0].contains("2 not asked"),
            "{:?}",
            resolved.warnings
        );
    }
}
