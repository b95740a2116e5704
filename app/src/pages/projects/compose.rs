//! An environment tab's "Import compose file": paste a file (or pick one: it is read in
//! the browser into the text box), Preview shows what an import would create or change —
//! or every problem by path — and Create applies it. Export downloads the environment as
//! a compose file. Without JavaScript the form posts to `/environments/{id}/compose`,
//! which answers with this tab rendered on the server, the file kept and the outcome
//! shown (see [`PostedCompose`]).

use super::super::team::error_text;
use crate::api::compose::{ComposeAnswer, ImportCompose, PostedCompose};
use crate::domain::compose::ImportChange;
use leptos::prelude::*;

/// The compose box's text and its last answer. The project page owns it and provides it as
/// a context: the tab below is rendered again on every re-read of the page (each live
/// change), and a draft made there would empty the box and its preview each time.
#[derive(Clone, Copy)]
pub struct ComposeDraft {
    environment: StoredValue<String>,
    yaml: RwSignal<String>,
    act: ServerAction<ImportCompose>,
}

impl ComposeDraft {
    pub fn new() -> Self {
        Self {
            environment: StoredValue::new(String::new()),
            yaml: RwSignal::new(String::new()),
            act: ServerAction::new(),
        }
    }

    /// This draft for `environment`: kept while its tab shows, emptied for another one.
    fn of(self, environment: &str) -> Self {
        if self.environment.with_value(|e| e != environment) {
            self.environment.set_value(environment.to_owned());
            self.yaml.set(String::new());
            self.act.clear();
        }
        self
    }
}

impl Default for ComposeDraft {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn ComposeImport(environment: String, create: bool) -> impl IntoView {
    // Only in the page the server renders in answer to a plain form post (never hydrated).
    let posted =
        use_context::<PostedCompose>().filter(|p| p.environment.to_string() == environment);
    let ComposeDraft { yaml, act, .. } = use_context::<ComposeDraft>()
        .unwrap_or_default()
        .of(&environment);
    // The posted file goes back into the box as its text (that page is never hydrated);
    // otherwise the box is the signal's.
    let textarea = match posted.as_ref().map(|p| p.yaml.clone()) {
        Some(text) => view! {
            <textarea id="compose-yaml" name="yaml" rows="12" spellcheck="false">{text}</textarea>
        }
        .into_any(),
        None => view! {
            <textarea id="compose-yaml" name="yaml" rows="12" spellcheck="false"
                prop:value=move || yaml.get()
                on:input=move |ev| yaml.set(event_target_value(&ev))></textarea>
        }
        .into_any(),
    };
    let env = StoredValue::new(environment.clone());
    let send = move |dry_run: bool| {
        act.dispatch(ImportCompose {
            environment: env.get_value(),
            yaml: yaml.get_untracked(),
            dry_run,
        });
    };
    let export = format!("/api/v1/environments/{environment}/compose");
    let post_to = format!("/environments/{environment}/compose");
    view! {
        <section class="compose" id="compose">
            <h3>"Compose file"</h3>
            <a href=export download="docker-compose.yml" id="compose-export">"Export"</a>
            {create.then(|| view! {
                <form method="post" action=post_to class="form" id="compose-import">
                    <label>"Import compose file" {textarea}</label>
                    <label>"or upload one "
                        <input type="file" id="compose-file" accept=".yml,.yaml,text/yaml"
                            on:change=move |ev| read_file(ev, yaml) />
                    </label>
                    <div class="inline">
                        <button type="submit" name="intent" value="preview" class="ghost" id="compose-preview"
                            on:click=move |ev| { ev.prevent_default(); send(true) }>"Preview"</button>
                        <button type="submit" name="intent" value="import" id="compose-create"
                            on:click=move |ev| { ev.prevent_default(); send(false) }>"Create"</button>
                    </div>
                </form>
            }.into_any())}
            {posted.map(|p| match p.answer {
                Ok(a) => view! { <ComposeResult a=a /> }.into_any(),
                Err(e) => view! { <p class="banner error">{e}</p> }.into_any(),
            })}
            {move || act.value().get().map(|answer| match answer {
                Ok(a) => view! { <ComposeResult a=a /> }.into_any(),
                Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}

/// The plan, or the problems by path.
#[component]
fn ComposeResult(a: ComposeAnswer) -> impl IntoView {
    let Some(plan) = a.plan else {
        return view! {
            <div class="banner error" id="compose-problems" role="alert">
                <p>"The file is refused; nothing was created:"</p>
                <ul>
                    {a.problems.into_iter().map(|p| view! {
                        <li data-path=p.path.clone()><code>{p.path.clone()}</code>": "{p.message}</li>
                    }).collect_view()}
                </ul>
            </div>
        }
        .into_any();
    };
    let heading = if plan.applied {
        "Imported: the new and changed services are deploying."
    } else {
        "Preview: nothing is stored until Create."
    };
    view! {
        <div class="banner" id="compose-plan" role="status">
            <p>{heading}</p>
            <ul>
                {plan.changes.into_iter().map(|c| {
                    let (service, text) = describe(c);
                    let key = service.clone();
                    view! { <li data-service=key><strong>{service}</strong>": "{text}</li> }
                }).collect_view()}
            </ul>
            {(!plan.volumes.is_empty()).then(|| view! {
                <p>"Volumes: "{plan.volumes.join(", ")}</p>
            })}
            {(!plan.notes.is_empty()).then(|| view! {
                <ul class="muted" id="compose-notes">
                    {plan.notes.into_iter().map(|n| view! {
                        <li><code>{n.path}</code>": "{n.message}</li>
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}

fn describe(c: ImportChange) -> (String, String) {
    match c {
        ImportChange::Create { service } => (service, "created".to_owned()),
        ImportChange::Update {
            service,
            fields,
            change,
        } => (
            service,
            format!("updated ({}): {change:?}", fields.join(", ")).to_lowercase(),
        ),
        ImportChange::Unchanged { service } => (service, "unchanged".to_owned()),
        ImportChange::NotInFile { service } => {
            (service, "not in the file: left as it is".to_owned())
        }
    }
}

/// Reads the picked file into the text box.
#[cfg(feature = "hydrate")]
fn read_file(ev: leptos::ev::Event, yaml: RwSignal<String>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    let Ok(reader) = web_sys::FileReader::new() else {
        return;
    };
    let done = reader.clone();
    let onload = Closure::once_into_js(move || {
        if let Some(text) = done.result().ok().and_then(|v| v.as_string()) {
            yaml.set(text);
        }
    });
    reader.set_onload(Some(onload.unchecked_ref()));
    let _ = reader.read_as_text(&file);
}

#[cfg(not(feature = "hydrate"))]
fn read_file(_: leptos::ev::Event, _: RwSignal<String>) {}
