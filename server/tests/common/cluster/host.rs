//! The host side of a test cluster: its index (reserved under a file lock), the Linux
//! bridge `bcl<k>`, one network namespace per node wired into it with a veth pair, the
//! FORWARD rule that lets bridged traffic through, and the teardown that removes all of it
//! — used on drop, by the stale sweep at start and (in shell) by `scripts/cluster-clean`.
//!
//! Everything here is blocking and std-only: it runs `ip`, `iptables`, `unshare`,
//! `nsenter` and `hostname` with fixed arguments (no shell, no input in them).

use super::super::debian_images::run_ok as run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Held while choosing an index, so parallel test processes never take the same one.
const LOCK: &str = "/tmp/berth-cluster.lock";
/// Cluster indexes in use are `1..=MAX_INDEX` (the third octet of `10.99.<k>.0/24`).
const MAX_INDEX: u8 = 200;

/// The state folder of cluster `k`: `/tmp/berth-cluster-<k>` (node folders, the owner's
/// pid, the registry's storage). Its existence with a live owner reserves `k`.
pub fn state_dir(k: u8) -> PathBuf {
    PathBuf::from(format!("/tmp/berth-cluster-{k}"))
}

/// The bridge of cluster `k` (≤ 15 characters, as Linux wants).
pub fn bridge(k: u8) -> String {
    format!("bcl{k}")
}

/// The network namespace of node `i` of cluster `k` (`/var/run/netns/<it>`).
pub fn netns(k: u8, i: usize) -> String {
    format!("bcl{k}-n{i}")
}

/// The host end of node `i`'s veth pair.
fn veth(k: u8, i: usize) -> String {
    format!("bcl{k}v{i}")
}

/// The host's address on the bridge, `10.99.<k>.1`: the nodes' gateway and the registry's.
pub fn host_ip(k: u8) -> String {
    format!("10.99.{k}.1")
}

/// Node `i`'s address, `10.99.<k>.(10+i)`.
pub fn node_ip(k: u8, i: usize) -> String {
    format!("10.99.{k}.{}", 10 + i)
}

/// The cgroup parent of node `i`'s containers (absolute: under every controller's root).
pub fn cgroup_parent(k: u8, i: usize) -> String {
    format!("/berth-bcl{k}-n{i}")
}

/// Runs a command whose failure is expected when there is nothing to remove.
fn try_run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `pid:starttime` of this process, written as the owner of a cluster (the start time
/// tells a reused pid from the owner).
fn owner_tag(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start}"))
}

/// Whether the owner recorded in `dir/owner` still runs.
fn owner_alive(dir: &Path) -> bool {
    let Ok(tag) = std::fs::read_to_string(dir.join("owner")) else {
        return false;
    };
    let Some(pid) = tag.split(':').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    owner_tag(pid).as_deref() == Some(tag.trim())
}

/// Reserves a free cluster index for this process: under the file lock, sweeps every
/// cluster whose owner is gone, takes the lowest index without a live owner and writes
/// this process as its owner. Panics when all `MAX_INDEX` are taken.
pub fn reserve() -> u8 {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .expect("cluster lock file");
    lock.lock().expect("lock the cluster indexes");
    let mut chosen = None;
    for k in 1..=MAX_INDEX {
        let dir = state_dir(k);
        if dir.exists() && owner_alive(&dir) {
            continue;
        }
        if dir.exists() || Path::new(&format!("/sys/class/net/{}", bridge(k))).exists() {
            teardown(k);
        }
        if chosen.is_none() {
            chosen = Some(k);
        }
    }
    let k = chosen.expect("every test cluster index is in use");
    let dir = state_dir(k);
    std::fs::create_dir_all(&dir).unwrap();
    let me = owner_tag(std::process::id()).expect("own /proc entry");
    std::fs::write(dir.join("owner"), me).unwrap();
    k
    // Dropping `lock` releases it.
}

/// The bridge with the host's address and the FORWARD rule for traffic across it (the
/// host bridges with `bridge-nf-call-iptables` on and a FORWARD policy of DROP: without
/// the rule VXLAN between the nodes never arrives).
pub fn create_bridge(k: u8) {
    let br = bridge(k);
    run("ip", &["link", "add", &br, "type", "bridge"]);
    run(
        "ip",
        &["addr", "add", &format!("{}/24", host_ip(k)), "dev", &br],
    );
    run("ip", &["link", "set", &br, "up"]);
    run(
        "iptables",
        &["-I", "FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"],
    );
}

