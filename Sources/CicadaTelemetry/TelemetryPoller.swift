import CicadaCore
import Foundation
import Synchronization

/// Where one stream of telemetry comes from.
public enum TelemetryEndpoint: Sendable, Equatable {
    /// GPUs of this machine: NVML, else nvidia-smi.
    case localGPUs
    /// A Prometheus text endpoint (DCGM exporter, Triton, vLLM, TGI, SGLang, the engine).
    case prometheus(url: String)

    var name: String {
        switch self {
        case .localGPUs: return "local GPUs"
        case .prometheus(let url): return url
        }
    }
}

/// Polls telemetry sources on its own thread, on its own schedule, off the measurement path.
///
/// Each source is read in turn every `interval`; a slow or failing source delays only the
/// poller, never the load, and its error is kept for the report instead of crashing anything.
/// The poller keeps the latest reading per source, the run's peaks (what `gpu_memory<90%`
/// judges), a bounded time series, and the first and last values of the server's request
/// counters.
public final class TelemetryPoller: TelemetryFeed, @unchecked Sendable {
    /// Fetches a URL's body; injected so the poller needs no HTTP stack of its own.
    public typealias Fetch = @Sendable (_ url: String, _ timeout: Duration) throws -> [UInt8]

    let endpoints: [TelemetryEndpoint]
    let interval: Duration
    let staleAfter: Duration
    let clock: any TimeSource
    let startNanos: UInt64
    let fetch: Fetch
    let localReader: LocalGPUReader?
    let stopFlag = Atomic<Bool>(false)
    let done = Atomic<Bool>(false)

    private struct State {
        var latest: [String: TelemetryReading] = [:]
        var errors: [String: String] = [:]
        var reads: [String: Int] = [:]
        var failures: [String: Int] = [:]
        var summary = TelemetrySummary()
        var firstCounters: [String: Double] = [:]
        var lastCounters: [String: Double] = [:]
    }
    private let state = Mutex(State())
    /// Most series points kept (one per GPU/source per poll; the oldest are thinned).
    static let seriesCapacity = 7200

    /// `series` with every other point of each `key` (a source's GPU, gauge or container) dropped,
    /// keeping each key's highest `weight`: thinning by position alone would drop whole gauges
    /// when several alternate, and could drop the reading a memory rule needs.
    static func halved<P>(_ series: [P], key: (P) -> String, weight: (P) -> Double?) -> [P] {
        var peak: [String: (index: Int, weight: Double)] = [:]
        var keys: [String] = []
        keys.reserveCapacity(series.count)
        for (i, p) in series.enumerated() {
            let k = key(p)
            keys.append(k)
            if let w = weight(p), w > (peak[k]?.weight ?? -.infinity) { peak[k] = (i, w) }
        }
        var seen: [String: Int] = [:]
        var out: [P] = []
        out.reserveCapacity(series.count / 2 + peak.count)
        for (i, p) in series.enumerated() {
            let n = seen[keys[i], default: 0]
            seen[keys[i]] = n + 1
            if n % 2 == 0 || peak[keys[i]]?.index == i { out.append(p) }
        }
        return out
    }

    /// Counters diffed between the first and last scrape.
    static let counterFamilies = ["cicada_engine_requests_total", "vllm:request_success_total", "nv_inference_request_success",
                                  "tgi_request_success", "sglang:num_requests_total"]

    public init(endpoints: [TelemetryEndpoint], interval: Duration = .seconds(1), staleAfter: Duration = .seconds(5),
                clock: any TimeSource = MonotonicTimeSource(), startNanos: UInt64, fetch: @escaping Fetch,
                localReader: LocalGPUReader? = nil) {
        self.endpoints = endpoints; self.interval = interval; self.staleAfter = staleAfter; self.clock = clock
        self.startNanos = startNanos; self.fetch = fetch
        self.localReader = endpoints.contains(.localGPUs) ? (localReader ?? LocalGPUReader(timeSource: clock)) : nil
    }

    /// Starts polling on a background thread.
    public func start() {
        let t = Thread { [self] in
            while !stopFlag.load(ordering: .acquiring) {
                let began = clock.nowNanos()
                pollOnce()
                let spent = clock.nowNanos() &- began
                var left = interval.nanos > spent ? interval.nanos - spent : 0
                while left > 0, !stopFlag.load(ordering: .acquiring) {
                    let step = min(left, 50_000_000)
                    usleep(UInt32(step / 1000))
                    left -= step
                }
            }
            done.store(true, ordering: .releasing)
        }
        t.name = "cicada-telemetry"
        t.start()
    }

    /// Stops polling (the current read finishes first; waits at most `timeout`).
    public func stop(timeout: Duration = .seconds(2)) {
        stopFlag.store(true, ordering: .releasing)
        let deadline = clock.nowNanos() &+ timeout.nanos
        while !done.load(ordering: .acquiring), clock.nowNanos() < deadline { usleep(10_000) }
    }

    /// Reads every source once (also used directly by tests).
    public func pollOnce() {
        for endpoint in endpoints {
            let now = clock.nowNanos()
            do {
                let reading: TelemetryReading
                switch endpoint {
                case .localGPUs:
                    guard let r = localReader else { continue }
                    reading = try r.read()
                case .prometheus(let url):
                    let body = try fetch(url, .seconds(max(1, Int64(interval.seconds.rounded(.up)))))
                    let exposition = try PrometheusText.parse(bytes: body)
                    reading = KnownFamilies.reading(from: exposition, timeNanos: clock.nowNanos())
                }
                record(endpoint, reading)
            } catch {
                state.withLock { s in
                    s.errors[endpoint.name] = "\(error)"
                    s.failures[endpoint.name, default: 0] += 1
                }
            }
            _ = now
        }
    }

