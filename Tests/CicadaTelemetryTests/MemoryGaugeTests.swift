import CicadaCore
import Foundation
import Testing
@testable import CicadaTelemetry

/// Process and container memory from scrapes: cAdvisor, the standard process collector and the
/// embedded engine's cgroup gauges.
@Suite struct MemoryGaugeTests {
    static let gib: UInt64 = 1 << 30

    @Test func cAdvisorWorkingSetPairsWithTheSameContainersLimit() throws {
        let exposition = try PrometheusText.parse(Fixture.text("cadvisor_written.prom"))
        let reading = KnownFamilies.reading(from: exposition, timeNanos: 0)
        #expect(reading.source == .prometheus && reading.gpus.isEmpty)
        // The pause container is left out; the root cgroup and the sidecar have no limit.
        #expect(reading.memory.count == 3)
        let vllm = try #require(reading.memory.first { $0.what?.contains("container vllm") == true })
        #expect(vllm == MemoryGauge(gauge: "container_memory_working_set_bytes", limitGauge: "container_spec_memory_limit_bytes",
                                    what: "container vllm in pod vllm-0 in namespace llm", usedBytes: 15 * Self.gib, limitBytes: 16 * Self.gib))
        #expect(vllm.usedFraction == 0.9375)
        let sidecar = try #require(reading.memory.first { $0.what?.contains("metrics-sidecar") == true })
        #expect(sidecar.limitBytes == nil && sidecar.limitGauge == nil && sidecar.usedFraction == nil)
        #expect(reading.memory.contains { $0.what == "cgroup /" && $0.limitBytes == nil })
        #expect(!reading.memory.contains { $0.what?.contains("POD") == true })
        // Known now, so not among the unknown families; usage_bytes (not judged) still is.
        #expect(!reading.unknownFamilies.map(\.name).contains("container_memory_working_set_bytes"))
        #expect(reading.unknownFamilies.map(\.name) == ["container_memory_usage_bytes"])
    }

    @Test func processResidentMemoryWithAndWithoutTheEngineCgroupLimit() throws {
        let plain = try PrometheusText.parse("""
        # HELP process_resident_memory_bytes Resident memory size in bytes.
        # TYPE process_resident_memory_bytes gauge
        process_resident_memory_bytes 2.147483648e+09
        # HELP process_virtual_memory_max_bytes Maximum amount of virtual memory available in bytes.
        # TYPE process_virtual_memory_max_bytes gauge
        process_virtual_memory_max_bytes 1.8446744073709552e+19
        """)
        // No limit to judge it against (the address-space rlimit is not one).
        #expect(KnownFamilies.reading(from: plain, timeNanos: 0).memory
                == [MemoryGauge(gauge: "process_resident_memory_bytes", usedBytes: 2 * Self.gib)])
        let engine = try PrometheusText.parse("""
        # TYPE cicada_engine_queue_size gauge
        cicada_engine_queue_size 0
        # TYPE process_resident_memory_bytes gauge
        process_resident_memory_bytes 966367641.6
        # TYPE cicada_engine_cgroup_memory_max_bytes gauge
        cicada_engine_cgroup_memory_max_bytes 1073741824
        # TYPE cicada_engine_cgroup_memory_current_bytes gauge
        cicada_engine_cgroup_memory_current_bytes 1020054732.8
        """)
        let memory = KnownFamilies.reading(from: engine, timeNanos: 0).memory
        #expect(memory.map(\.gauge) == ["process_resident_memory_bytes", "cicada_engine_cgroup_memory_current_bytes"])
        #expect(memory.allSatisfy { $0.limitGauge == "cicada_engine_cgroup_memory_max_bytes" && $0.limitBytes == Self.gib })
        #expect(memory.map { ($0.usedFraction! * 100).rounded() } == [90, 95])
        // A scrape with none of these families has no memory gauges (absent, not zero).
        #expect(KnownFamilies.reading(from: try PrometheusText.parse("# TYPE x gauge\nx 1\n"), timeNanos: 0).memory.isEmpty)
    }

    @Test func thePollerKeepsAMemorySeriesTheRuleCanRead() throws {
        let clock = ManualTimeSource(startNanos: 0)
        let text = try Fixture.text("cadvisor_written.prom")
        let poller = TelemetryPoller(endpoints: [.prometheus(url: "http://127.0.0.1:10250/metrics/cadvisor")], clock: clock, startNanos: 0,
                                     fetch: { _, _ in Array(text.utf8) })
        poller.pollOnce(); clock.advance(by: .seconds(2))
        poller.pollOnce()
        let s = poller.summary(nowNanos: clock.nowNanos())
        let vllm = s.memorySeries.filter { $0.what?.hasPrefix("container vllm ") == true }
        #expect(vllm.map(\.t) == [0, 2])
        #expect(vllm.allSatisfy { $0.source == "prometheus" && $0.usedFraction == 0.9375 })
        // Connection refusals after the first reading at the edge: the rule names the gauge and source.
        var table = ErrorTable()
        for _ in 0..<3 { table.record(ErrorKey(method: "POST", name: "chat", message: "Connection refused"), atNanos: 3_000_000_000) }
        var snap = Snapshot(elapsed: .seconds(5), names: ["chat"], methods: ["POST"], perStat: [RequestStats()], total: RequestStats(),
                            windows: [:], defaultWindowSeconds: 10, errors: table, scheduleLag: LatencyHistogram(), dropped: 0, gauges: .init(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: 5)
        snap.telemetry = s
        let d = try #require(DiagnosisRules().evaluate(DiagnosisFacts(snapshot: snap, startNanos: 0)).first { $0.rule == "killed_after_memory_pressure" })
        #expect(d.evidence.first == "container_memory_working_set_bytes at 94% of container_spec_memory_limit_bytes (15.00 GiB of 16.00 GiB) at 0s (prometheus, container vllm in pod vllm-0 in namespace llm)")
    }
}
