//! The team's S3-compatible backup destination, on the Team page: what is set (never the
//! secret), and for admins a form to set or replace it, "Test connection" and "Remove".
//! Works without JavaScript.

use crate::api::backup_destination::{backup_destination, BackupDestinationAction};
use leptos::prelude::*;

#[component]
pub fn BackupDestination() -> impl IntoView {
    let act = ServerAction::<BackupDestinationAction>::new();
    let data = Resource::new(move || act.version().get(), |_| backup_destination());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().map(|(d, can_manage)| {
                    let set = d.is_some();
                    let d2 = d.clone();
                    view! {
                        <section class="card" id="backup-destination">
                            <h2>"Backup destination (S3)"</h2>
                            <p class="muted">"With a destination, every backup of this team's services (and Berth's database dumps the instance owner makes from this team) is also uploaded to this S3-compatible bucket (AWS S3, MinIO, …). Retention removes the remote copies too; a restore whose local archive is gone downloads it first."</p>
                            {move || match act.value().get() {
                                Some(Err(e)) => Some(view! { <p class="banner error" id="destination-error">{super::error_text(&e)}</p> }.into_any()),
                                Some(Ok(Some(t))) => Some(view! {
                                    <p class={if t.ok { "banner success" } else { "banner error" }} id="destination-test">{t.message.clone()}</p>
                                }.into_any()),
                                _ => None,
                            }}
                            {d.map(|d| view! {
                                <p id="destination-summary"><code>{format!("s3://{}/{}", d.bucket, d.prefix)}</code>" at "<code>{d.endpoint.clone()}</code>" (" {d.region.clone()} ", " {if d.path_style { "path-style" } else { "virtual-hosted" }} ")"</p>
                            })}
                            {(!set).then(|| view! { <p class="muted" id="no-destination">"No destination: backups stay in the local backup folder."</p> })}
                            {can_manage.then(move || {
                                let field = |f: fn(&crate::domain::backup_destination::DestinationView) -> String| d2.as_ref().map(f).unwrap_or_default();
                                let (endpoint, region, bucket, prefix, key_id) = (
                                    field(|d| d.endpoint.clone()),
                                    field(|d| d.region.clone()),
                                    field(|d| d.bucket.clone()),
                                    field(|d| d.prefix.clone()),
                                    field(|d| d.access_key_id.clone()),
                                );
                                let path_style = d2.as_ref().is_none_or(|d| d.path_style);
                                view! {
                                    <details open={!set}>
                                        <summary>{if set { "Change" } else { "Set a destination" }}</summary>
                                        <ActionForm action=act attr:id="destination-form">
                                            <input type="hidden" name="action" value="save" />
                                            <label>"Endpoint " <input name="endpoint" id="destination-endpoint" placeholder="https://s3.eu-central-1.amazonaws.com" value=endpoint required /></label>
                                            <label>"Region " <input name="region" placeholder="us-east-1" value=region required /></label>
                                            <label>"Bucket " <input name="bucket" value=bucket required /></label>
                                            <label>"Path prefix " <input name="prefix" placeholder="berth/backups" value=prefix /></label>
                                            <label>"Access key id " <input name="access_key_id" value=key_id required /></label>
                                            <label>"Secret access key " <input name="secret_access_key" type="password" autocomplete="off" placeholder={if set { "(stored; leave empty to keep)" } else { "" }} /></label>
                                            <label><input type="checkbox" name="path_style" value="true" checked=path_style />" path-style requests (MinIO and most self-hosted servers)"</label>
                                            <button type="submit" id="save-destination">"Save destination"</button>
                                        </ActionForm>
                                    </details>
                                    {set.then(|| view! {
                                        <ActionForm action=act attr:class="inline">
                                            <input type="hidden" name="action" value="test" />
                                            <button type="submit" id="test-destination">"Test connection"</button>
                                        </ActionForm>
                                        " "
                                        <ActionForm action=act attr:class="inline">
                                            <input type="hidden" name="action" value="delete" />
                                            <button type="submit" class="danger" id="remove-destination">"Remove"</button>
                                        </ActionForm>
                                    })}
                                }
                            })}
                        </section>
                    }
                })
            })}
        </Transition>
    }
}
