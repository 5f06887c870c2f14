//! Orphan files: marked, collected an hour later, and a mass deletion held.

use super::*;

/// Write a blob file nobody references, named by its digest, as a crash would leave it.
fn plant_orphan(data: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let hex = Digest::of(bytes).to_hex();
    let path = data
        .join("blobs")
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(&hex);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn orphans_are_collected_an_hour_after_they_were_marked_and_a_mass_deletion_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = OffsetDateTime::now_utc();
    let galleries = open_galleries_at(dir.path(), t0);
    let kept = galleries
        .create(
            "",
            &SettingsInput::default(),
            vec![pending(&galleries, jpeg(320, 240, 3))],
            &[],
            t0,
        )
        .unwrap();
    drop(galleries);
    let referenced = blob_files(dir.path());

    // A few orphans from a crash: marked at one start, gone at a start an hour later.
    let few: Vec<_> = (0..3u8)
        .map(|i| plant_orphan(dir.path(), &[i; 9]))
        .collect();
    drop(open_galleries_at(dir.path(), t0));
    assert!(
        few.iter().all(|p| p.exists()),
        "deleted without a grace period"
    );
    let galleries = open_galleries_at(dir.path(), t0 + Duration::minutes(30));
    assert!(
        few.iter().all(|p| p.exists()),
        "deleted after half the grace period"
    );
    let sweep = galleries
        .collect_garbage(t0 + Duration::minutes(60), Hold)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.held), (3, None));
    assert!(few.iter().all(|p| !p.exists()));

    // Many files unreferenced at once (more than half of all, more than a handful): what a
    // wrong database looks like. Nothing is deleted, however long they wait.
    let many: Vec<_> = (0..20u8)
        .map(|i| plant_orphan(dir.path(), &[i; 17]))
        .collect();
    let t1 = t0 + Duration::hours(2);
    assert_eq!(galleries.collect_garbage(t1, Hold).unwrap().marked, 20);
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(5), Hold)
        .unwrap();
    assert_eq!(sweep.freed.files, 0);
    let held = sweep.held.expect("held back");
    assert_eq!(held.due, 20);
    assert!(
        many.iter().all(|p| p.exists()),
        "a mass deletion went ahead"
    );
    assert!(referenced.iter().all(|p| p.exists()));
    assert!(galleries.get(&kept.id).is_ok());
    // Confirmed by the administrator: they go, what is referenced stays.
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(5), Allow)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.held), (20, None));
    assert!(many.iter().all(|p| !p.exists()));
    assert!(referenced.iter().all(|p| p.exists()));

    // Files a crash left unreferenced, marked, then referenced again by a new gallery of
    // the same bytes: the mark is dropped and they stay.
    let bytes = jpeg(200, 100, 4);
    let left = pending(&galleries, bytes.clone());
    let files: Vec<_> = left
        .record
        .digests()
        .iter()
        .map(|d| galleries.blob_path(d).expect("on disk"))
        .collect();
    drop(left);
    assert!(
        galleries
            .collect_garbage(t1 + Duration::hours(6), Hold)
            .unwrap()
            .marked
            >= 1
    );
    let again = galleries
        .create(
            "",
            &SettingsInput::default(),
            vec![pending(&galleries, bytes)],
            &[],
            t1,
        )
        .unwrap();
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(9), Hold)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.marked, sweep.waiting), (0, 0, 0));
    assert!(files.iter().all(|p| p.exists()));
    assert!(galleries.get(&again.id).is_ok());
}
