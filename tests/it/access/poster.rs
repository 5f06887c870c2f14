//! The public poster tells only what a new viewer may see now.

use super::*;

/// The public poster, and the owner's: `POST /m/<id>/poster` with the key in the form body
/// (what the manage page's poster button sends), never in the URL.
fn posters(app: &TestApp, id: &str, key: &str) -> (Fetched, Fetched) {
    let public = app.get(&format!("/g/{id}/poster"));
    let owners = app.post_urlencoded(&format!("/m/{id}/poster"), &format!("key={key}"));
    (public, owners)
}

#[test]
fn the_public_poster_names_only_galleries_a_new_viewer_may_open_now() {
    let app = TestApp::new();
    let title = "Garden party of the Smiths";
    let form = Form::new()
        .text("title", title)
        .text("password", "open sesame");
    let (id, key) = gallery(&app, form);
    let link = format!("/g/{id}");

    let (public, owners) = posters(&app, &id, &key);
    assert_eq!(public.status, Status::Ok);
    assert!(public.text().contains(&link), "the link and its QR code");
    assert!(!public.text().contains(title), "the public poster names it");
    assert!(!public.text().contains("password"), "no rules either");
    assert_eq!(owners.status, Status::Ok);
    assert!(owners.text().contains(title));
    assert!(owners.text().contains("A password is needed"));
    let (_, stranger) = posters(&app, &id, "not-the-key");
    assert_eq!(stranger.status, Status::Unauthorized);
    assert!(!stranger.text().contains(title));

    assert_eq!(
        patch(&app, &id, Some(&key), json!({"password": null})).0,
        Status::Ok
    );
    assert!(
        posters(&app, &id, &key).0.text().contains(title),
        "open now"
    );

    assert_eq!(action(&app, &id, &key, "disable").0, Status::Ok);
    let (public, owners) = posters(&app, &id, &key);
    assert!(!public.text().contains(title), "the public poster names it");
    assert!(
        owners.text().contains(title),
        "the owner prints it before enabling"
    );

    let manage = app.get(&format!("/m/{id}")).text();
    let form = format!("id=\"poster-form\" method=\"post\" action=\"/m/{id}/poster\"");
    assert!(manage.contains(&form), "{manage}");
}
