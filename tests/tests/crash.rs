//! `kill -9` of `conveyor serve` at random moments while 64 writers drive it through the API,
//! three times: after each restart every acknowledged write is in the log, positions are
//! gapless, the chain verifies, the projections equal a fresh replay and the server accepts
//! work again (see `conveyor_system_tests::crash`; `tests/examples/crash_cycles.rs` runs
//! the long version).

use std::time::Duration;

use conveyor_system_tests::crash::run_cycles;

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = 0;
    let window = (Duration::from_millis(200), Duration::from_millis(1200));
    run_cycles(dir.path(), 3, 64, window, 7, |report| {
        acknowledged += report.acknowledged;
    })
    .unwrap();
    assert!(acknowledged > 0);
}
