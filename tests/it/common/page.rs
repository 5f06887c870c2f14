//! Reading our HTML pages by their tags: which elements there are and their attributes.

/// The attributes of each element of a page of ours, in document order. maud writes every
/// value in double quotes and escapes `<`, `>` and `"` in text and values, and no page has
/// inline script or style (the CSP forbids them), so reading the tags is exact here.
pub fn elements(html: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        if tag.starts_with(['/', '!']) {
            continue;
        }
        let Some((inside, _)) = tag.split_once('>') else {
            continue;
        };
        let mut attributes = Vec::new();
        let mut rest = inside.trim_start_matches(|c: char| !c.is_whitespace());
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            let name = rest[..end].to_owned();
            rest = &rest[end..];
            let value = match rest.strip_prefix("=\"") {
                Some(quoted) => {
                    let (value, after) = quoted.split_once('"').unwrap_or((quoted, ""));
                    rest = after;
                    value.to_owned()
                }
                None => String::new(),
            };
            attributes.push((name, value));
        }
        out.push(attributes);
    }
    out
}

/// The first value of attribute `name` on the page.
pub fn attribute(html: &str, name: &str) -> Option<String> {
    elements(html)
        .into_iter()
        .flatten()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Whether the page has an element with this `id`.
pub fn has_id(html: &str, id: &str) -> bool {
    elements(html)
        .iter()
        .flatten()
        .any(|(n, v)| n == "id" && v == id)
}