/// Node `i`'s namespace: a veth into the bridge (`eth0` inside, `10.99.<k>.(10+i)/24`),
/// `lo` up, the default route via the host; and a UTS namespace kept in `uts` with the
/// hostname `bcl<k>-n<i>`, so Swarm sees distinct hostnames.
pub fn create_node_net(k: u8, i: usize, uts: &Path) {
    let ns = netns(k, i);
    let host_end = veth(k, i);
    run("ip", &["netns", "add", &ns]);
    run(
        "ip",
        &[
            "link", "add", &host_end, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ],
    );
    run(
        "ip",
        &["link", "set", &host_end, "master", &bridge(k), "up"],
    );
    let addr = format!("{}/24", node_ip(k, i));
    run("ip", &["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
    run("ip", &["-n", &ns, "link", "set", "eth0", "up"]);
    run("ip", &["-n", &ns, "link", "set", "lo", "up"]);
    run(
        "ip",
        &["-n", &ns, "route", "add", "default", "via", &host_ip(k)],
    );
    std::fs::write(uts, b"").unwrap();
    let uts = uts.to_str().unwrap();
    run("unshare", &[&format!("--uts={uts}"), "true"]);
    run("nsenter", &[&format!("--uts={uts}"), "hostname", &ns]);
}

/// Pids of processes whose command line names something under `dir` (the node daemons,
/// their containerd and shims, fuse-overlayfs mounts, the registry).
fn processes_under(dir: &Path) -> Vec<i32> {
    let needle = format!("{}/", dir.display());
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(&needle) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Pids in the cgroup tree of node `i` (the containers' processes).
fn processes_in_cgroup(k: u8, i: usize) -> Vec<i32> {
    let root = PathBuf::from("/sys/fs/cgroup/pids").join(&cgroup_parent(k, i)[1..]);
    let mut pids = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            pids.extend(text.lines().filter_map(|l| l.parse::<i32>().ok()));
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            stack.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    pids
}

/// Whether `pid` runs (a zombie, exited but not yet reaped, does not).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// Waits until none of `pids` runs, up to `limit`; true when all are gone.
pub fn wait_gone(pids: &[i32], limit: Duration) -> bool {
    let began = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        if began.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

fn signal(pids: &[i32], sig: i32) {
    for &pid in pids {
        // SAFETY: kill(2) on a pid found above; an error (already gone) is ignored.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Mount points under `dir`, deepest first (from /proc/self/mountinfo; `\040` etc. are
/// octal escapes).
fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<String> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_octal)
        .filter(|p| p.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    points.dedup();
    points
}

fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            if let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|t| u8::from_str_radix(t, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes everything of cluster `k`, whatever state it is in (nothing left: no error):
/// the node daemons (SIGTERM, then SIGKILL after 20 s), every other process under its
/// folder or in its nodes' cgroups, mounts under its folder, the namespaces, veths and
/// bridge, the FORWARD rule, the cgroup folders, and the folder itself.
pub fn teardown(k: u8) {
    let dir = state_dir(k);
    let daemons: Vec<i32> = processes_under(&dir)
        .into_iter()
        .filter(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "dockerd")
        })
        .collect();
    signal(&daemons, libc::SIGTERM);
    if !wait_gone(&daemons, Duration::from_secs(20)) {
        signal(&daemons, libc::SIGKILL);
        wait_gone(&daemons, Duration::from_secs(5));
    }
    for _ in 0..3 {
        let mut rest = processes_under(&dir);
        for i in 0..8 {
            rest.extend(processes_in_cgroup(k, i));
        }
        if rest.is_empty() {
            break;
        }
        signal(&rest, libc::SIGKILL);
        wait_gone(&rest, Duration::from_secs(5));
    }
    for point in mounts_under(&dir) {
        let c = std::ffi::CString::new(point).unwrap();
        // SAFETY: umount2(2) with a valid C string; failures (not mounted) are ignored.
        unsafe {
            libc::umount2(c.as_ptr(), libc::MNT_DETACH);
        }
    }
    for i in 0..8 {
        try_run("ip", &["netns", "del", &netns(k, i)]);
        try_run("ip", &["link", "del", &veth(k, i)]);
    }
    let br = bridge(k);
    try_run("ip", &["link", "del", &br]);
    while try_run(
        "iptables",
        &["-D", "FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"],
    ) {}
    for i in 0..8 {
        remove_cgroups(k, i);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Removes node `i`'s (empty) cgroup folders under every controller, deepest first.
fn remove_cgroups(k: u8, i: usize) {
    let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for controller in controllers.flatten() {
        let root = controller.path().join(&cgroup_parent(k, i)[1..]);
        let mut dirs = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            if let Ok(entries) = std::fs::read_dir(&d) {
                stack.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
                dirs.push(d);
            }
        }
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}
