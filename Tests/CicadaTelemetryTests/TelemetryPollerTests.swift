import CicadaCore
import Foundation
import Testing
@testable import CicadaTelemetry

@Suite struct TelemetryPollerTests {
    static let triton = """
    # HELP nv_gpu_memory_used_bytes GPU used memory (bytes)
    # TYPE nv_gpu_memory_used_bytes gauge
    nv_gpu_memory_used_bytes{gpu_uuid="GPU-1"} 72000000000
    # HELP nv_gpu_memory_total_bytes GPU total memory (bytes)
    # TYPE nv_gpu_memory_total_bytes gauge
    nv_gpu_memory_total_bytes{gpu_uuid="GPU-1"} 80000000000
    # TYPE nv_inference_request_success counter
    nv_inference_request_success{model="m",version="1"} 10
    """

    @Test func keepsPeaksErrorsAndStaleness() throws {
        let clock = ManualTimeSource(startNanos: 1_000_000_000)
        let responses = Locked<[Result<String, HTTPFailure>]>([
            .success(Self.triton),
            .success(Self.triton.replacingOccurrences(of: "72000000000", with: "40000000000").replacingOccurrences(of: "} 10", with: "} 25")),
            .failure(HTTPFailure()),
        ])
        let poller = TelemetryPoller(endpoints: [.prometheus(url: "http://127.0.0.1:8002/metrics")], interval: .seconds(1),
                                     staleAfter: .seconds(5), clock: clock, startNanos: 1_000_000_000,
                                     fetch: { _, _ in
                                         let next = responses.take()
                                         return Array(try next.get().utf8)
                                     })
        poller.pollOnce(); clock.advance(by: .seconds(1))
        poller.pollOnce(); clock.advance(by: .seconds(1))
        poller.pollOnce()
        let s = poller.summary(nowNanos: clock.nowNanos())
        #expect(s.gpuMemoryPeakFraction == 0.9)
        #expect(s.gpuMemoryPeakModelled == false)
        #expect(s.gpus.first?.usedBytes == 40_000_000_000)
        #expect(s.sources.first?.error != nil)
        #expect(s.sources.first?.reads == 2 && s.sources.first?.failures == 1)
        #expect(s.counterDiffs.first.map { $0.last - $0.first } == 15)
        #expect(s.sources.first?.stale == false)
        let later = poller.summary(nowNanos: clock.nowNanos() + 10_000_000_000)
        #expect(later.sources.first?.stale == true)
        #expect(later.gpus.first?.stale == true)

        // gpu_memory<90% judges the run's peak, not the last reading.
        var snap = Snapshot(elapsed: .seconds(3), names: [], methods: [], perStat: [], total: RequestStats(), windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: .init(), targetUsers: nil, targetRate: nil, measuredSeconds: 3)
        snap.telemetry = s
        #expect(!(try Threshold(ThresholdSpec("gpu_memory<90%")).evaluate(snap).passed))
        #expect(try Threshold(ThresholdSpec("gpu_memory<=90%")).evaluate(snap).passed)
        snap.telemetry = nil
        let none = try Threshold(ThresholdSpec("gpu_memory<90%")).evaluate(snap)
        #expect(!none.passed)
        #expect(none.measuredText == "no GPU telemetry")
    }
}

struct HTTPFailure: Error {}

final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
}

extension Locked where T == [Result<String, HTTPFailure>] {
    func take() -> Result<String, HTTPFailure> {
        lock.lock(); defer { lock.unlock() }
        return value.isEmpty ? .failure(HTTPFailure()) : value.removeFirst()
    }
}
