//! Where a fault on a service or a proxy lands: [`Services::inject`] for a service,
//! [`Services::inject_network`] for the Toxiproxy proxy in front of one (network faults).

use std::time::Duration;

use crate::error::ServiceError;
use crate::fixture::{FaultAction, FaultTarget};
use crate::services::{Injected, NetworkFault, ProxyName, Services};

/// Strikes `target` with `action`; `hold` runs while it holds (as for [`Services::inject`]).
pub fn strike(
    services: &mut Services,
    target: FaultTarget,
    action: FaultAction,
    hold: impl FnOnce(Duration),
) -> Result<Injected, ServiceError> {
    match target {
        FaultTarget::Service(service) => services.inject(service, action, hold),
        FaultTarget::Proxy(proxy) => services.inject_network(proxy, action, hold),
        other => Err(ServiceError::Config(format!(
            "`{action} {other}`: the fault runner strikes it itself"
        ))),
    }
}

/// The log tail that explains a failed strike: the service's, or Toxiproxy's.
pub fn log_tail(services: &Services, target: FaultTarget, lines: usize) -> String {
    match target {
        FaultTarget::Service(service) => services.log_tail_of(service, lines),
        _ => services.log_tail_of_proxies(lines),
    }
}

/// A case's `@slow` fault: applied (`on`) before its sinks start, lifted at the end.
pub fn slow(
    services: &Services,
    slow: Option<(ProxyName, NetworkFault)>,
    on: bool,
) -> Result<(), ServiceError> {
    let Some((proxy, fault)) = slow else {
        return Ok(());
    };
    let toxiproxy = services.toxiproxy.as_ref().ok_or_else(|| {
        ServiceError::Config(format!(
            "`@slow {fault} {proxy}` needs the proxies (Services::start_proxied)"
        ))
    })?;
    match on {
        true => toxiproxy.apply(proxy, fault),
        false => toxiproxy.lift(proxy, fault),
    }
}
