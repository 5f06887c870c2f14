//! The shared probe: one in flight for every asker, its answer kept for a moment, and no
//! asker held longer than the wait by a probe that does not come back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use super::*;
use crate::blobs::bucket::timed_out;

const FRESH: Duration = Duration::from_millis(300);
const WAIT: Duration = Duration::from_millis(100);

fn down() -> io::Result<()> {
    Err(timed_out("look up"))
}

#[test]
fn askers_share_one_probe_and_its_answer_stands_for_a_moment() {
    let reach = Reachability::new(FRESH, Duration::from_secs(5));
    let launched = Arc::new(AtomicUsize::new(0));
    let answers: Vec<Option<String>> = thread::scope(|s| {
        let askers: Vec<_> = (0..8)
            .map(|_| {
                let (reach, launched) = (Arc::clone(&reach), Arc::clone(&launched));
                s.spawn(move || {
                    reach.failure(|probe| {
                        launched.fetch_add(1, Ordering::SeqCst);
                        thread::spawn(move || {
                            thread::sleep(Duration::from_millis(50));
                            probe.finish(&down());
                        });
                    })
                })
            })
            .collect();
        askers
            .into_iter()
            .map(|a| a.join().expect("asker"))
            .collect()
    });
    assert_eq!(launched.load(Ordering::SeqCst), 1, "one probe for all");
    assert!(
        answers
            .iter()
            .all(|a| a.as_deref() == Some("object storage: look up: no answer in time")),
        "{answers:?}"
    );

    // Within `fresh`, the answer stands without a probe.
    let failure = reach.failure(|_| panic!("probed again at once"));
    assert!(failure.is_some());
    // A call that is answered clears it at once, and stands as well.
    reach.note(&Ok(()));
    assert_eq!(reach.failure(|_| panic!("probed after an answer")), None);
}

#[test]
fn a_probe_that_does_not_come_back_holds_nobody_past_the_wait() {
    let reach = Reachability::new(FRESH, WAIT);
    reach.note(&down());
    thread::sleep(FRESH);
    // The store hangs: the probe is kept, never finished, until the test ends.
    let hanging = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&hanging);
    let asked = Instant::now();
    let failure = reach.failure(move |probe| keep.lock().expect("keep").push(probe));
    assert!(asked.elapsed() < WAIT * 10, "waited {:?}", asked.elapsed());
    assert!(failure.is_some(), "the last known answer");
    // Later askers join the probe in flight instead of starting more.
    let failure = reach.failure(|_| panic!("a second probe while one is in flight"));
    assert!(failure.is_some());
    assert_eq!(hanging.lock().expect("hanging").len(), 1);

    // It answers at last: the store is back.
    let probe = hanging.lock().expect("hanging").pop().expect("the probe");
    probe.finish(&Ok(()));
    assert_eq!(reach.failure(|_| panic!("probed after an answer")), None);
}

#[test]
fn a_probe_dropped_unfinished_lets_the_next_asker_probe() {
    let reach = Reachability::new(FRESH, WAIT);
    assert_eq!(reach.failure(drop), None, "nothing known: nothing failing");
    let launched = AtomicUsize::new(0);
    let failure = reach.failure(|probe| {
        launched.fetch_add(1, Ordering::SeqCst);
        probe.finish(&down());
    });
    assert_eq!(launched.load(Ordering::SeqCst), 1, "a new probe");
    assert!(failure.is_some());
}
