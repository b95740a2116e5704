//! The part of Caddy's JSON config that Berth owns, as a pure function of the routes it
//! should serve: the server `berth` (https, or plain http when TLS is off) and, with TLS,
//! `berth_http` on the http port (redirects to https, or plain serving when a service asks
//! for it). Everything else in Caddy's config is left as the operator wrote it.

use app::domain::service::{HttpRoute, ProxyListen as Listen};
use serde_json::{json, Map, Value};

pub const SERVER: &str = "berth";
pub const HTTP_SERVER: &str = "berth_http";

/// One service's route: its hosts and the replicas ready for requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoute {
    pub name: String,
    pub route: HttpRoute,
    /// `ip:port` of each ready replica; empty answers 503.
    pub dials: Vec<String>,
}

/// Berth's servers, by name. Servers Berth does not need in this mode map to `None`, so
/// a switch from TLS to plain http removes the stale one.
pub fn servers(listen: &Listen, routes: &[ServiceRoute]) -> Vec<(&'static str, Option<Value>)> {
    let scheme = if listen.tls { "https" } else { "http" };
    let mut served: Vec<Value> = routes.iter().flat_map(|r| serve(r, scheme)).collect();
    served.push(unknown_host());
    if !listen.tls {
        let server = json!({
            "listen": [format!(":{}", listen.http_port)],
            "routes": served,
            "automatic_https": { "disable": true },
        });
        return vec![(SERVER, Some(server)), (HTTP_SERVER, None)];
    }
    let https = json!({
        "listen": [format!(":{}", listen.https_port)],
        "routes": served,
        // Redirects are per service, on `berth_http`.
        "automatic_https": { "disable_redirects": true },
    });
    let mut plain: Vec<Value> = routes
        .iter()
        .flat_map(|r| {
            if r.route.https_redirect {
                vec![redirect_route(
                    r.route.hosts(),
                    "https://{http.request.host}",
                )]
            } else {
                serve(r, "http")
            }
        })
        .collect();
    plain.push(unknown_host());
    let http = json!({
        "listen": [format!(":{}", listen.http_port)],
        "routes": plain,
    });
    vec![(SERVER, Some(https)), (HTTP_SERVER, Some(http))]
}

/// The routes that answer a service's hosts: `www.` twins redirect to their domain, the
/// domains go to the replicas (round robin, retrying another replica while one does not
/// accept connections), or 503 while none is ready.
fn serve(r: &ServiceRoute, scheme: &str) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .route
        .www_twins()
        .map(|(www, domain)| redirect_route(vec![www], &format!("{scheme}://{domain}")))
        .collect();
    let handler = if r.dials.is_empty() {
        json!({
            "handler": "static_response",
            "status_code": 503,
            "headers": { "Retry-After": ["5"], "Content-Type": ["text/plain; charset=utf-8"] },
            "body": format!("No replica of {} is ready.\n", r.name),
        })
    } else {
        json!({
            "handler": "reverse_proxy",
            "upstreams": r.dials.iter().map(|d| json!({ "dial": d })).collect::<Vec<_>>(),
            "load_balancing": {
                "selection_policy": { "policy": "round_robin" },
                "try_duration": "5s",
                "try_interval": "100ms",
            },
            "health_checks": { "passive": { "fail_duration": "10s", "max_fails": 1 } },
        })
    };
    out.push(json!({
        "match": [{ "host": r.route.domains }],
        "handle": [handler],
        "terminal": true,
    }));
    out
}

/// Last: a host no service claims gets a 404 that says so (Caddy's default is an empty 200).
fn unknown_host() -> Value {
    json!({
        "handle": [{
            "handler": "static_response",
            "status_code": 404,
            "headers": { "Content-Type": ["text/plain; charset=utf-8"] },
            "body": "No Berth service answers for this domain.\n",
        }],
        "terminal": true,
    })
}

/// A permanent redirect of `hosts` to `target` + the request's path and query.
fn redirect_route(hosts: Vec<String>, target: &str) -> Value {
    json!({
        "match": [{ "host": hosts }],
        "handle": [{
            "handler": "static_response",
            "status_code": 308,
            "headers": { "Location": [format!("{target}{{http.request.uri}}")] },
        }],
        "terminal": true,
    })
}

/// Sets `servers` into a copy of `root` (Caddy's whole config, `null` when empty) at
/// `apps.http.servers`, creating the levels that are missing.
pub fn merged(root: &Value, servers: &[(&str, Option<Value>)]) -> Value {
    let mut root = root.clone();
    if !root.is_object() {
        root = Value::Object(Map::new());
    }
    let mut level = &mut root;
    for key in ["apps", "http", "servers"] {
        let obj = level.as_object_mut().expect("an object");
        let next = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        level = next;
    }
    let obj = level.as_object_mut().expect("an object");
    for (name, server) in servers {
        match server {
            Some(s) => obj.insert((*name).to_owned(), s.clone()),
            None => obj.remove(*name),
        };
    }
    root
}

