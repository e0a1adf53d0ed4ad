import CicadaCore
import Testing
@testable import CicadaReport

@Suite struct TelemetryReportTests {
    func summary() -> TelemetrySummary {
        var t = TelemetrySummary()
        t.gpuMemoryPeakFraction = 0.9
        t.gpuMemoryPeakWhere = "nvml GPU 0 NVIDIA H200"
        t.gpus = [.init(source: "nvml", modelled: false, name: "GPU 0 NVIDIA H200", usedBytes: 90 << 30, totalBytes: 100 << 30, ageSeconds: 0.5, stale: false)]
        t.series = [.init(t: 1.5, source: "nvml", gpu: "GPU-1", usedBytes: 10, totalBytes: 20, kvCacheUsage: nil, requestsWaiting: nil),
                    .init(t: 2, source: "vllm", gpu: nil, usedBytes: nil, totalBytes: nil, kvCacheUsage: 0.25, requestsWaiting: 3)]
        t.sources = [.init(name: "nvml (local GPUs)", modelled: false, lastReadSeconds: 2, stale: false, error: nil, reads: 2, failures: 0)]
        return t
    }

    @Test func summaryLinesNameSourceAndNeverInventZero() throws {
        let lines = try #require(TelemetryReport.lines(summary()))
        #expect(lines.contains("  GPU memory peak: 90.0% (nvml GPU 0 NVIDIA H200)"))
        #expect(lines.contains("  nvml GPU 0 NVIDIA H200: 90.00 GiB / 100.00 GiB (90.0%)"))
        var empty = TelemetrySummary()
        empty.sources = [.init(name: "local GPUs", modelled: false, lastReadSeconds: nil, stale: false, error: "NVML not found", reads: 0, failures: 3)]
        let none = try #require(TelemetryReport.lines(empty))
        #expect(none.contains("  GPU memory: no GPU telemetry"))
        #expect(none.contains { $0.contains("last error: NVML not found") })
        #expect(TelemetryReport.lines(nil) == nil)
    }

    @Test func csvHistoryLeavesAbsentValuesEmpty() throws {
        let csv = try #require(CSVReport.telemetryHistory(summary()))
        let rows = csv.split(separator: "\n").map(String.init)
        #expect(rows[0] == CSVReport.telemetryHeader)
        #expect(rows[1] == "1.5,nvml,GPU-1,10,20,,")
        #expect(rows[2] == "2,vllm,,,,0.25,3")
    }
}
