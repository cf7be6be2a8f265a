//! The long crash run: `kill -9` of `conveyor serve` at random moments while concurrent
//! writers drive it, N cycles, each checked (see `conveyor_system_tests::crash`).
//!
//! ```sh
//! cargo build --release --bin conveyor
//! cargo run --release -p conveyor-system-tests --example crash_cycles -- 100 64 1
//! ```
//! Arguments: cycles (default 100), writers (64), seed (1). Uses the `conveyor` binary next
//! to the example's own build.

use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let mut next = |default: u64| args.next().unwrap_or(Ok(default));
    let (cycles, writers, seed) = (next(100)?, next(64)?, next(1)?);
    let dir = tempfile::tempdir()?;
    let window = (Duration::from_millis(100), Duration::from_millis(2000));
    let started = std::time::Instant::now();
    let mut total = 0;
    println!("cycle  killed after  acknowledged  head  restart to ready");
    conveyor_system_tests::crash::run_cycles(
        dir.path(),
        cycles as usize,
        writers as usize,
        window,
        seed,
        |report| {
            total += report.acknowledged;
            println!(
                "{:>5}  {:>9} ms  {:>12}  {:>6}  {:>13} ms",
                report.cycle,
                report.killed_after.as_millis(),
                report.acknowledged,
                report.head,
                report.restart.as_millis()
            );
        },
    )?;
    println!(
        "{cycles} cycles, {total} acknowledged writes, none lost; {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
