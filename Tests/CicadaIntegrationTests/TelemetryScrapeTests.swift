import CicadaCore
import CicadaEngineServer
import CicadaTelemetry
import CicadaTransport
import Foundation
import Testing

@Suite(.serialized) struct TelemetryScrapeTests {
    @Test func scrapesARealMetricsEndpointAndSurvivesAFailingOne() throws {
        let engine = try EngineServer(config: EngineConfig(gpu: "H200", model: "deepseek-llm-7b"))
        try engine.start()
        let url = engine.baseURL + "/metrics"
        let poller = TelemetryPoller(
            endpoints: [.prometheus(url: url), .prometheus(url: "http://127.0.0.1:9/metrics")],
            interval: .milliseconds(200), startNanos: MonotonicTimeSource().nowNanos(),
            fetch: { u, timeout in try HTTPGet.fetch(u, timeout: timeout) })
        poller.pollOnce()
        var s = poller.summary(nowNanos: MonotonicTimeSource().nowNanos())
        #expect(s.gpuMemoryPeakModelled)
        #expect(s.gpus.first?.totalBytes == 141 * (1 << 30))
        #expect(s.sources.count == 2)
        #expect(s.sources[0].error == nil && s.sources[0].reads == 1)
        #expect(s.sources[1].error?.contains("GET http://127.0.0.1:9/metrics") == true)

        // The endpoint goes away mid-run: its error is kept, its last reading goes stale.
        engine.stop()
        poller.pollOnce()
        s = poller.summary(nowNanos: MonotonicTimeSource().nowNanos() + 10_000_000_000)
        #expect(s.sources[0].failures == 1)
        #expect(s.sources[0].error != nil)
        #expect(s.sources[0].stale)
        #expect(s.gpuMemoryPeakFraction != nil)
    }
}
