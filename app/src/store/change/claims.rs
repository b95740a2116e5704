//! What a service definition claims beyond its team: host ports (machine-wide) and domains
//! (unique across Berth). Checked inside the change's transaction, so a refused claim
//! changes nothing.

use crate::domain::service::{Holder, Taken};
use crate::domain::service::{HttpRoute, Protocol, ServiceSpec};
use crate::store::StoreError;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

fn holder(found: Option<(String, Uuid)>, team_id: Uuid) -> Holder {
    match found {
        Some((name, team)) if team == team_id => Holder::Service(name),
        _ => Holder::OtherTeam,
    }
}

/// Refuses a host port that another (not deleting) service already publishes.
pub(super) async fn check_host_ports(
    tx: &mut Transaction<'_, Postgres>,
    spec: &ServiceSpec,
    this: Uuid,
    team_id: Uuid,
) -> Result<(), StoreError> {
    for (index, p) in spec.ports.iter().enumerate() {
        let Some(port) = p.host else { continue };
        let found: Option<(String, Uuid)> = sqlx::query_as(
            "SELECT s.name, s.team_id FROM services s, jsonb_array_elements(s.spec->'ports') port
             WHERE s.id <> $1 AND NOT s.deleting
               AND (port->>'host')::int = $2 AND coalesce(port->>'protocol', 'tcp') = $3
             LIMIT 1",
        )
        .bind(this)
        .bind(i32::from(port))
        .bind(match p.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
        .fetch_optional(&mut **tx)
        .await?;
        if found.is_some() {
            return Err(StoreError::Taken(Taken::HostPort {
                index,
                port,
                holder: holder(found, team_id),
            }));
        }
    }
    Ok(())
}

/// Makes the service's claimed host names exactly those of `route` (its domains and their
/// `www.` twins). A host another service holds is refused with the field it came from.
pub(super) async fn claim_domains(
    tx: &mut Transaction<'_, Postgres>,
    service_id: Uuid,
    team_id: Uuid,
    route: Option<&HttpRoute>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM service_domains WHERE service_id = $1")
        .bind(service_id)
        .execute(&mut **tx)
        .await?;
    let Some(route) = route else { return Ok(()) };
    let claims = route
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| (d.clone(), format!("http.domains[{i}]")))
        .chain(
            route
                .www_twins()
                .map(|(www, _)| (www, "http.www_redirect".to_owned())),
        );
    for (host, field) in claims {
        let claimed = sqlx::query(
            "INSERT INTO service_domains (host, service_id, team_id) VALUES ($1, $2, $3)
             ON CONFLICT (host) DO NOTHING",
        )
        .bind(&host)
        .bind(service_id)
        .bind(team_id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            continue;
        }
        // A new statement sees the holder even when its claim committed a moment ago.
        let found: Option<(String, Uuid)> = sqlx::query_as(
            "SELECT s.name, s.team_id FROM service_domains d JOIN services s ON s.id = d.service_id
             WHERE d.host = $1",
        )
        .bind(&host)
        .fetch_optional(&mut **tx)
        .await?;
        return Err(StoreError::Taken(Taken::Domain {
            field,
            host,
            holder: holder(found, team_id),
        }));
    }
    Ok(())
}
