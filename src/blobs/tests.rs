//! Unit tests of the blob directory: idempotent puts, pins against collection, usage, and
//! what an interrupted write leaves.

use super::*;

#[test]
fn put_is_idempotent_and_pins_block_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::open(dir.path()).expect("open");
    let pin = store.put(b"hello").expect("put");
    let again = store.put(b"hello").expect("put again");
    assert_eq!(pin.digest(), again.digest());
    assert_eq!(store.read(&pin.digest()).expect("read"), b"hello");
    assert_eq!(store.all().expect("all"), vec![pin.digest()]);

    let d = pin.digest();
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    drop(pin);
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    drop(again);
    assert_eq!(store.collect([d], |_| Ok(true)).expect("collect"), 0);
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 1);
    assert!(store.all().expect("all").is_empty());
}

#[test]
fn a_hold_keeps_every_file_until_it_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::open(dir.path()).expect("open");
    let d = store.put(b"kept by a backup").expect("put").digest();
    let hold = store.hold();
    let second = store.hold();
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    drop(hold);
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    assert_eq!(store.read(&d).expect("read"), b"kept by a backup");
    drop(second);
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 1);
}

#[test]
fn a_writer_of_bytes_being_deleted_waits_and_then_writes_them_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::open(dir.path()).expect("open");
    let d = store.put(b"going").expect("put").digest();
    // A deletion under way, as `collect_freed` marks it while the lock is let go.
    store.lock_pins().deleting.insert(d);
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.put(b"going").expect("put again"))
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!writer.is_finished(), "the writer waits for the deletion");
    assert_eq!(store.lock_pins().counts.get(&d), None);
    assert!(disk::blob_path(&dir.path().join("blobs"), &d).exists());
    std::fs::remove_file(disk::blob_path(&dir.path().join("blobs"), &d)).expect("delete");
    let deleting = Deleting {
        store: &store,
        digest: d,
    };
    drop(deleting);
    let pin = writer.join().expect("writer");
    assert_eq!(store.read(&pin.digest()).expect("written again"), b"going");
    assert_eq!(
        store.collect([d], |_| Ok(false)).expect("collect"),
        0,
        "pinned"
    );
}

#[test]
fn a_blob_another_collection_is_deleting_is_left_to_it_and_a_hold_waits_for_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::open(dir.path()).expect("open");
    let d = store.put(b"shared").expect("put").digest();
    store.lock_pins().deleting.insert(d);
    // A second collection of the same file does not delete it (nor unmark it).
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    assert!(store.lock_pins().deleting.contains(&d));
    assert!(store.exists(&d).expect("exists"));
    // A backup's hold waits until the first deletion ends, and stops new ones at once.
    let holder = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.hold())
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !holder.is_finished(),
        "the hold waits for the deletion under way"
    );
    assert_eq!(store.lock_pins().holds, 1, "counted before it waits");
    drop(Deleting {
        store: &store,
        digest: d,
    });
    let hold = holder.join().expect("hold");
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 0);
    drop(hold);
    assert_eq!(store.collect([d], |_| Ok(false)).expect("collect"), 1);
}

#[test]
fn usage_follows_writes_and_collections_and_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::open(dir.path()).expect("open");
    assert_eq!(store.usage(), (0, 0));
    let a = store.put(b"hello").expect("put");
    let b = store.put(b"world!").expect("put");
    let _again = store.put(b"hello").expect("put again");
    assert_eq!(store.usage(), (11, 2));
    let reopened = BlobStore::open(dir.path()).expect("reopen");
    assert_eq!(reopened.usage(), (11, 2));
    let (da, db) = (a.digest(), b.digest());
    drop((a, b, _again));
    let freed = store.collect_freed([da], |_| Ok(false)).expect("collect");
    assert_eq!(freed, Freed { files: 1, bytes: 5 });
    assert_eq!(store.usage(), (6, 1));
    // A file removed behind its back is corrected by a recount.
    fs::remove_file(store.file(&db).expect("on disk")).expect("rm");
    assert_eq!(store.recount().expect("recount"), (0, 0));
    assert_eq!(store.usage(), (0, 0));
}

#[test]
fn leftover_temp_files_are_removed_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("tmp")).expect("mkdir");
    fs::write(dir.path().join("tmp/half.tmp"), b"partial").expect("write");
    let _store = BlobStore::open(dir.path()).expect("open");
    assert!(!dir.path().join("tmp/half.tmp").exists());
}
