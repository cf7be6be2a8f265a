//! `kill -9` of `conveyor serve` while clients write: every acknowledged write survives, the
//! chain verifies, and the restarted server accepts work again.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use conveyor_system_tests::{ServerProcess, curl, mint_token};

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let admin = mint_token(dir.path(), "ops", "admin read audit").unwrap();
    let mut acknowledged_total = 0;
    for cycle in 0..3 {
        let server = ServerProcess::start(dir.path()).unwrap();
        let url = format!("{}/api/v1/environments", server.url);
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..8)
            .map(|writer| {
                let (url, admin, acknowledged, stop) = (
                    url.clone(),
                    admin.clone(),
                    acknowledged.clone(),
                    stop.clone(),
                );
                std::thread::spawn(move || {
                    let mut n = 0;
                    // Bounded: each writer stops after 200 writes even if never told to.
                    while !stop.load(Ordering::Relaxed) && n < 200 {
                        let name = format!("c{cycle}-w{writer}-{n}");
                        let body = format!(r#"{{"name":"{name}"}}"#);
                        if let Ok((201, _)) = curl("POST", &url, &admin, Some(&body)) {
                            acknowledged.lock().unwrap().push(name);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        // Kill once the writers have had some writes acknowledged, while they keep writing.
        let target = 20 * (cycle + 1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < target {
            assert!(
                std::time::Instant::now() < deadline,
                "writes were not acknowledged"
            );
            std::thread::yield_now();
        }
        server.kill_hard().unwrap();
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.join().unwrap();
        }
        acknowledged_total += acknowledged.lock().unwrap().len();

        let server = ServerProcess::start(dir.path()).unwrap();
        let url = format!("{}/api/v1/environments", server.url);
        let (status, body) = curl("GET", &url, &admin, None).unwrap();
        assert_eq!(status, 200, "{body}");
        for name in acknowledged.lock().unwrap().iter() {
            assert!(
                body.contains(&format!("\"name\":\"{name}\"")),
                "acknowledged {name} was lost"
            );
        }
        let (status, verify) = curl(
            "GET",
            &format!("{}/api/v1/events/verify", server.url),
            &admin,
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{verify}");
        assert!(verify.contains("\"intact\":true"), "{verify}");
        let (status, _) = curl(
            "POST",
            &url,
            &admin,
            Some(&format!(r#"{{"name":"after-{cycle}"}}"#)),
        )
        .unwrap();
        assert_eq!(status, 201, "the restarted server refused work");
        server.terminate().unwrap();
    }
    assert!(acknowledged_total >= 120);
}
