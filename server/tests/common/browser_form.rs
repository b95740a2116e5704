//! What a browser without JavaScript submits for a server-rendered form: each named
//! control's value as the HTML parser reads it (entities decoded, a textarea's first
//! newline dropped, line ends sent as CRLF), checkboxes only when checked, the selected
//! option of a select. Just enough HTML for the pages Berth renders.

/// The form with `id="<form_id>"` in `html`: its `action` and its fields, in order.
pub fn submitted_fields(html: &str, form_id: &str) -> (String, Vec<(String, String)>) {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .and_then(|at| html[..at].rfind("<form"))
        .unwrap_or_else(|| panic!("no form {form_id}"));
    let end = start + html[start..].find("</form>").expect("the form ends");
    let form = &html[start..end];
    let action = attr(&form[..form.find('>').unwrap()], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag_end = rest.find('>').expect("a tag ends");
        let tag = &rest[..tag_end];
        let name = attr(tag, "name");
        if let (Some(name), true) = (name.clone(), tag.starts_with("<input")) {
            let kind = attr(tag, "type").unwrap_or_default();
            let value = attr(tag, "value").unwrap_or_default();
            match kind.as_str() {
                "submit" | "button" => {}
                "checkbox" | "radio" if !has_attr(tag, "checked") => {}
                "checkbox" | "radio" if value.is_empty() => fields.push((name, "on".into())),
                _ => fields.push((name, value)),
            }
        } else if let (Some(name), true) = (name.clone(), tag.starts_with("<textarea")) {
            let body = &rest[tag_end + 1..];
            let text = decode(&body[..body.find("</textarea>").expect("textarea ends")]);
            let text = text.strip_prefix('\n').unwrap_or(&text).to_owned();
            fields.push((name, text.replace("\r\n", "\n").replace('\n', "\r\n")));
        } else if let (Some(name), true) = (name, tag.starts_with("<select")) {
            let body = &rest[tag_end..rest.find("</select>").expect("select ends")];
            let options: Vec<&str> = body.split("<option").skip(1).collect();
            let chosen = options
                .iter()
                .find(|o| has_attr(&o[..o.find('>').unwrap()], "selected"))
                .or(options.first())
                .expect("a select has options");
            let value = attr(&chosen[..chosen.find('>').unwrap()], "value").unwrap_or_default();
            fields.push((name, value));
        }
        rest = &rest[1..];
    }
    (action, fields)
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let len = tag[at..].find('"')?;
    Some(decode(&tag[at..at + len]))
}

fn has_attr(tag: &str, name: &str) -> bool {
    tag.split(|c: char| c.is_whitespace() || c == '>')
        .any(|word| word == name || word.starts_with(&format!("{name}=")))
}

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}
