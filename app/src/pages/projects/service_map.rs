//! An environment tab's service map: the SVG the server drew (`EnvironmentTab::map`),
//! put in as inner HTML. A live refresh hands the same string again while nothing on the
//! map changed, and the renderer then leaves the drawing alone (it compares the markup
//! before replacing it). Each box is a link to its service.

use leptos::prelude::*;

#[component]
pub fn ServiceMap(svg: String) -> impl IntoView {
    view! {
        <figure class="service-map-frame" id="service-map">
            <div class="service-map-drawing" inner_html=svg></div>
            <figcaption class="muted small">
                "Arrows go from a service to the services it uses: solid for variable references, dashed for "
                <code>"depends_on"</code>
                ". Click a service to open it."
            </figcaption>
        </figure>
    }
}
