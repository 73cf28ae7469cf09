//! User templates (Jinja2 via minijinja); the variables are listed in the module docs.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::command::Parts;
use super::unit::{description, exec_start_line};
use super::{ProxySpec, RenderError};

/// Renders `template` with the documented variables. Unknown variables are errors, so a
/// typo does not silently render an empty value.
pub(super) fn render(
    spec: &ProxySpec,
    parts: &Parts,
    template: &str,
) -> Result<String, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| RenderError::Template(e.to_string()))?;
    env.set_syntax(syntax);
    let endpoints: Vec<String> = spec.endpoints.iter().map(|u| u.to_string()).collect();
    let path = |p: &std::path::Path| p.display().to_string();
    let environment: Vec<Value> = parts
        .environment
        .iter()
        .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
        .collect();
    let ctx = minijinja::context! {
        mode => spec.mode.as_str(),
        description => description(spec),
        listen_addr => spec.listen.to_string(),
        endpoints_joined => endpoints.join(","),
        endpoints => endpoints,
        exec_start => parts.exec_start.clone(),
        exec_start_line => exec_start_line(parts),
        ca_file => path(&spec.credentials.ca),
        cert_file => path(&spec.credentials.cert),
        key_file => path(&spec.credentials.key),
        cluster => spec.cluster.to_string(),
        etcd_bin => path(&spec.etcd_bin),
        data_dir => path(&spec.data_dir),
        env_file => parts.env_file.as_deref().map(path),
        environment => environment,
    };
    env.render_str(template, ctx)
        .map_err(|e| RenderError::Template(one_line(&e)))
}

/// minijinja's error with its line, on one line.
fn one_line(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    if let Some(line) = error.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text.replace('\n', " ")
}
