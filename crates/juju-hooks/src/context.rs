//! The hook context: everything Juju tells a hook through its environment, read once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{ContextError, IdError};
use crate::ids::{AppName, Endpoint, RelationId, UnitName};

/// Which hook is running.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookKind {
    /// `install`
    Install,
    /// `start`
    Start,
    /// `stop`
    Stop,
    /// `remove`
    Remove,
    /// `config-changed`
    ConfigChanged,
    /// `upgrade-charm`
    UpgradeCharm,
    /// `update-status`
    UpdateStatus,
    /// `leader-elected`
    LeaderElected,
    /// `leader-settings-changed`
    LeaderSettingsChanged,
    /// `<endpoint>-relation-created`
    RelationCreated(Endpoint),
    /// `<endpoint>-relation-joined`
    RelationJoined(Endpoint),
    /// `<endpoint>-relation-changed`
    RelationChanged(Endpoint),
    /// `<endpoint>-relation-departed`
    RelationDeparted(Endpoint),
    /// `<endpoint>-relation-broken`
    RelationBroken(Endpoint),
    /// An action (`actions/<name>` in `JUJU_DISPATCH_PATH`).
    Action(String),
    /// Any other hook (storage, secrets, pebble, ...), by name.
    Other(String),
}

type RelationHookBuilder = fn(Endpoint) -> HookKind;

const RELATION_SUFFIXES: [(&str, RelationHookBuilder); 5] = [
    ("-relation-created", HookKind::RelationCreated),
    ("-relation-joined", HookKind::RelationJoined),
    ("-relation-changed", HookKind::RelationChanged),
    ("-relation-departed", HookKind::RelationDeparted),
    ("-relation-broken", HookKind::RelationBroken),
];

impl HookKind {
    /// Parses a hook name such as `proxy-relation-joined` or `update-status`.
    ///
    /// # Errors
    /// [`ContextError::UnknownHook`] for an empty name or one with characters no hook has.
    pub fn from_hook_name(name: &str) -> Result<Self, ContextError> {
        let unknown = |reason: &str| ContextError::UnknownHook {
            reason: format!("{reason}: {name:?}"),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(unknown("not a hook name"));
        }
        for (suffix, make) in RELATION_SUFFIXES {
            if let Some(endpoint) = name.strip_suffix(suffix) {
                let endpoint = endpoint
                    .parse()
                    .map_err(|_| unknown("bad endpoint in relation hook"))?;
                return Ok(make(endpoint));
            }
        }
        Ok(match name {
            "install" => Self::Install,
            "start" => Self::Start,
            "stop" => Self::Stop,
            "remove" => Self::Remove,
            "config-changed" => Self::ConfigChanged,
            "upgrade-charm" => Self::UpgradeCharm,
            "update-status" => Self::UpdateStatus,
            "leader-elected" => Self::LeaderElected,
            "leader-settings-changed" => Self::LeaderSettingsChanged,
            other => Self::Other(other.to_owned()),
        })
    }

