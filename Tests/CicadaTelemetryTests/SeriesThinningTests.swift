import CicadaCore
import Testing
@testable import CicadaTelemetry

/// Thinning a long telemetry series halves each gauge, never a whole gauge, and keeps its peak.
@Suite struct SeriesThinningTests {
    @Test func alternatingGaugesEachKeepHalfAndTheirPeak() {
        // Two gauges alternate poll by poll; the RSS gauge peaks at an odd position of its own.
        var series: [TelemetrySummary.MemoryPoint] = []
        for k in 0..<10 {
            series.append(.init(t: Double(k), source: "engine", gauge: "process_resident_memory_bytes", limitGauge: nil, what: nil,
                                usedBytes: k == 5 ? 900 : 100, limitBytes: 1000))
            series.append(.init(t: Double(k), source: "engine", gauge: "cicada_engine_cgroup_memory_current_bytes", limitGauge: nil, what: nil,
                                usedBytes: 200, limitBytes: 1000))
        }
        let half = TelemetryPoller.halved(series, key: { $0.gauge }, weight: { $0.usedFraction })
        let rss = half.filter { $0.gauge == "process_resident_memory_bytes" }
        let cg = half.filter { $0.gauge == "cicada_engine_cgroup_memory_current_bytes" }
        #expect(cg.count == 5, "every other reading of the cgroup gauge, not none")
        #expect(rss.map(\.t) == [0, 2, 4, 5, 6, 8], "every other RSS reading plus its peak at t=5")
        // Thinning by position alone (the old way) kept only the first gauge.
        #expect(series.enumerated().filter { $0.offset % 2 == 0 }.allSatisfy { $0.element.gauge == "process_resident_memory_bytes" })
    }
}
