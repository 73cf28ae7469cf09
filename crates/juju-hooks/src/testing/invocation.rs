//! Building [`HookInvocation`]s and the `JUJU_*` environment they imply.

use std::collections::BTreeMap;
use std::path::Path;

use super::model::HookInvocation;
use super::secrets::SecretHook;
use crate::ids::{AppName, RelationId, UnitName};

impl HookInvocation {
    /// A hook outside any relation, e.g. `install` or `update-status`.
    pub fn new(unit: UnitName, hook: impl Into<String>) -> Self {
        Self {
            unit,
            hook: hook.into(),
            relation: None,
            remote_unit: None,
            remote_app: None,
            departing_unit: None,
            secret: None,
            action: None,
        }
    }

    /// A secret hook (`secret-changed`, `secret-remove`, ...) on `unit` about `secret`.
    pub fn secret(unit: UnitName, hook: impl Into<String>, secret: SecretHook) -> Self {
        Self {
            secret: Some(secret),
            ..Self::new(unit, hook)
        }
    }

    fn relation_hook(
        unit: UnitName,
        relation: RelationId,
        what: &str,
        remote_unit: Option<UnitName>,
        remote_app: AppName,
    ) -> Self {
        Self {
            hook: format!("{}-relation-{what}", relation.endpoint()),
            unit,
            relation: Some(relation),
            remote_unit,
            remote_app: Some(remote_app),
            departing_unit: None,
            secret: None,
            action: None,
        }
    }

    /// `<endpoint>-relation-created` on `unit` (no remote unit).
    pub fn created(unit: UnitName, relation: RelationId, remote_app: AppName) -> Self {
        Self::relation_hook(unit, relation, "created", None, remote_app)
    }

    /// `<endpoint>-relation-joined` on `unit` for `remote`.
    pub fn joined(unit: UnitName, relation: RelationId, remote: UnitName) -> Self {
        let app = remote.app().clone();
        Self::relation_hook(unit, relation, "joined", Some(remote), app)
    }

    /// `<endpoint>-relation-changed` on `unit` after `remote` changed its unit bag.
    pub fn changed(unit: UnitName, relation: RelationId, remote: UnitName) -> Self {
        let app = remote.app().clone();
        Self::relation_hook(unit, relation, "changed", Some(remote), app)
    }

    /// `<endpoint>-relation-changed` on `unit` after `remote_app` changed its app bag (no
    /// remote unit).
    pub fn app_changed(unit: UnitName, relation: RelationId, remote_app: AppName) -> Self {
        Self::relation_hook(unit, relation, "changed", None, remote_app)
    }

    /// `<endpoint>-relation-departed` on `unit` for the member `remote`; `departing` is the
    /// unit going away (`remote`, or `unit` itself when it is being removed).
    pub fn departed(
        unit: UnitName,
        relation: RelationId,
        remote: UnitName,
        departing: UnitName,
    ) -> Self {
        let app = remote.app().clone();
        Self {
            departing_unit: Some(departing),
            ..Self::relation_hook(unit, relation, "departed", Some(remote), app)
        }
    }

    /// `<endpoint>-relation-broken` on `unit` (no remote unit).
    pub fn broken(unit: UnitName, relation: RelationId, remote_app: AppName) -> Self {
        Self::relation_hook(unit, relation, "broken", None, remote_app)
    }

    /// The hook environment Juju sets for this invocation (the `JUJU_*` variables a charm
    /// reads, without the agent-socket ones): unit, hook name and dispatch path, charm dir,
    /// model name, and for relation hooks the relation, remote unit (exported empty where
    /// Juju leaves it empty), remote app and departing unit.
    pub fn env(&self, model_name: &str, charm_dir: &Path) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let mut set = |key: &str, value: String| {
            env.insert(key.to_owned(), value);
        };
        let charm_dir = charm_dir.to_string_lossy().into_owned();
        set("JUJU_UNIT_NAME", self.unit.to_string());
        // Actions: no hook name, `actions/<name>` as the dispatch path, and the action's id.
        match &self.action {
            Some(id) => {
                set("JUJU_HOOK_NAME", String::new());
                set("JUJU_DISPATCH_PATH", format!("actions/{}", self.hook));
                set("JUJU_ACTION_NAME", self.hook.clone());
                set("JUJU_ACTION_UUID", id.clone());
                set("JUJU_ACTION_TAG", format!("action-{id}"));
            }
            None => {
                set("JUJU_HOOK_NAME", self.hook.clone());
                set("JUJU_DISPATCH_PATH", format!("hooks/{}", self.hook));
            }
        }
        set("JUJU_CHARM_DIR", charm_dir.clone());
        set("CHARM_DIR", charm_dir);
        set("JUJU_MODEL_NAME", model_name.to_owned());
        if let Some(relation) = &self.relation {
            set("JUJU_RELATION", relation.endpoint().to_string());
            set("JUJU_RELATION_ID", relation.to_string());
            set(
                "JUJU_REMOTE_UNIT",
                self.remote_unit
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            );
            if let Some(app) = &self.remote_app {
                set("JUJU_REMOTE_APP", app.to_string());
            }
        }
        if let Some(departing) = &self.departing_unit {
            set("JUJU_DEPARTING_UNIT", departing.to_string());
        }
        if let Some(secret) = &self.secret {
            set("JUJU_SECRET_ID", secret.uri.to_string());
            set(
                "JUJU_SECRET_LABEL",
                secret.label.clone().unwrap_or_default(),
            );
            if let Some(revision) = secret.revision.filter(|r| *r > 0) {
                set("JUJU_SECRET_REVISION", revision.to_string());
            }
        }
        env
    }
}
