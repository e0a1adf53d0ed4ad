import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import CicadaTransport
import Foundation
import Testing

/// `http2: true` (`--http2`): requests go over HTTP/2 and share connections as streams.
@Suite(.serialized) struct HTTP2Tests {
    func run(http2: Bool, target: TestTarget) throws -> RunResult {
        var scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        http2: \(http2)
        arrival: {rate: 200, max_in_flight: 1000}
        run_time: 1500ms
        tasks: [{name: predict, method: POST, path: /predict, json: {input: "x {{seq}}"}, checks: {json_exists: output}}]
        """, file: "h2.yaml")
        scenario.target = target.baseURL
        return try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1)).run()
    }

    /// Cleartext HTTP/2 against Cicada's h2c target. With libcurl >= 8.0.0 every request
    /// succeeds as a stream on a few shared connections; before 8.0.0 (Debian 12's 7.88.1)
    /// libcurl itself fails every reused-connection request (curl issue #10634), which is why
    /// `cicada run` refuses `--http2` to http:// URLs there. Either way the test asserts what
    /// this machine's libcurl does.
    @Test func cleartextHTTP2MultiplexesWhereLibcurlCan() throws {
        // 100 ms per request at 200/s: about 20 requests are in flight at any time.
        let h2 = TestTarget(config: .init(serviceTime: .milliseconds(100), http2: true))
        try h2.start()
        defer { h2.stop() }
        let r = try run(http2: true, target: h2)
        let total = r.snapshot.total
        #expect(total.requests >= 250)
        if Curl.versionNumber.major >= 8 {
            #expect(total.failures == 0, "errors: \(r.snapshot.errors.sorted.map(\.key.message))")
            #expect(h2.http2RequestCount == Int(total.requests), "every request arrived as an HTTP/2 stream")
            #expect(h2.connectionCount <= 4, "\(h2.connectionCount) connections for ~20 concurrent requests")
            let p50 = try #require(total.corrected.percentile(50))
            #expect(p50 >= 100_000 && p50 < 200_000)
        } else {
            #expect(Curl.http2Problem(baseURL: h2.baseURL) != nil)
            // The first request on the connection works; libcurl breaks the rest itself.
            #expect(h2.http2RequestCount >= 1)
            #expect(total.failures >= total.requests - UInt64(h2.http2RequestCount))
            #expect(r.snapshot.errors.sorted.first?.key.message == "Error in the HTTP2 framing layer")
        }
    }

    @Test func theRunRefusesWhatLibcurlCannotMeasure() throws {
        #expect(Curl.http2Problem(baseURL: "http://127.0.0.1:8000", version: (7, 88, 1), hasHTTP2: true)?.contains("#10634") == true)
        #expect(Curl.http2Problem(baseURL: "https://127.0.0.1:8443", version: (7, 88, 1), hasHTTP2: true) == nil)
        #expect(Curl.http2Problem(baseURL: "http://127.0.0.1:8000", version: (8, 0, 0), hasHTTP2: true) == nil)
        #expect(Curl.http2Problem(baseURL: "https://x", version: (8, 5, 0), hasHTTP2: false)?.contains("without HTTP/2") == true)
        guard Curl.http2Problem(baseURL: "http://127.0.0.1:1") != nil else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = dir.appendingPathComponent("h2.yaml")
        try "target: http://127.0.0.1:1\nusers: 1\nrun_time: 1s\ntasks: [{name: p, path: /}]\n".write(to: scenario, atomically: true, encoding: .utf8)
        let r = try cicada(["run", scenario.path, "--http2"], limit: 20)
        #expect(r.status == 2)
        #expect(r.stderr.contains("curl issue #10634"))
    }

    @Test func http1NeedsAConnectionPerConcurrentRequest() throws {
        // The same load over HTTP/1.1 opens about as many connections as requests in flight:
        // what the HTTP/2 test's connection count is compared against.
        let h1 = TestTarget(config: .init(serviceTime: .milliseconds(100)))
        try h1.start()
        defer { h1.stop() }
        let r = try run(http2: false, target: h1)
        #expect(r.snapshot.total.failures == 0)
        #expect(h1.http2RequestCount == 0)
        #expect(h1.connectionCount >= 10)
    }
}
