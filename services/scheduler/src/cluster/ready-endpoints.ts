import type { V1EndpointSlice } from '@kubernetes/client-node';

/**
 * The ready endpoints of a service's EndpointSlices: worker id → "host:port" of the port named
 * `portName`. The worker id is the pod name (targetRef.name), else the address. Pure.
 *
 * Kubernetes semantics kept: `conditions.ready` unset means ready (unknown state is ready);
 * terminating endpoints are skipped even if a controller still marks them ready; of an endpoint's
 * addresses (all fungible, one family) the first is used; IPv6 hosts are bracketed. A slice
 * without the named port contributes nothing. A pod listed twice (slices being re-balanced)
 * counts once, first slice first.
 */
export function readyEndpoints(slices: readonly V1EndpointSlice[], portName: string): Map<string, string> {
  const ready = new Map<string, string>();
  for (const slice of slices) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      const host = ep.addresses?.[0];
      if (host === undefined) continue;
      const id = ep.targetRef?.name ?? host;
      if (ready.has(id)) continue;
      ready.set(id, slice.addressType === 'IPv6' ? `[${host}]:${port}` : `${host}:${port}`);
    }
  }
  return ready;
}