    /// The endpoint of a relation hook, `None` for other hooks.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Self::RelationCreated(e)
            | Self::RelationJoined(e)
            | Self::RelationChanged(e)
            | Self::RelationDeparted(e)
            | Self::RelationBroken(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is one of the `<endpoint>-relation-*` hooks.
    pub fn is_relation_hook(&self) -> bool {
        self.endpoint().is_some()
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let relation =
            |f: &mut fmt::Formatter<'_>, e: &Endpoint, what: &str| write!(f, "{e}-relation-{what}");
        match self {
            Self::Install => f.write_str("install"),
            Self::Start => f.write_str("start"),
            Self::Stop => f.write_str("stop"),
            Self::Remove => f.write_str("remove"),
            Self::ConfigChanged => f.write_str("config-changed"),
            Self::UpgradeCharm => f.write_str("upgrade-charm"),
            Self::UpdateStatus => f.write_str("update-status"),
            Self::LeaderElected => f.write_str("leader-elected"),
            Self::LeaderSettingsChanged => f.write_str("leader-settings-changed"),
            Self::RelationCreated(e) => relation(f, e, "created"),
            Self::RelationJoined(e) => relation(f, e, "joined"),
            Self::RelationChanged(e) => relation(f, e, "changed"),
            Self::RelationDeparted(e) => relation(f, e, "departed"),
            Self::RelationBroken(e) => relation(f, e, "broken"),
            Self::Action(name) => write!(f, "action {name}"),
            Self::Other(name) => f.write_str(name),
        }
    }
}

/// Everything Juju tells a hook through its environment, validated once.
///
/// This is the only place in the project that reads `std::env` ([`JujuContext::from_env`]);
/// everything else receives a `JujuContext`. Tests build one with [`JujuContext::from_map`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JujuContext {
    /// This unit (`JUJU_UNIT_NAME`).
    pub unit: UnitName,
    /// The charm directory (`JUJU_CHARM_DIR`, else the legacy `CHARM_DIR`).
    pub charm_dir: PathBuf,
    /// The running hook.
    pub hook: HookKind,
    /// The relation of a relation hook (`JUJU_RELATION_ID`).
    pub relation_id: Option<RelationId>,
    /// The remote unit of a relation hook; `None` where Juju exports it empty
    /// (`-created`, `-broken`, application-data `-changed`).
    pub remote_unit: Option<UnitName>,
    /// The remote application of a relation hook (`JUJU_REMOTE_APP`).
    pub remote_app: Option<AppName>,
    /// The unit going away, in `-relation-departed` (`JUJU_DEPARTING_UNIT`).
    pub departing_unit: Option<UnitName>,
    /// The id of this hook run (`JUJU_CONTEXT_ID`): equal for every process of one hook,
    /// different for the next hook. Lets several commands of one hook share work.
    pub context_id: Option<String>,
    /// The model name (`JUJU_MODEL_NAME`), informational.
    pub model_name: Option<String>,
    /// The agent version (`JUJU_VERSION`), e.g. `3.6.1`: tells which tools exist.
    pub juju_version: Option<String>,
    /// The secret of a secret hook (`JUJU_SECRET_ID`, a URI), e.g. in `secret-changed`.
    pub secret_id: Option<String>,
    /// The label of that secret, if it has one here (`JUJU_SECRET_LABEL`).
    pub secret_label: Option<String>,
    /// The revision a `secret-remove` (or `secret-expired`) hook is about
    /// (`JUJU_SECRET_REVISION`); `None` elsewhere, or when it is not a number.
    pub secret_revision: Option<u32>,
}

type Env = BTreeMap<String, String>;

fn non_empty<'a>(env: &'a Env, var: &str) -> Option<&'a str> {
    env.get(var).map(String::as_str).filter(|v| !v.is_empty())
}

fn parsed<T: std::str::FromStr<Err = IdError>>(
    env: &Env,
    var: &'static str,
) -> Result<Option<T>, ContextError> {
    non_empty(env, var)
        .map(|v| {
            v.parse()
                .map_err(|source| ContextError::Malformed { var, source })
        })
        .transpose()
}

