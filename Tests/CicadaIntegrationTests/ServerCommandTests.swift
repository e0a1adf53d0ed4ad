import CicadaTestTarget
import CicadaTransport
import Foundation
import Testing

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// GETs `url` until it answers (the server is starting), at most `seconds`.
func getWhenUp(_ url: String, seconds: Double = 15) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let body = try? HTTPGet.fetch(url, timeout: .seconds(1)) { return String(decoding: body, as: UTF8.self) }
        usleep(100_000)
    }
    return nil
}

/// `cicada target`, `cicada serve` and `cicada sweep` end to end: the built binary on 127.0.0.1,
/// each bounded in time and stopped by itself or by a signal.
@Suite(.serialized) struct ServerCommandTests {
    /// A sweep over one named target, `fast` at `url`, by concurrency.
    static func sweepFile(in dir: URL, url: String, concurrency: String, measure: String) throws -> URL {
        let file = dir.appendingPathComponent("sweep.yaml")
        try """
        target: http://127.0.0.1:1
        users: 1
        tasks: [{name: p, path: /health}]
        sweep: {targets: [{name: fast, url: "\(url)"}], concurrency: \(concurrency), warmup: 100ms, measure: \(measure), slo: {p99: 200ms}}
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func targetServesUntilSIGTERMAndCountsWhatItServed() throws {
        let port = try freePort()
        let p = try RunningCicada(["target", "--port", "\(port)", "--latency", "1ms", "--duration", "30s"])
        let body = getWhenUp("http://127.0.0.1:\(port)/health")
        for _ in 0..<4 { _ = try? HTTPGet.fetch("http://127.0.0.1:\(port)/x", timeout: .seconds(2)) }
        p.signal(SIGTERM)
        let r = p.wait(limit: 15)
        #expect(body != nil, "stderr: \(r.stderr)")
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("cicada test target listening on http://127.0.0.1:\(port)"))
        #expect(r.stderr.contains("service time 1ms"))
        let served = r.stderr.split(separator: "\n").last { $0.hasPrefix("served ") }
        #expect((served.flatMap { Int($0.split(separator: " ")[1]) } ?? 0) >= 5, "\(r.stderr)")
    }

    @Test func targetStopsByItselfAfterItsDurationAndRejectsBadFlags() throws {
        let port = try freePort()
        let r = try cicada(["target", "--port", "\(port)", "--duration", "500ms"], limit: 15)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("served 0 requests"))
        let bad = try cicada(["target", "--stall-every", "often"], limit: 15)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--stall-every 'often' is not a duration"))
    }

    @Test func serveAnswersHealthAndMetricsThenDrainsOnSIGINT() throws {
        let port = try freePort()
        let p = try RunningCicada(["serve", "--port", "\(port)", "--gpu", "A10", "--batching", "throughput", "--duration", "30s"])
        let health = getWhenUp("http://127.0.0.1:\(port)/health")
        let metrics = try? HTTPGet.fetch("http://127.0.0.1:\(port)/metrics", timeout: .seconds(2))
        p.signal(SIGINT)
        let r = p.wait(limit: 15)
        #expect(health != nil, "stderr: \(r.stderr)")
        #expect(!(metrics ?? []).isEmpty)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("cicada engine listening on http://127.0.0.1:\(port)"))
        #expect(r.stderr.contains("batching preset throughput"))
        #expect(r.stderr.contains("draining: readiness is 503"))
        #expect(r.stderr.contains("served "))
    }

    @Test func serveRejectsAnUnknownPresetAndPrecision() throws {
        let preset = try cicada(["serve", "--port", "0", "--batching", "fastest", "--duration", "1s"], limit: 15)
        #expect(preset.status == 2)
        #expect(preset.stderr.contains("error: --batching: unknown preset 'fastest'"))
        let precision = try cicada(["serve", "--port", "0", "--precision", "fp7", "--duration", "1s"], limit: 15)
        #expect(precision.status == 2)
        #expect(precision.stderr.contains("error: unknown precision 'fp7' (fp16, bf16, int8)"))
    }

    @Test func sweepOverANamedTargetWritesItsJSONAndCSV() throws {
        let fast = TestTarget(config: .init(serviceTime: .milliseconds(2)))
        try fast.start()
        defer { fast.stop() }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try Self.sweepFile(in: dir, url: fast.baseURL, concurrency: "[1, 2]", measure: "1s")
        let json = dir.appendingPathComponent("s.json").path, csv = dir.appendingPathComponent("s.csv").path
        let r = try cicada(["sweep", file.path, "--json", json, "--csv", csv], limit: 60)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("target fast: \(fast.baseURL)"))
        #expect(r.stdout.contains("SUSTAINABLE THROUGHPUT"))
        #expect(r.stderr.contains("sweep: fast @ 2 users -> "))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(obj["schema"] as? String == "cicada.sweep/v1")
        #expect((obj["points"] as? [[String: Any]])?.count == 2)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first?.hasPrefix("preset,concurrency,achieved_qps") == true)
        #expect(rows.count == 3)

        let noSweep = dir.appendingPathComponent("plain.yaml")
        try "target: http://127.0.0.1:1\nusers: 1\ntasks: [{path: /}]\n".write(to: noSweep, atomically: true, encoding: .utf8)
        let bad = try cicada(["sweep", noSweep.path], limit: 15)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("error: no 'sweep:' block"))
    }

    @Test func aSweepReportInAMissingFolderIsNamedAndExits1() throws {
        let fast = TestTarget(config: .init(serviceTime: .milliseconds(1)))
        try fast.start()
        defer { fast.stop() }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try Self.sweepFile(in: dir, url: fast.baseURL, concurrency: "[1]", measure: "500ms")
        let missing = dir.appendingPathComponent("no/such/s.csv").path
        let r = try cicada(["sweep", file.path, "--csv", missing], limit: 60)
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("error: cannot write \(missing): "))
        #expect(r.stdout.contains("SUSTAINABLE THROUGHPUT"), "the analysis still prints")
    }
}
