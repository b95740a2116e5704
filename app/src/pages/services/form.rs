use crate::api::services::{service_form, SaveOutcome, SaveService};
use crate::components::AppLayout;
use crate::domain::service::{FieldError, FormProblem, ServiceForm};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// A form sent back after a submit without JavaScript: its values and errors, from the
/// query (`?problem=<code>&name=…`).
fn returned_form() -> Option<(ServiceForm, Vec<FieldError>)> {
    let query = use_query_map().get_untracked();
    let problem = FormProblem::from_code(&query.get("problem")?)?;
    let values: serde_json::Map<String, serde_json::Value> = query
        .into_iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
        .collect();
    let form: ServiceForm = serde_json::from_value(values.into()).ok()?;
    let errors = problem.errors(&form);
    Some((form, errors))
}

#[component]
pub fn NewServicePage() -> impl IntoView {
    // "New service" on a project page names its environment: `?environment=<id>`.
    let environment = use_query_map()
        .get_untracked()
        .get("environment")
        .unwrap_or_default();
    let (initial, errors) = returned_form().unwrap_or_else(|| {
        (
            ServiceForm {
                replicas: "1".into(),
                environment,
                ..Default::default()
            },
            Vec::new(),
        )
    });
    view! {
        <AppLayout title="New service">
            <h1>"New service"</h1>
            <ServiceFormView initial=initial.clone() errors=errors.clone() id=String::new() />
        </AppLayout>
    }
}