fn base_name(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// The hook name, from `JUJU_DISPATCH_PATH`, then `JUJU_HOOK_NAME`, then the program name
/// (legacy `hooks/<name>` links), as charmcraft's dispatch does.
fn hook_kind(env: &Env, program: Option<&str>) -> Result<HookKind, ContextError> {
    if let Some(path) = non_empty(env, "JUJU_DISPATCH_PATH") {
        if let Some(action) = path.strip_prefix("actions/") {
            return Ok(HookKind::Action(action.to_owned()));
        }
        return HookKind::from_hook_name(base_name(path));
    }
    if let Some(name) = non_empty(env, "JUJU_HOOK_NAME") {
        return HookKind::from_hook_name(name);
    }
    match program.map(base_name) {
        Some(name) if !name.is_empty() => HookKind::from_hook_name(name),
        _ => Err(ContextError::UnknownHook {
            reason: "none of JUJU_DISPATCH_PATH, JUJU_HOOK_NAME or the program name names a hook"
                .to_owned(),
        }),
    }
}

impl JujuContext {
    /// Reads the context from this process's environment and program name.
    ///
    /// # Errors
    /// See [`JujuContext::from_map`].
    pub fn from_env() -> Result<Self, ContextError> {
        let env: Env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let program = std::env::args_os()
            .next()
            .and_then(|a| a.into_string().ok());
        Self::from_map(&env, program.as_deref())
    }

    /// Builds the context from an environment map and the program name (`argv[0]`).
    ///
    /// # Errors
    /// [`ContextError::Missing`] when `JUJU_UNIT_NAME` or the charm dir is absent,
    /// [`ContextError::Malformed`] for an id of the wrong shape, [`ContextError::UnknownHook`]
    /// when no hook name can be found, and [`ContextError::Inconsistent`] when a relation
    /// hook's endpoint differs from the one in `JUJU_RELATION_ID`.
    pub fn from_map(env: &Env, program: Option<&str>) -> Result<Self, ContextError> {
        let unit = parsed(env, "JUJU_UNIT_NAME")?.ok_or(ContextError::Missing {
            var: "JUJU_UNIT_NAME",
        })?;
        let charm_dir = non_empty(env, "JUJU_CHARM_DIR")
            .or_else(|| non_empty(env, "CHARM_DIR"))
            .map(PathBuf::from)
            .ok_or(ContextError::Missing {
                var: "JUJU_CHARM_DIR",
            })?;
        let hook = hook_kind(env, program)?;
        let relation_id: Option<RelationId> = parsed(env, "JUJU_RELATION_ID")?;
        if let Some(endpoint) = hook.endpoint() {
            let rid = relation_id.as_ref().ok_or(ContextError::Missing {
                var: "JUJU_RELATION_ID",
            })?;
            if rid.endpoint() != endpoint {
                return Err(ContextError::Inconsistent {
                    hook: hook.to_string(),
                    relation_id: rid.to_string(),
                });
            }
        }
        Ok(Self {
            unit,
            charm_dir,
            hook,
            relation_id,
            remote_unit: parsed(env, "JUJU_REMOTE_UNIT")?,
            remote_app: parsed(env, "JUJU_REMOTE_APP")?,
            departing_unit: parsed(env, "JUJU_DEPARTING_UNIT")?,
            context_id: non_empty(env, "JUJU_CONTEXT_ID").map(str::to_owned),
            model_name: non_empty(env, "JUJU_MODEL_NAME").map(str::to_owned),
            juju_version: non_empty(env, "JUJU_VERSION").map(str::to_owned),
            secret_id: non_empty(env, "JUJU_SECRET_ID").map(str::to_owned),
            secret_label: non_empty(env, "JUJU_SECRET_LABEL").map(str::to_owned),
            secret_revision: non_empty(env, "JUJU_SECRET_REVISION").and_then(|r| r.parse().ok()),
        })
    }

    /// This unit's application.
    pub fn app(&self) -> &AppName {
        self.unit.app()
    }

    /// The endpoint of the running relation hook, if any.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.relation_id.as_ref().map(RelationId::endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const BASE: [(&str, &str); 2] = [("JUJU_UNIT_NAME", "kube/0"), ("JUJU_CHARM_DIR", "/charm")];

    #[test]
    fn reads_a_relation_hook_from_the_dispatch_path() {
        let mut e = env(&BASE);
        e.extend(env(&[
            ("JUJU_DISPATCH_PATH", "hooks/proxy-relation-departed"),
            ("JUJU_RELATION", "proxy"),
            ("JUJU_RELATION_ID", "proxy:3"),
            ("JUJU_REMOTE_UNIT", "etcd/1"),
            ("JUJU_REMOTE_APP", "etcd"),
            ("JUJU_DEPARTING_UNIT", "etcd/1"),
        ]));
        let ctx = JujuContext::from_map(&e, Some("/charm/dispatch")).unwrap();
        assert_eq!(
            ctx.hook,
            HookKind::RelationDeparted("proxy".parse().unwrap())
        );
        assert_eq!(ctx.relation_id.as_ref().unwrap().to_string(), "proxy:3");
        assert_eq!(ctx.departing_unit.as_ref().unwrap().to_string(), "etcd/1");
        assert_eq!(ctx.app().as_str(), "kube");
    }

    #[test]
    fn reads_the_secret_of_a_secret_hook() {
        let mut e = env(&BASE);
        e.extend(env(&[
            ("JUJU_DISPATCH_PATH", "hooks/secret-changed"),
            ("JUJU_SECRET_ID", "secret:cu9pk5rr0ui3c8lb2fmg"),
            ("JUJU_SECRET_LABEL", ""),
            ("JUJU_VERSION", "3.6.1"),
        ]));
        let ctx = JujuContext::from_map(&e, None).unwrap();
        assert_eq!(ctx.hook, HookKind::Other("secret-changed".into()));
        assert_eq!(
            ctx.secret_id.as_deref(),
            Some("secret:cu9pk5rr0ui3c8lb2fmg")
        );
        assert_eq!(ctx.secret_label, None);
        assert_eq!(ctx.juju_version.as_deref(), Some("3.6.1"));
        assert_eq!(ctx.secret_revision, None);
    }

    /// Juju exports the obsolete revision in `secret-remove` (worker/uniter/runner/context/
    /// context.go, `JUJU_SECRET_REVISION`).
    #[test]
    fn reads_the_revision_of_a_secret_remove_hook() {
        let mut e = env(&BASE);
        e.extend(env(&[
            ("JUJU_DISPATCH_PATH", "hooks/secret-remove"),
            ("JUJU_SECRET_ID", "secret:cu9pk5rr0ui3c8lb2fmg"),
            ("JUJU_SECRET_REVISION", "2"),
        ]));
        let ctx = JujuContext::from_map(&e, None).unwrap();
        assert_eq!(ctx.secret_revision, Some(2));
        e.insert("JUJU_SECRET_REVISION".into(), "two".into());
        assert_eq!(
            JujuContext::from_map(&e, None).unwrap().secret_revision,
            None
        );
    }

    #[test]
    fn empty_remote_unit_means_none() {
        let mut e = env(&BASE);
        e.extend(env(&[
            ("JUJU_HOOK_NAME", "proxy-relation-broken"),
            ("JUJU_RELATION_ID", "proxy:3"),
            ("JUJU_REMOTE_UNIT", ""),
        ]));
        let ctx = JujuContext::from_map(&e, None).unwrap();
        assert_eq!(ctx.remote_unit, None);
    }

    #[test]
    fn falls_back_to_the_program_name_for_legacy_hooks() {
        let ctx = JujuContext::from_map(&env(&BASE), Some("hooks/update-status")).unwrap();
        assert_eq!(ctx.hook, HookKind::UpdateStatus);
        let ctx = JujuContext::from_map(&env(&BASE), Some("hooks/db-admin-relation-joined"));
        assert!(ctx.is_err(), "relation hook without JUJU_RELATION_ID");
    }

    #[test]
    fn missing_or_malformed_values_are_typed_errors() {
        assert_eq!(
            JujuContext::from_map(&env(&[("JUJU_CHARM_DIR", "/c")]), Some("install")),
            Err(ContextError::Missing {
                var: "JUJU_UNIT_NAME"
            })
        );
        let bad = env(&[("JUJU_UNIT_NAME", "kube"), ("JUJU_CHARM_DIR", "/c")]);
        assert!(matches!(
            JujuContext::from_map(&bad, Some("install")),
            Err(ContextError::Malformed {
                var: "JUJU_UNIT_NAME",
                ..
            })
        ));
        let mut e = env(&BASE);
        e.insert("JUJU_HOOK_NAME".into(), "proxy-relation-joined".into());
        e.insert("JUJU_RELATION_ID".into(), "db:1".into());
        assert!(matches!(
            JujuContext::from_map(&e, None),
            Err(ContextError::Inconsistent { .. })
        ));
        assert!(matches!(
            JujuContext::from_map(&env(&BASE), None),
            Err(ContextError::UnknownHook { .. })
        ));
    }

    #[test]
    fn hook_names_round_trip() {
        for name in [
            "install",
            "proxy-relation-created",
            "kube-api-endpoint-relation-changed",
            "data-storage-attached",
        ] {
            assert_eq!(HookKind::from_hook_name(name).unwrap().to_string(), name);
        }
        assert!(HookKind::from_hook_name("bad hook").is_err());
    }
}