/// Whether Caddy's config already holds exactly these servers.
pub fn holds(root: &Value, servers: &[(&str, Option<Value>)]) -> bool {
    let current = root.pointer("/apps/http/servers");
    servers
        .iter()
        .all(|(name, server)| current.and_then(|c| c.get(*name)) == server.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(domains: &[&str], dials: &[&str]) -> ServiceRoute {
        ServiceRoute {
            name: "web".into(),
            route: HttpRoute {
                domains: domains.iter().map(|d| d.to_string()).collect(),
                port: 8080,
                https_redirect: true,
                www_redirect: false,
            },
            dials: dials.iter().map(|d| d.to_string()).collect(),
        }
    }

    const PLAIN: Listen = Listen {
        tls: false,
        http_port: 8081,
        https_port: 8443,
    };
    const TLS: Listen = Listen {
        tls: true,
        http_port: 80,
        https_port: 443,
    };

    fn server<'a>(s: &'a [(&str, Option<Value>)], name: &str) -> Option<&'a Value> {
        s.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    #[test]
    fn plain_http_routes_hosts_to_ready_replicas() {
        let s = servers(
            &PLAIN,
            &[route(&["a.test"], &["172.18.0.2:8080", "172.18.0.3:8080"])],
        );
        let berth = server(&s, SERVER).unwrap();
        assert_eq!(berth["listen"], json!([":8081"]));
        assert_eq!(berth["automatic_https"]["disable"], true);
        let r = &berth["routes"][0];
        assert_eq!(r["match"][0]["host"], json!(["a.test"]));
        assert_eq!(r["handle"][0]["handler"], "reverse_proxy");
        assert_eq!(
            r["handle"][0]["upstreams"],
            json!([{ "dial": "172.18.0.2:8080" }, { "dial": "172.18.0.3:8080" }])
        );
        assert_eq!(r["terminal"], true);
        assert!(
            server(&s, HTTP_SERVER).is_none(),
            "no redirect server without TLS"
        );
        assert!(s.iter().any(|(n, v)| *n == HTTP_SERVER && v.is_none()));
    }

    #[test]
    fn no_ready_replica_answers_503_instead_of_routing_to_a_starting_one() {
        let s = servers(&PLAIN, &[route(&["a.test"], &[])]);
        let h = &server(&s, SERVER).unwrap()["routes"][0]["handle"][0];
        assert_eq!(h["handler"], "static_response");
        assert_eq!(h["status_code"], 503);
        assert!(h["body"].as_str().unwrap().contains("web"));
    }

    #[test]
    fn tls_redirects_plain_http_unless_a_service_opts_out() {
        let mut plain = route(&["b.example.com"], &["10.0.0.3:80"]);
        plain.route.https_redirect = false;
        let s = servers(&TLS, &[route(&["a.example.com"], &["10.0.0.2:80"]), plain]);
        let https = server(&s, SERVER).unwrap();
        assert_eq!(https["listen"], json!([":443"]));
        assert_eq!(https["automatic_https"]["disable_redirects"], true);
        assert_eq!(https["routes"].as_array().unwrap().len(), 3);
        assert_eq!(https["routes"][2]["handle"][0]["status_code"], 404);
        let http = server(&s, HTTP_SERVER).unwrap();
        assert_eq!(http["listen"], json!([":80"]));
        let redirect = &http["routes"][0];
        assert_eq!(redirect["match"][0]["host"], json!(["a.example.com"]));
        assert_eq!(redirect["handle"][0]["status_code"], 308);
        assert_eq!(
            redirect["handle"][0]["headers"]["Location"],
            json!(["https://{http.request.host}{http.request.uri}"])
        );
        assert_eq!(http["routes"][1]["handle"][0]["handler"], "reverse_proxy");
    }

    #[test]
    fn www_twins_redirect_to_their_domain() {
        let mut r = route(&["example.com", "www.other.com"], &["10.0.0.2:80"]);
        r.route.www_redirect = true;
        let s = servers(&TLS, &[r]);
        let routes = &server(&s, SERVER).unwrap()["routes"];
        assert_eq!(routes[0]["match"][0]["host"], json!(["www.example.com"]));
        assert_eq!(
            routes[0]["handle"][0]["headers"]["Location"],
            json!(["https://example.com{http.request.uri}"])
        );
        assert_eq!(routes[1]["handle"][0]["handler"], "reverse_proxy");
        assert_eq!(
            routes.as_array().unwrap().len(),
            3,
            "www, domains, unknown hosts"
        );
        let http = &server(&s, HTTP_SERVER).unwrap()["routes"][0];
        assert_eq!(
            http["match"][0]["host"],
            json!(["example.com", "www.other.com", "www.example.com"]),
            "plain http of every host goes to https"
        );
    }

    #[test]
    fn merging_keeps_the_operators_config_and_creates_missing_levels() {
        let s = servers(&PLAIN, &[route(&["a.test"], &["10.0.0.2:80"])]);
        let empty = merged(&Value::Null, &s);
        assert!(holds(&empty, &s));
        assert!(!holds(&Value::Null, &s));
        let theirs = json!({
            "admin": { "listen": "127.0.0.1:2019" },
            "apps": { "http": { "servers": {
                "mine": { "listen": [":9000"] },
                "berth_http": { "listen": [":80"] },
            } } },
        });
        let m = merged(&theirs, &s);
        assert_eq!(m["admin"], theirs["admin"]);
        assert_eq!(
            m["apps"]["http"]["servers"]["mine"],
            theirs["apps"]["http"]["servers"]["mine"]
        );
        assert!(
            m["apps"]["http"]["servers"].get(HTTP_SERVER).is_none(),
            "stale server removed"
        );
        assert!(holds(&m, &s));
        let other = servers(&PLAIN, &[route(&["a.test"], &["10.0.0.9:80"])]);
        assert!(!holds(&m, &other));
    }
}
