//! Compose's small value languages, read into Berth's units: durations (`1m30s`) into whole
//! seconds, byte sizes (`512m`) into MiB, CPU counts (`0.5`) into thousandths of a core,
//! and short port syntax (`8080:80/udp`).

use crate::domain::service::{PortSpec, Protocol};

/// A Go duration (`10s`, `1m30s`, `1.5h`, `500ms`) in whole seconds.
pub fn seconds(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a duration such as 10s, 1m30s or 2h.");
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut nanos: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        nanos += n * scale;
        rest = &rest[unit_len..];
    }
    let secs = nanos / 1e9;
    if secs.fract() != 0.0 {
        return Err(format!(
            "{text} is not a whole number of seconds, which Berth counts in."
        ));
    }
    if secs > f64::from(u32::MAX) {
        return Err(bad());
    }
    Ok(secs as u32)
}

/// Seconds as Compose writes them.
pub fn duration(secs: u32) -> String {
    format!("{secs}s")
}

/// A byte size (`1073741824`, `512m`, `1g`, `1.5gb`, base 1024) in whole MiB.
pub fn mebibytes(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a size such as 512m or 1g.");
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let n: f64 = t[..split].parse().map_err(|_| bad())?;
    let scale: f64 = match t[split..].trim() {
        "" | "b" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1024.0 * 1024.0,
        "g" | "gb" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let mib = n * scale / (1024.0 * 1024.0);
    if mib.fract() != 0.0 {
        return Err(format!(
            "{text} is not a whole number of MiB, which Berth counts in."
        ));
    }
    if mib > f64::from(u32::MAX) {
        return Err(bad());
    }
    Ok(mib as u32)
}

/// MiB as Compose writes them.
pub fn size(mib: u32) -> String {
    format!("{mib}M")
}

/// A CPU count (`0.5`, `2`) in thousandths of a core.
pub fn cpu_millis(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a number of CPUs such as 0.5 or 2.");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 3 {
        return Err(format!(
            "{t} CPUs is finer than a thousandth of a core, which Berth counts in."
        ));
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: u32 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

/// Thousandths of a core as Compose writes them (`0.5`, `2`, `0.125`).
pub fn cpus(millis: u32) -> String {
    let (whole, frac) = (millis / 1000, millis % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

/// Short port syntax: `80`, `80/udp`, `8080:80`, `8080:80/tcp`. Ranges and host
/// addresses are refused (Berth publishes single ports on every address).
pub fn port(text: &str) -> Result<PortSpec, String> {
    let t = text.trim();
    let (ports, protocol) = match t.rsplit_once('/') {
        Some((p, "tcp")) => (p, Protocol::Tcp),
        Some((p, "udp")) => (p, Protocol::Udp),
        Some((_, other)) => {
            return Err(format!(
                "The protocol {other} is not supported (tcp or udp)."
            ))
        }
        None => (t, Protocol::Tcp),
    };
    if ports.contains('-') {
        return Err("Port ranges are not supported: list each port.".into());
    }
    let number = |s: &str| -> Result<u16, String> {
        s.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{s:?} is not a port from 1 to 65535."))
    };
    let parts: Vec<&str> = ports.split(':').collect();
    match parts.as_slice() {
        [container] => Ok(PortSpec {
            container: number(container)?,
            host: None,
            protocol,
        }),
        [host, container] => Ok(PortSpec {
            container: number(container)?,
            host: Some(number(host)?),
            protocol,
        }),
        _ => Err(
            "A host address cannot be given: Berth publishes a port on every address of the host."
                .into(),
        ),
    }
}

/// A port in short syntax, as [`port`] reads it.
pub fn port_text(p: &PortSpec) -> String {
    let proto = match p.protocol {
        Protocol::Tcp => "",
        Protocol::Udp => "/udp",
    };
    match p.host {
        Some(h) => format!("{h}:{}{proto}", p.container),
        None => format!("{}{proto}", p.container),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_whole_seconds() {
        for (t, s) in [
            ("10s", 10),
            ("1m30s", 90),
            ("1h", 3600),
            ("1.5m", 90),
            ("2000ms", 2),
            ("0s", 0),
        ] {
            assert_eq!(seconds(t), Ok(s), "{t}");
        }
        for t in ["10", "1.5s", "ten", "5x", "", "s"] {
            assert!(seconds(t).is_err(), "{t}");
        }
        assert_eq!(seconds(&duration(45)), Ok(45));
    }

    #[test]
    fn sizes_in_mebibytes() {
        for (t, m) in [
            ("512m", 512),
            ("1g", 1024),
            ("1.5GB", 1536),
            ("2048k", 2),
            ("1048576", 1),
            ("256M", 256),
        ] {
            assert_eq!(mebibytes(t), Ok(m), "{t}");
        }
        for t in ["100k", "1t", "lots", "1.1m"] {
            assert!(mebibytes(t).is_err(), "{t}");
        }
        assert_eq!(mebibytes(&size(300)), Ok(300));
    }

    #[test]
    fn cpus_in_thousandths() {
        for (t, m) in [
            ("0.5", 500),
            ("2", 2000),
            ("1.25", 1250),
            (".125", 125),
            ("0.500", 500),
        ] {
            assert_eq!(cpu_millis(t), Ok(m), "{t}");
        }
        for t in ["0.0005", "-1", "half", "", "1e3"] {
            assert!(cpu_millis(t).is_err(), "{t}");
        }
        for m in [10, 125, 500, 1000, 2500, 64000] {
            assert_eq!(cpu_millis(&cpus(m)), Ok(m), "{m}");
        }
    }

    #[test]
    fn short_ports() {
        let p = port("8080:80").unwrap();
        assert_eq!(
            (p.container, p.host, p.protocol),
            (80, Some(8080), Protocol::Tcp)
        );
        let p = port("53/udp").unwrap();
        assert_eq!((p.container, p.host, p.protocol), (53, None, Protocol::Udp));
        assert!(port("127.0.0.1:8080:80")
            .unwrap_err()
            .contains("host address"));
        assert!(port("8000-8010:8000-8010").unwrap_err().contains("ranges"));
        assert!(port("80/sctp").is_err());
        assert!(port("0").is_err());
        assert!(port("70000").is_err());
        for t in ["80", "8080:80", "53/udp", "5353:53/udp"] {
            assert_eq!(port_text(&port(t).unwrap()), t);
        }
    }
}
