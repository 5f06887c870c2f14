//! Unit tests of the allowances: the rate limiter (bursts, IPv6 networks, the memory
//! bound), waits in words, and the viewing-password window.

use super::*;

#[test]
fn a_burst_of_the_limit_then_one_per_interval() {
    let limiter = RateLimiter::default();
    let client = IpAddr::from([192, 0, 2, 7]);
    let start = Instant::now();
    for _ in 0..3 {
        assert_eq!(limiter.take(client, 3, start), Ok(()));
    }
    let wait = limiter.take(client, 3, start).expect_err("over the limit");
    assert_eq!(wait, Duration::from_secs(1200));
    assert!(limiter.check(client, 3, start).is_err());
    // Another client has its own allowance; 0 is unlimited.
    assert_eq!(limiter.take(IpAddr::from([192, 0, 2, 8]), 3, start), Ok(()));
    assert_eq!(limiter.take(client, 0, start), Ok(()));
    // One more after the interval, not two.
    let later = start + Duration::from_secs(1200);
    assert_eq!(limiter.take(client, 3, later), Ok(()));
    assert!(limiter.take(client, 3, later).is_err());
    // A full hour of quiet gives the whole allowance back.
    let much_later = later + PERIOD;
    for _ in 0..3 {
        assert_eq!(limiter.take(client, 3, much_later), Ok(()));
    }
}

#[test]
fn an_ipv6_network_shares_one_allowance() {
    let limiter = RateLimiter::default();
    let now = Instant::now();
    let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
    let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
    let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
    assert_eq!(limiter.take(a, 1, now), Ok(()));
    assert!(limiter.take(b, 1, now).is_err());
    assert_eq!(limiter.take(other, 1, now), Ok(()));
}

#[test]
fn memory_stays_bounded() {
    let limiter = RateLimiter::default();
    let now = Instant::now();
    let ip = |i: u32| IpAddr::from((i + 1).to_be_bytes());
    for i in 0..MAX_CLIENTS as u32 {
        assert_eq!(limiter.take(ip(i), 100, now), Ok(()));
    }
    assert_eq!(limiter.len(), MAX_CLIENTS);
    // Entries whose allowance is back are dropped when room is needed …
    let later = now + PERIOD;
    assert_eq!(
        limiter.take(IpAddr::from([10, 0, 0, 1]), 100, later),
        Ok(())
    );
    assert_eq!(limiter.len(), 1);
    // … and if none is, the half closest to it.
    for i in 0..MAX_CLIENTS as u32 + 10 {
        let at = later + Duration::from_millis(u64::from(i % 1000));
        assert_eq!(limiter.take(ip(i), 100, at), Ok(()));
    }
    assert!(limiter.len() <= MAX_CLIENTS, "{}", limiter.len());
}

#[test]
fn waits_read_as_minutes() {
    assert_eq!(minutes(Duration::from_secs(1)), "1 minute");
    assert_eq!(minutes(Duration::from_secs(60)), "1 minute");
    assert_eq!(minutes(Duration::from_secs(61)), "2 minutes");
    assert_eq!(retry_after(Duration::from_millis(1500)), 2);
}

#[test]
fn attempts_are_counted_before_checking_and_forgotten_after_the_window() {
    let attempts = Attempts::with_verifiers(1);
    let key = (IpAddr::from([10, 0, 0, 1]), "g".to_owned());
    let other = (IpAddr::from([10, 0, 0, 2]), "g".to_owned());
    let start = Instant::now();
    for _ in 0..MAX_FAILURES {
        assert_eq!(attempts.reserve(&key, start), Ok(()));
    }
    assert_eq!(attempts.reserve(&key, start), Err(WINDOW.as_secs()));
    assert_eq!(attempts.reserve(&other, start), Ok(()));
    attempts.release(&key);
    assert_eq!(
        attempts.reserve(&key, start),
        Ok(()),
        "a given-back attempt"
    );
    assert!(attempts.reserve(&key, start).is_err());
    assert_eq!(attempts.reserve(&key, start + WINDOW), Ok(()));
    attempts.succeeded(&key);
    assert_eq!(attempts.reserve(&key, start), Ok(()));
}
