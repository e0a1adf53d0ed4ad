import CicadaCore
import CicadaTelemetry
import CicadaTransport

/// Which telemetry endpoints a lane polls: local GPUs, the scenario's Prometheus endpoints, or
/// the target's own `/metrics` (the engine's modelled device memory when the engine is on).
public enum TelemetryChoice {
    /// The endpoints for one lane.
    ///
    /// - Parameters:
    ///   - engineVariant: the lane is a compared engine variant: only the engine's `/metrics`
    ///     (when `scrape_target`), since each variant has its own modelled GPU.
    ///   - engine: the load goes to an embedded engine: no local GPUs (the GPU is modelled).
    ///   - localTarget: the load goes to the local test target, which has no `/metrics`.
    public static func endpoints(_ spec: TelemetrySpec, baseURL: String, engine: Bool, engineVariant: Bool = false,
                                 localTarget: Bool = false) -> [TelemetryEndpoint] {
        if engineVariant { return spec.scrapeTarget ? [.prometheus(url: baseURL + "/metrics")] : [] }
        var endpoints: [TelemetryEndpoint] = []
        if spec.gpu != "none", !engine { endpoints.append(.localGPUs) }
        endpoints += spec.prometheus.map { .prometheus(url: $0) }
        if spec.prometheus.isEmpty, spec.scrapeTarget, !localTarget { endpoints.append(.prometheus(url: baseURL + "/metrics")) }
        return endpoints
    }

    /// A started poller for `endpoints`, or nil when there are none.
    static func poller(_ spec: TelemetrySpec, endpoints: [TelemetryEndpoint]) -> TelemetryPoller? {
        guard !endpoints.isEmpty else { return nil }
        let p = TelemetryPoller(endpoints: endpoints, interval: spec.interval, staleAfter: spec.staleAfter,
                                startNanos: MonotonicTimeSource().nowNanos(),
                                fetch: { url, timeout in try HTTPGet.fetch(url, timeout: timeout) },
                                localReader: endpoints.contains(.localGPUs) ? LocalGPUReader() : nil)
        p.start()
        return p
    }
}
