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

/// Removes every container and team network of one Berth instance.
pub fn remove_instance(instance: &str) {
    let ids = instance_containers(instance);
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let _ = Command::new("docker").args(&args).output();
    }
    let label = format!("label=berth.instance={instance}");
    let nets = docker(&["network", "ls", "-q", "--filter", &label]);
    for net in nets.lines() {
        let _ = Command::new("docker").args(["network", "rm", net]).output();
    }
}