#[component]
pub fn EditServicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let form = Resource::new(id, service_form);
    let returned = StoredValue::new(returned_form());
    view! {
        <AppLayout title="Edit service">
            <h1>"Edit service"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(f) => {
                            let (f, errors) = returned.get_value().unwrap_or((f, Vec::new()));
                            view! { <ServiceFormView initial=f errors=errors id=id() /> }.into_any()
                        }
                        Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// The create/edit form. Field names are `form[<field>]`, so it posts as a plain HTML form
/// too; with JavaScript, errors appear next to their fields without a reload.
#[component]
fn ServiceFormView(initial: ServiceForm, errors: Vec<FieldError>, id: String) -> impl IntoView {
    let returned_errors = StoredValue::new(errors);
    let save = ServerAction::<SaveService>::new();
    let editing = !id.is_empty();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(SaveOutcome::Saved { id })) = save.value().get() {
            navigate(&format!("/services/{id}"), Default::default());
        }
    });
    let errors = move || match save.value().get() {
        Some(Ok(SaveOutcome::Invalid(e))) => e,
        Some(_) => Vec::new(),
        None => returned_errors.get_value(),
    };
    let failure = move || match save.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let hint = move |field: &'static str| {
        move || {
            let messages: Vec<String> = errors()
                .into_iter()
                .filter(|e: &FieldError| e.field == field)
                .map(|e| e.message)
                .collect();
            (!messages.is_empty())
                .then(|| view! { <p class="field-error" data-field=field>{messages.join(" ")}</p> })
        }
    };
    let f = initial;
    let kind = RwSignal::new(if f.health_kind.is_empty() {
        "none".to_owned()
    } else {
        f.health_kind.clone()
    });
    view! {
        <ActionForm action=save attr:class="card form service-form" attr:id="service-form">
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="form[environment]" value=f.environment.clone() />
            {move || failure().map(|m| view! { <p class="banner error">{m}</p> })}
            {move || (!errors().is_empty()).then(|| view! { <p class="banner error" id="form-errors">"Please fix the fields marked below."</p> })}
            <label>"Name" <small class="muted">"lowercase letters, digits and '-'"</small>
                <input name="form[name]" value=f.name readonly=editing required autocomplete="off" />
            </label>
            {hint("name")}
            <fieldset id="source">
                <legend>"Source"</legend>
                <label>"Image" <small class="muted">"e.g. nginx:1.27 or registry.example.com/team/app:tag"</small>
                    <input name="form[image]" value=f.image autocomplete="off" />
                </label>
                {hint("image")}
                <p class="muted">"…or build it from a git repository: a push to the branch (through the webhook on the service page) builds and rolls out the new commit."</p>
                <div class="row">
                    <label>"Repository" <small class="muted">"https://…, ssh://…, git@host:path or file:///…"</small>
                        <input name="form[git_repo]" value=f.git_repo autocomplete="off" />
                    </label>
                    <label>"Branch" <input name="form[git_branch]" value=f.git_branch placeholder="main" autocomplete="off" /></label>
                </div>
                {hint("git_repo")}{hint("git_branch")}
                <div class="row">
                    <label>"Build context" <small class="muted">"folder in the repository"</small>
                        <input name="form[git_context]" value=f.git_context placeholder="." />
                    </label>
                    <label>"Dockerfile" <small class="muted">"in the build context"</small>
                        <input name="form[git_dockerfile]" value=f.git_dockerfile placeholder="Dockerfile" />
                    </label>
                </div>
                {hint("git_context")}{hint("git_dockerfile")}
                <label>"Build arguments" <small class="muted">"KEY=value, one per line; KEY=\"…\" for a value over several lines"</small>
                    <textarea name="form[git_build_args]" rows="2">{f.git_build_args}</textarea>
                </label>
                {hint("git_build_args")}
                <div class="row">
                    <label>"Credentials"
                        <select name="form[git_credentials]">
                            {[("none", "none (public)"), ("token", "access token (https)"), ("deploy_key", "deploy key (ssh)")].map(|(v, l)| view! { <option value=v selected=f.git_credentials == v>{l}</option> })}
                        </select>
                    </label>
                    <label>"Token user" <small class="muted">"sent with the token"</small>
                        <input name="form[git_username]" value=f.git_username placeholder="x-access-token" autocomplete="off" />
                    </label>
                    <label>"Token or private key" <small class="muted">"stored encrypted; empty keeps the stored one"</small>
                        <textarea name="form[git_secret]" rows="2" autocomplete="off"></textarea>
                    </label>
                </div>
                {hint("git_credentials")}{hint("git_secret")}
            </fieldset>
            <label>"Command" <small class="muted">"one argument per line; empty runs the image's default. An argument with line breaks or spaces at its ends goes in quotes: \"…\" (inside, \\\" is a quote and \\\\ a backslash)"</small>
                <textarea name="form[command]" rows="2">{f.command}</textarea>
            </label>
            {hint("command")}
            <label>"Entrypoint" <small class="muted">"replaces the image's entrypoint, one argument per line, quoted as the command; empty keeps the image's"</small>
                <textarea name="form[entrypoint]" rows="2">{f.entrypoint}</textarea>
            </label>
            {hint("entrypoint")}
            <label>"Depends on" <small class="muted">"services of this environment that must be up first, one per line: db (running) or db:healthy (its health check passing)"</small>
                <textarea name="form[depends_on]" rows="2">{f.depends_on}</textarea>
            </label>
            {hint("depends_on")}
            <label>"Labels" <small class="muted">"container labels, key=value per line; keys under berth. and com.docker. are reserved"</small>
                <textarea name="form[labels]" rows="2">{f.labels}</textarea>
            </label>
            {hint("labels")}
            <fieldset class="placement">
                <legend>"Placement" <small class="muted">"Swarm mode: which nodes may run the replicas (a single engine ignores it)"</small></legend>
                <label>"Constraints" <small class="muted">"one per line: node.labels.zone==eu-1, node.role!=manager, node.hostname==…"</small>
                    <textarea name="form[placement_constraints]" rows="2">{f.placement_constraints}</textarea>
                </label>
                <div class="row">
                    <label>"Spread over" <small class="muted">"a node label, e.g. node.labels.zone"</small>
                        <input name="form[placement_spread]" value=f.placement_spread placeholder="no preference" />
                    </label>
                    <label>"Max replicas per node"
                        <input name="form[placement_max_per_node]" type="number" min="1" max="100" value=f.placement_max_per_node placeholder="no limit" />
                    </label>
                </div>
                {hint("placement_constraints")}{hint("placement_spread")}{hint("placement_max_per_node")}
            </fieldset>
            <div class="row">
                <label>"Replicas" <input name="form[replicas]" type="number" min="0" max="50" value=f.replicas /></label>
                <label>"CPU (cores)" <input name="form[cpu]" value=f.cpu placeholder="no limit" /></label>
                <label>"Memory (MB)" <input name="form[memory_mb]" value=f.memory_mb placeholder="no limit" /></label>
                <label>"Restart"
                    <select name="form[restart_policy]">
                        {["unless-stopped", "always", "on-failure", "no"].map(|p| view! { <option value=p selected=f.restart_policy == p>{p}</option> })}
                    </select>
                </label>
            </div>
            {hint("replicas")}{hint("cpu")}{hint("memory_mb")}{hint("restart_policy")}
            <label>"Environment" <small class="muted">"KEY=value, one per line. A value over several lines (a PEM key) goes in quotes: KEY=\"…\", lines pasted as they are (inside, \\\" is a quote, \\\\ a backslash, \\n a line break)"</small>
                <textarea name="form[env]" rows="4">{f.env}</textarea>
            </label>
            {hint("env")}
            <label>"Secret environment" <small class="muted">"KEY=value or KEY=\"…\" as above; stored encrypted, never shown again. KEY= alone keeps the stored value."</small>
                <textarea name="form[secret_env]" rows="2">{f.secret_env}</textarea>
            </label>
            {hint("secret_env")}
            <label>"Ports" <small class="muted">"8080, or host:container like 80:8080 to publish on the host; /udp for UDP"</small>
                <textarea name="form[ports]" rows="2">{f.ports}</textarea>
            </label>
            {hint("ports")}
            <label>"Volumes" <small class="muted">"name:/path (writable: one replica, rolls out stop-first), name:/path:ro, or name:/path:shared (the app handles concurrent access) — named volumes only"</small>
                <textarea name="form[volumes]" rows="2">{f.volumes}</textarea>
            </label>
            {hint("volumes")}
            <div class="row">
                <label>"Registry user" <small class="muted">"for a private image"</small>
                    <input name="form[registry_username]" value=f.registry_username autocomplete="off" />
                </label>
                <label>"Registry password" <small class="muted">"stored encrypted; empty keeps the stored one"</small>
                    <input name="form[registry_password]" type="password" value="" autocomplete="new-password" />
                </label>
                <label>"Pull policy" <small class="muted">"when a rollout asks the registry for the image"</small>
                    <select name="form[pull_policy]">
                        {[("", "default (always for a tag, if-missing for a digest)"), ("always", "always"), ("if-missing", "if-missing"), ("never", "never")].map(|(v, l)| view! { <option value=v selected=f.pull_policy == v>{l}</option> })}
                    </select>
                </label>
            </div>
            {hint("registry_username")}{hint("registry_password")}{hint("pull_policy")}
            <fieldset>
                <legend>"Domains"</legend>
                <label>"Domains" <small class="muted">"one per line, e.g. app.example.com; routed to the ready replicas through the edge proxy"</small>
                    <textarea name="form[domains]" rows="2">{f.domains}</textarea>
                </label>
                {hint("domains")}
                <div class="row">
                    <label>"HTTP port" <small class="muted">"inside the container"</small>
                        <input name="form[http_port]" value=f.http_port placeholder="8080" />
                    </label>
                    <label class="check"><input type="checkbox" name="form[www_redirect]" value="on" checked=f.www_redirect == "on" />" Redirect www.<domain> to <domain>"</label>
                    <label class="check"><input type="checkbox" name="form[http_plain]" value="on" checked=f.http_plain == "on" />" Serve plain http too (no redirect to https)"</label>
                </div>
                {hint("http_port")}{hint("www_redirect")}
            </fieldset>
            <fieldset>
                <legend>"Health check"</legend>
                <div class="row">
                    <label>"Kind"
                        <select name="form[health_kind]" on:change=move |ev| kind.set(event_target_value(&ev))>
                            {["none", "http", "command", "disabled"].map(|k| view! { <option value=k selected=move || kind.get() == k>{k}</option> })}
                        </select>
                    </label>
                    <label>"HTTP path" <input name="form[health_path]" value=f.health_path placeholder="/healthz" /></label>
                    <label>"HTTP port" <input name="form[health_port]" value=f.health_port placeholder="8080" /></label>
                    <label>"HTTP Host header" <input name="form[health_host]" value=f.health_host placeholder="the first domain" /></label>
                </div>
                <p class="muted"><small>"none: the image's own HEALTHCHECK, if it has one; disabled: turn the image's HEALTHCHECK off."</small></p>
                {hint("health_kind")}{hint("health_path")}{hint("health_port")}{hint("health_host")}
                <label>"Command" <small class="muted">"one argument per line (quoted as the service's command), run inside the container; exit 0 is healthy"</small>
                    <textarea name="form[health_command]" rows="2">{f.health_command}</textarea>
                </label>
                {hint("health_command")}
                <div class="row">
                    <label>"Interval (s)" <input name="form[health_interval_s]" value=f.health_interval_s placeholder="10" /></label>
                    <label>"Timeout (s)" <input name="form[health_timeout_s]" value=f.health_timeout_s placeholder="5" /></label>
                    <label>"Retries" <input name="form[health_retries]" value=f.health_retries placeholder="3" /></label>
                    <label>"Start period (s)" <input name="form[health_start_period_s]" value=f.health_start_period_s placeholder="0" /></label>
                </div>
                {hint("health_interval_s")}{hint("health_timeout_s")}{hint("health_retries")}{hint("health_start_period_s")}
            </fieldset>
            <button type="submit" id="save-service" disabled=move || save.pending().get()>
                {if editing { "Save and deploy" } else { "Create and deploy" }}
            </button>
        </ActionForm>
    }
}