    private func record(_ endpoint: TelemetryEndpoint, _ r: TelemetryReading) {
        let t = Double(r.timeNanos &- min(startNanos, r.timeNanos)) / 1e9
        state.withLock { s in
            s.latest[endpoint.name] = r
            s.errors[endpoint.name] = nil
            s.reads[endpoint.name, default: 0] += 1
            for (i, g) in r.gpus.enumerated() {
                let label = "\(r.source.rawValue) GPU \(g.index.map(String.init) ?? String(i))\(g.name.map { " " + $0 } ?? "")"
                if let f = g.memoryUsedFraction, f > (s.summary.gpuMemoryPeakFraction ?? -1) {
                    s.summary.gpuMemoryPeakFraction = f
                    s.summary.gpuMemoryPeakWhere = label
                    s.summary.gpuMemoryPeakModelled = r.modelled
                }
                s.summary.series.append(.init(t: t, source: r.source.rawValue, gpu: g.uuid ?? g.name ?? String(i),
                                              usedBytes: g.memoryUsedBytes, totalBytes: g.memoryTotalBytes, kvCacheUsage: nil, requestsWaiting: nil))
            }
            for m in r.memory {
                // The engine's own process figures are measured, not modelled: say "engine".
                s.summary.memorySeries.append(.init(t: t, source: r.source == .engineModelled ? "engine" : r.source.rawValue, gauge: m.gauge,
                                                    limitGauge: m.limitGauge, what: m.what, usedBytes: m.usedBytes, limitBytes: m.limitBytes))
            }
            if s.summary.memorySeries.count > Self.seriesCapacity {
                s.summary.memorySeries = Self.halved(s.summary.memorySeries, key: { "\($0.source)\u{0}\($0.gauge)\u{0}\($0.what ?? "")" },
                                                     weight: { $0.usedFraction ?? Double($0.usedBytes) })
            }
            if let kv = r.server.kvCacheUsage { s.summary.kvCachePeak = max(s.summary.kvCachePeak ?? 0, kv) }
            if let w = r.server.requestsWaiting ?? r.server.queueSize { s.summary.queueWaitingPeak = max(s.summary.queueWaitingPeak ?? 0, w) }
            if !r.server.isEmpty {
                s.summary.series.append(.init(t: t, source: r.source.rawValue, gpu: nil, usedBytes: nil, totalBytes: nil,
                                              kvCacheUsage: r.server.kvCacheUsage, requestsWaiting: r.server.requestsWaiting ?? r.server.queueSize))
            }
            if s.summary.series.count > Self.seriesCapacity {
                s.summary.series = Self.halved(s.summary.series, key: { "\($0.source)\u{0}\($0.gpu ?? "-")" },
                                               weight: { p in
                    if let u = p.usedBytes, let t = p.totalBytes, t > 0 { return Double(u) / Double(t) }
                    return p.kvCacheUsage ?? p.requestsWaiting
                })
            }
            if let e = r.exposition {
                for name in Self.counterFamilies {
                    guard let fam = e.family(named: name) else { continue }
                    let total = fam.samples.filter { $0.name == name || $0.name == name + "_total" }.map(\.value).filter { $0.isFinite }.reduce(0, +)
                    let key = "\(endpoint.name) \(name)"
                    if s.firstCounters[key] == nil { s.firstCounters[key] = total }
                    s.lastCounters[key] = total
                }
            }
        }
    }

    public func summary(nowNanos: UInt64) -> TelemetrySummary {
        state.withLock { s in
            var out = s.summary
            out.gpus = []
            out.sources = []
            for endpoint in endpoints {
                let r = s.latest[endpoint.name]
                let age = r.map { Double(nowNanos &- min($0.timeNanos, nowNanos)) / 1e9 }
                let stale = r.map { !$0.isFresh(nowNanos: nowNanos, maxAge: staleAfter) } ?? false
                out.sources.append(.init(name: r.map { "\($0.source.rawValue) (\(endpoint.name))" } ?? endpoint.name,
                                         modelled: r?.modelled ?? false,
                                         lastReadSeconds: r.map { Double($0.timeNanos &- min(startNanos, $0.timeNanos)) / 1e9 },
                                         stale: stale, error: s.errors[endpoint.name], reads: s.reads[endpoint.name] ?? 0,
                                         failures: s.failures[endpoint.name] ?? 0))
                guard let r else { continue }
                for (i, g) in r.gpus.enumerated() {
                    out.gpus.append(.init(source: r.source.rawValue, modelled: r.modelled,
                                          name: "GPU \(g.index.map(String.init) ?? String(i))\(g.name.map { " " + $0 } ?? "")",
                                          usedBytes: g.memoryUsedBytes, totalBytes: g.memoryTotalBytes, ageSeconds: age ?? 0, stale: stale))
                }
            }
            out.counterDiffs = s.firstCounters.keys.sorted().map { ($0, s.firstCounters[$0]!, s.lastCounters[$0] ?? s.firstCounters[$0]!) }
            return out
        }
    }
}
