//! Why a key is refused. Every key a level does not support is refused by name: the
//! unsafe ones with the reason, Compose keys Berth has no place for as such, and anything
//! else as not a Compose key at all (a typo is not silently dropped).

/// Service keys of the Compose specification that Berth does not support.
const OTHER_SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "cgroup",
    "cgroup_parent",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "driver_opts",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "hostname",
    "init",
    "isolation",
    "link_local_ips",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "pids_limit",
    "platform",
    "post_start",
    "pre_stop",
    "profiles",
    "provider",
    "read_only",
    "runtime",
    "scale",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "volumes_from",
    "working_dir",
];

/// Why `key` of a service is refused.
pub fn service_key(key: &str) -> String {
    let why = match key {
        "privileged" => "Berth never runs a privileged container.",
        "network_mode" => {
            "Berth gives each environment its own network; the host's or another \
             container's network cannot be used."
        }
        "networks" => {
            "Berth gives each environment one private network, on which services reach \
             each other by name: remove networks."
        }
        "cap_add" | "cap_drop" => "Berth does not change a container's Linux capabilities.",
        "env_file" => {
            "Berth reads no other files: put the variables under environment (shared \
             values as ${NAME})."
        }
        "devices" => "Host devices cannot be given to a container.",
        "pid" | "ipc" | "uts" | "userns_mode" => {
            "Sharing the host's (or another container's) namespaces is not allowed."
        }
        "security_opt" => "Security options cannot be changed.",
        "extends" => "extends reads other files or services: write the service out in full.",
        "secrets" | "configs" => {
            "Not supported: give the value as a secret variable of the service or a \
             shared variable of the environment."
        }
        "container_name" => {
            "Berth names containers itself; the service name is the service's address on \
             the environment's network."
        }
        k if OTHER_SERVICE_KEYS.contains(&k) => "Berth does not support this Compose key.",
        _ => "Not a Compose service key (a typo?).",
    };
    format!("{key}: {why}")
}

/// Why a top-level key is refused.
pub fn top_key(key: &str) -> String {
    let why = match key {
        "networks" => {
            "Berth gives each environment one private network, on which services reach \
             each other by name: remove networks."
        }
        "secrets" | "configs" => {
            "Not supported: use secret variables of a service, or shared variables of the \
             environment."
        }
        "include" => "Berth reads one file: write the included services out in full.",
        "models" => "Berth does not support this Compose key.",
        _ => "Not a Compose key (a typo?).",
    };
    format!("{key}: {why}")
}

/// Why a key inside a service's `key` section (`build`, `healthcheck`, …) is refused.
pub fn nested_key(section: &str, key: &str) -> String {
    format!("{key}: Berth does not support this key of {section} (or it is not a Compose key).")
}
