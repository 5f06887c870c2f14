//! The dashboard: takedowns at once and until lifted, search, sort and pages.

use super::*;

#[test]
fn the_admin_takes_down_any_gallery_at_once() {
    let app = admin_app();
    let keep = gallery(&app, 3);
    let gone = gallery(&app, 4);
    let csrf = sign_in(&app);
    // A viewer already inside the gallery (holding a ticket).
    assert_eq!(app.image(&keep, 0, "thumb").status, Status::Ok);

    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/disable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        reason(&app, &keep),
        (Status::Forbidden, Some("disabled".into()))
    );
    assert_eq!(app.image(&keep, 0, "thumb").status, Status::Forbidden);
    let poster = app.get(&format!("/g/{keep}/poster"));
    assert_eq!(poster.status, Status::NotFound, "no poster for a takedown");
    let page = dashboard(&app, &format!("/admin?q={keep}"));
    assert!(flash_of(&page).contains("Disabled"), "{page}");
    assert!(page.contains("data-state=\"disabled\""));

    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/enable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        app.image(&keep, 0, "thumb").status,
        Status::Forbidden,
        "a takedown ends the tickets: lifting it does not let their holders back in"
    );
    assert_eq!(reason(&app, &keep), (Status::Ok, None));

    // Delete needs the confirmation.
    let kept_blobs: HashSet<String> = digests(&app, &keep, 2).into_iter().collect();
    let gone_blobs = digests(&app, &gone, 2);
    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/delete"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(reason(&app, &gone).0, Status::Ok, "not deleted unconfirmed");
    assert!(flash_of(&dashboard(&app, "/admin")).contains("Not deleted"));

    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/delete"),
        &format!("csrf={csrf}&confirm=yes"),
    );
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(app.get(&format!("/g/{gone}")).status, Status::NotFound);
    assert_eq!(
        app.get(&format!("/g/{gone}/i/0/thumb")).status,
        Status::NotFound
    );
    for hex in &gone_blobs {
        assert!(!app.blob_path(hex).exists(), "{hex} of the deleted gallery");
    }
    for hex in &kept_blobs {
        assert!(app.blob_path(hex).exists(), "{hex} of the kept gallery");
    }
    assert_eq!(app.blob_count(), kept_blobs.len());
    let page = dashboard(&app, "/admin");
    assert!(flash_of(&page).contains("Deleted"), "{page}");
    assert!(!page.contains(&format!("data-gallery=\"{gone}\"")));
    // Unknown galleries and actions.
    let res = post(
        &app,
        &format!("/admin/galleries/{gone}/disable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::NotFound);
    let res = post(
        &app,
        &format!("/admin/galleries/{keep}/explode"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(res.status(), Status::NotFound);
}

#[test]
fn search_sort_and_pages() {
    let app = admin_app();
    let ids: Vec<String> = (0..53)
        .map(|i| {
            let json = app.create(&[("p.jpg", &jpeg(16 + u32::from(i), 16, i))]);
            field(&json, "id").to_owned()
        })
        .collect();
    let big = field(&app.create(&[("big.png", &png_rgba(400, 300))]), "id").to_owned();
    sign_in(&app);

    let rows = |page: &str| {
        page.split("data-gallery=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // 54 galleries: 50 on the first page, newest first.
    let first = dashboard(&app, "/admin");
    assert!(first.contains("data-matched=\"54\""));
    let listed = rows(&first);
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[0], big);
    assert!(first.contains("Page 1 of 2"));
    let second = rows(&dashboard(&app, "/admin?sort=newest&page=2"));
    assert_eq!(second.len(), 4);
    assert_eq!(second.last(), Some(&ids[0]));
    let oldest = rows(&dashboard(&app, "/admin?sort=oldest"));
    assert_eq!(oldest[0], ids[0]);

    // Largest first; most opened first.
    assert_eq!(rows(&dashboard(&app, "/admin?sort=size"))[0], big);
    app.get(&format!("/g/{}", ids[7]));
    assert_eq!(rows(&dashboard(&app, "/admin?sort=opens"))[0], ids[7]);

    // An exact id, a prefix, and nothing.
    assert_eq!(
        rows(&dashboard(&app, &format!("/admin?q={}", ids[9]))),
        [ids[9].clone()]
    );
    let prefix = &ids[9][..3];
    let found = rows(&dashboard(&app, &format!("/admin?q={prefix}")));
    assert!(found.contains(&ids[9]));
    assert!(found.iter().all(|id| id.starts_with(prefix)));
    let none = dashboard(&app, "/admin?q=zzzzzzzzzzzzzzzz");
    assert!(rows(&none).is_empty() && none.contains("No gallery matches"));
}

#[test]
fn a_takedown_sticks_until_the_admin_lifts_it() {
    let app = admin_app();
    let created = app.create(&[("a.jpg", &jpeg(64, 48, 9))]);
    let (id, key) = (
        field(&created, "id").to_owned(),
        field(&created, "manage_key").to_owned(),
    );
    let csrf = sign_in(&app);
    let owner = |action: &str| {
        app.client
            .post(format!("/api/galleries/{id}/{action}"))
            .header(rocket::http::Header::new(
                "Authorization",
                format!("Bearer {key}"),
            ))
            .dispatch()
    };

    post(
        &app,
        &format!("/admin/galleries/{id}/disable"),
        &format!("csrf={csrf}"),
    );
    let res = owner("enable");
    assert_eq!(res.status(), Status::Forbidden);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "taken_down");
    assert!(message.contains("administrator"), "{message}");
    assert_eq!(
        reason(&app, &id),
        (Status::Forbidden, Some("disabled".into()))
    );
    let (_, json) = app.manage(false, &id, Some(format!("Bearer {key}")));
    assert_eq!(json["taken_down"], true);

    post(
        &app,
        &format!("/admin/galleries/{id}/enable"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(reason(&app, &id), (Status::Ok, None));
    assert_eq!(owner("disable").status(), Status::Ok);
    assert_eq!(
        owner("enable").status(),
        Status::Ok,
        "the owner is in charge again"
    );
}
