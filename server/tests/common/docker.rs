//! The docker CLI, for what a person would do by hand in a test (kill, remove, inspect) and
//! for cleaning up after a test. Berth itself never uses it.

use std::process::Command;

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Ids of the containers of one Berth instance (all states).
pub fn instance_containers(instance: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=berth.instance={instance}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Removes every container of one Berth instance, the named volumes they mounted, and its
/// team networks. The worker was just aborted, and a create it had already sent still
/// completes in the engine: a second sweep half a second later removes what it made.
pub fn remove_instance(instance: &str) {
    let mut volumes = Vec::new();
    for sweep in 0..2 {
        if sweep > 0 {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        let ids = instance_containers(instance);
        if ids.is_empty() {
            continue;
        }
        let mut inspect = vec![
            "inspect",
            "--format",
            "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}} {{end}}{{end}}",
        ];
        inspect.extend(ids.iter().map(String::as_str));
        if let Ok(out) = Command::new("docker").args(&inspect).output() {
            volumes.extend(
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_owned),
            );
        }
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let _ = Command::new("docker").args(&args).output();
    }
    volumes.sort();
    volumes.dedup();
    for volume in &volumes {
        let _ = Command::new("docker")
            .args(["volume", "rm", volume])
            .output();
    }
    let label = format!("label=berth.instance={instance}");
    let nets = docker(&["network", "ls", "-q", "--filter", &label]);
    for net in nets.lines() {
        let _ = Command::new("docker").args(["network", "rm", net]).output();
    }
}
