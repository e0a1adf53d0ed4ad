import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import CicadaTransport
import Foundation
import Testing

/// The fast HTTP/1.1 transport (issue 17) against the fault-injecting target, the streaming
/// test target and the engine: every request on the wire counted once, each fault reported as
/// the same failure kind as the libcurl path reports it (WireCountTests' and StreamFaultTests'
/// tables), streams timed, Retry-After honoured, a 100 MiB body counted and not kept.
@Suite struct FastTransportTests {
    /// Runs `yaml` (its target replaced by `base`) with `transport`; the run's result.
    static func run(_ yaml: String, base: String, transport: TransportChoice, workers: Int = 1, stopTimeout: Duration = .seconds(2)) throws -> RunResult {
        var scenario = try ScenarioReader().parse(yaml, file: "fast.yaml", baseDirectory: scenariosDirectory())
        scenario.target = base
        scenario.transport = transport
        return try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: stopTimeout)).run()
    }

    /// Runs `faults` against a fresh fault target with `transport`, checks the whole count and
    /// returns the failures by kind expected from ``WireCountTests/expectedKind`` and those got.
    static func faultRun(_ faults: String, transport: TransportChoice, open: Bool = false) throws -> (want: [FailureKind: Int], got: [FailureKind: Int], r: RunResult) {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: faults)))
        try target.start()
        defer { target.stop() }
        // As in WireCountTests: faults that do not wait out the timeout get 2 s, so a CPU-starved
        // target is not read as a timeout a moment before its fault (CI saw 2 of 1,002).
        let slow = faults.contains("stall") || faults.contains("trickle")
        let r = try run("""
        target: http://127.0.0.1:1
        \(open ? WireCountTests.openLoad : WireCountTests.closedLoad)
        timeouts: {connect: 1s, request: \(slow ? "500ms" : "2s")}
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: predict, path: /predict, json: {input: "x {{seq}}"}}]
        """, base: target.baseURL, transport: transport, workers: 2, stopTimeout: .seconds(slow ? 2 : 3))
        let s = r.snapshot
        #expect(r.transport == transport.rawValue)
        #expect(Int(s.total.requests + s.cutOff) == target.receivedCount, "\(faults) \(transport): received \(target.receivedCount), Cicada \(s.total.requests) + \(s.cutOff) cut off")
        var want: [FailureKind: Int] = [:]
        var successes = 0
        for (fault, n) in target.receivedByFault {
            if let kind = WireCountTests.expectedKind[fault]! { want[kind, default: 0] += n } else { successes += n }
        }
        if s.cutOff > 0 { want[.timeout, default: 0] -= Int(s.cutOff) }
        var got: [FailureKind: Int] = [:]
        for (k, v) in s.total.failuresByKind { got[k] = Int(v) }
        #expect(Int(s.total.requests - s.total.failures) == successes, "\(faults) \(transport)")
        return (want.filter { $0.value > 0 }, got, r)
    }

    /// Each fault alone and beside `ok`, on both transports: the same kinds, all counted.
    @Test(arguments: Fault.allCases.filter { $0 != .ok && $0 != .bigBody && $0.sseEvents == nil }, [TransportChoice.fast, .curl])
    func eachFaultIsTheSameFailureOnBothTransports(fault: Fault, transport: TransportChoice) throws {
        for faults in [fault.rawValue, "\(fault.rawValue):1,ok:1"] {
            let (want, got, r) = try Self.faultRun(faults, transport: transport)
            #expect(got == want, "\(faults) \(transport): by kind \(got), expected \(want)")
            #expect(r.snapshot.total.requests > (fault == .stall || fault == .trickle ? 1 : 20))
        }
    }

    /// Every fault in one rotation, closed and open model, on the fast path; the messages are
    /// libcurl's words for the same events.
    @Test(arguments: [false, true])
    func everyFaultInOneRotation(open: Bool) throws {
        let all = Fault.allCases.filter { $0 != .bigBody }.map { "\($0.rawValue):1" }.joined(separator: ",")
        let (want, got, r) = try Self.faultRun(all, transport: .fast, open: open)
        #expect(got == want, "by kind \(got), expected \(want)")
        let messages = Set(r.snapshot.errors.entries.keys.map(\.message))
        #expect(messages.contains("HTTP 429 (Retry-After 1s)") && messages.contains("HTTP 503 (Retry-After 1s)"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("Weird server reply") }, "\(messages)")
        #expect(messages.contains("Transferred a partial file"), "\(messages)")
    }

    /// The invalid event streams are the same failures, with the same messages, as on libcurl.
    @Test(arguments: StreamFaultTests.invalid)
    func invalidStreamsAreTheSameFailures(fault: Fault) throws {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: "\(fault.rawValue):1,sse_ok:1")))
        try target.start()
        defer { target.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 1000
        run_time: 800ms
        wait_time: constant(0.002)
        timeouts: {connect: 1s, request: 2s}
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: gen, kind: openai-completions, model: m, prompt: "hi {{seq}}", max_tokens: 3}]
        """, base: target.baseURL, transport: .fast)
        let want = try #require(StreamFaultTests.expected[fault])
        let t = r.snapshot.total
        let bad = UInt64(target.receivedByFault[fault] ?? 0), good = UInt64(target.receivedByFault[.sseOK] ?? 0)
        #expect(bad > 0 && good > 0)
        #expect(t.requests + r.snapshot.cutOff == bad + good)
        #expect(t.failuresByKind == [want.kind: bad], "\(fault): by kind \(t.failuresByKind)")
        #expect(r.snapshot.errors.entries.keys.map(\.message) == [want.message])
        let l = try #require(t.llm)
        #expect(l.streams == good)
        #expect(l.itl.count == 2 * good)
        #expect(l.outputTokens == 3 * good)
    }

    /// Retry-After on 429 and 503 backs a user off on the fast path too, and is in the message.
    @Test(arguments: [("429", FailureKind.rateLimited), ("503", FailureKind.http5xx)])
    func retryAfterIsHonoured(fault: String, kind: FailureKind) throws {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: fault)))
        try target.start()
        defer { target.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 1500ms
        wait_time: constant(0.005)
        honor_retry_after: true
        tasks: [{name: predict, path: /predict, json: {input: "x"}}]
        """, base: target.baseURL, transport: .fast)
        let s = r.snapshot
        #expect((1...3).contains(s.total.requests), "\(s.total.requests) requests while honouring Retry-After: 1")
        #expect(Int(s.total.requests + s.cutOff) == target.receivedCount)
        #expect(s.total.failuresByKind[kind] == s.total.requests)
        #expect(s.errors.entries.keys.contains { $0.message == "HTTP \(fault) (Retry-After 1s)" })
    }

    /// A 100 MiB body is counted byte for byte and not kept (a check sees the first 1 MiB).
    @Test func aHundredMebibyteBodyIsCountedNotKept() throws {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: "big_body")))
        try target.start()
        defer { target.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 1s
        timeouts: {request: 20s}
        telemetry: {gpu: none, scrape_target: false}
        tasks:
          - {name: big, path: /predict, json: {input: "x"}}
          - {name: big-checked, path: /predict, json: {input: "x"}, checks: {contains: "zzz"}}
        flow: sequential
        """, base: target.baseURL, transport: .fast, stopTimeout: .seconds(20))
        let s = r.snapshot
        #expect(s.total.requests >= 1)
        #expect(Int(s.total.requests + s.cutOff) == target.receivedCount)
        #expect(s.total.bytesIn == s.total.requests * UInt64(FaultPlan.bigBodyBytes))
        #expect(s.perStat[s.index(of: "big")!].failures == 0)
        if let checked = s.index(of: "big-checked").map({ s.perStat[$0] }), checked.requests > 0 {
            #expect(checked.failures == checked.requests)
        }
    }

    /// A port nobody listens on: every request is `connection_refused`, as on libcurl.
    @Test func aClosedPortIsRefused() throws {
        let target = TestTarget(config: .init())
        try target.start()
        let base = target.baseURL
        target.stop()
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 2
        run_time: 300ms
        wait_time: constant(0.01)
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: predict, path: /predict}]
        """, base: base, transport: .fast)
        let t = r.snapshot.total
        #expect(t.requests > 5)
        #expect(t.failuresByKind == [.connectionRefused: t.requests])
        #expect(r.snapshot.errors.entries.keys.map(\.message) == ["Couldn't connect to server"])
    }

    /// What goes on the wire: the same request line, headers and body as the libcurl path
    /// (templated parts rendered per request), and bytes out counted as the body's.
    @Test func theRequestsAreTheSameAsLibcurls() throws {
        func sent(_ transport: TransportChoice) throws -> ([String], RunResult) {
            let target = TestTarget(config: .init(recordRequests: 6))
            try target.start()
            defer { target.stop() }
            let r = try Self.run("""
            target: http://127.0.0.1:1
            users: 1
            run_time: 300ms
            wait_time: constant(0.05)
            seed: 7
            telemetry: {gpu: none, scrape_target: false}
            tasks:
              - {name: post, path: "/predict?u={{seq}}", json: {input: "n {{seq}}"}}
              - {name: get, method: GET, path: /health}
            flow: sequential
            """, base: target.baseURL + "/", transport: transport)
            return (target.recordedRequests, r)
        }
        let (fast, rf) = try sent(.fast)
        let (curl, rc) = try sent(.curl)
        #expect(fast.count >= 4)
        #expect(Array(fast.prefix(4)) == Array(curl.prefix(4)), "fast \(fast)\ncurl \(curl)")
        #expect(rf.snapshot.total.failures == 0 && rc.snapshot.total.failures == 0)
        // Bytes out are the bodies' bytes on both paths (the same bodies, so the same mean).
        func meanOut(_ r: RunResult) -> Double {
            let p = r.snapshot.perStat[r.snapshot.index(of: "post")!]
            return Double(p.bytesOut) / Double(max(1, p.requests))
        }
        #expect(meanOut(rf) >= 10 && abs(meanOut(rf) - meanOut(rc)) <= 1, "fast \(meanOut(rf)), curl \(meanOut(rc))")
    }

    /// The embedded engine's streamed chat completions: TTFT, ITL and tokens measured on the
    /// fast path as on libcurl, and the engine answered exactly what was counted.
    @Test func theEnginesStreamsAreMeasured() throws {
        let server = try EngineServer(config: EngineConfig(batching: .seed, cacheEntries: 0))
        try server.start()
        defer { server.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 4
        spawn_rate: 100
        run_time: 2s
        tasks: [{name: chat, kind: openai-chat, prompt: "hello {{uuid}}", max_tokens: 8}]
        """, base: server.baseURL, transport: .fast, stopTimeout: .seconds(10))
        let l = try #require(r.snapshot.total.llm)
        #expect(r.snapshot.total.failures == 0)
        #expect(l.streams > 0 && l.outputTokens == 8 * l.streams)
        #expect(l.usageReported == l.streams)
        #expect(l.ttft.percentile(50)! <= l.firstContent.percentile(50)!)
        #expect(l.itl.count > 0)
    }

    /// The streaming test target's pace (50 ms to the first token, 10 ms between tokens): the
    /// fast path never measures a token earlier than the server sent it (lower bounds, so a
    /// loaded machine cannot fail them), its mean gap is the server's, and it times every gap of
    /// every stream.
    @Test func streamTimingMatchesTheServersPace() throws {
        let target = TestTarget(config: .init(ttft: .milliseconds(50), interToken: .milliseconds(10)))
        try target.start()
        defer { target.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 100
        run_time: 2s
        prompts: prompts/sample-prompts.txt
        tasks:
          - {name: gen, kind: openai-completions, model: m, max_tokens: 20}
        """, base: target.baseURL, transport: .fast)
        let l = try #require(r.snapshot.total.llm)
        #expect(l.streams > 10)
        #expect(r.snapshot.total.failures == 0)
        #expect(l.ttft.min! >= 50_000 * 99 / 100, "ttft min \(l.ttft.min!) µs")
        // Gaps: a server that falls behind sends tokens in bursts, so a gap has no lower bound;
        // the mean gap is the server's own (10 ms plus how much later it sent each stream's last
        // token than its first, over 19 gaps), which the target records per stream.
        let late = target.streamLateness
        try #require(!late.isEmpty)
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        let gap = late.map { 10 + (ms($0.last) - ms($0.first)) / Double($0.tokens - 1) }.reduce(0, +) / Double(late.count)
        #expect(close(l.itl.meanMicros, toMillis: gap), "itl mean \(String(describing: l.itl.meanMicros)) µs, the server's \(gap) ms")
        #expect(l.e2el.min! >= 50_000 + 19 * 10_000 * 95 / 100)
        #expect(l.itl.count == 19 * l.streams)
        #expect(l.outputTokens == 20 * l.streams)
        #expect(JSONReport(startNanos: r.startNanos).render(r).contains("\"transport\": \"fast\""))
    }

    /// nginx over plain HTTP/1.1: GET, HEAD (a Content-Length and no body), 204 and 304 (no
    /// body), a 404 a check expects, and `keepalive_requests 3`, so nginx ends every third
    /// response with `Connection: close` and the fast path must reconnect. Every request nginx
    /// logged is one Cicada counted, none failed, and no connection carried more than three.
    @Test(.enabled(if: nginxAvailable)) func nginxOverPlainHTTP() throws {
        let tls = TLSTests()
        let nginx = try tls.startNginx(extra: """
            keepalive_requests 3;
            location = /empty { return 204; }
            location = /same { return 304; }
            location = /missing { return 404 "no\\n"; }
            """, plain: true)
        defer { nginx.stop() }
        let r = try Self.run("""
        target: http://127.0.0.1:1
        users: 4
        spawn_rate: 1000
        run_time: 1s
        wait_time: constant(0.001)
        telemetry: {gpu: none, scrape_target: false}
        tasks:
          - {name: get, method: GET, path: /, checks: {contains: "ok"}}
          - {name: head, method: HEAD, path: /}
          - {name: empty, method: GET, path: /empty}
          - {name: same, method: GET, path: /same}
          - {name: missing, method: GET, path: /missing, checks: {status: [404]}}
        flow: sequential
        """, base: "http://127.0.0.1:\(nginx.port)", transport: .fast)
        let s = r.snapshot
        usleep(200_000)   // nginx writes its log line after the response
        let log = nginx.log
        #expect(s.total.requests > 20)
        #expect(s.total.failures == 0, "\(s.errors.entries.keys.map(\.message))")
        #expect(Int(s.total.requests) == log.count, "nginx logged \(log.count), Cicada counted \(s.total.requests)")
        #expect(Set(s.total.statusCodes.keys) == [200, 204, 304, 404])
        let perConnection = ((try? String(contentsOf: nginx.dir.appendingPathComponent("access.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } }
        #expect(perConnection.max() == 3, "requests per connection \(Set(perConnection))")
        #expect(log.allSatisfy { $0.proto == "HTTP/1.1" })
    }

    /// `auto` takes the fast path for http:// and libcurl for https:// and HTTP/2; a forced
    /// `fast` that cannot apply fails the run's start with the reason.
    @Test func autoChoosesWhereTheFastPathApplies() throws {
        func plan(_ target: String, http2: Bool = false, _ choice: TransportChoice) throws -> RunPlan {
            var s = try ScenarioReader().parse("target: \(target)\nusers: 1\ntasks: [{name: a, path: /}]\n", file: "t.yaml")
            s.http2 = http2
            s.transport = choice
            return try RunPlan(scenario: s, environment: [:])
        }
        #expect(Transports.choose(for: try plan("http://127.0.0.1:8000", .auto)).name == "fast")
        #expect(Transports.choose(for: try plan("https://127.0.0.1:8000", .auto)).name == "curl")
        #expect(Transports.choose(for: try plan("http://127.0.0.1:8000", http2: true, .auto)).name == "curl")
        #expect(Transports.choose(for: try plan("http://127.0.0.1:8000", .curl)).name == "curl")
        #expect(FastTransport.unsupported(try plan("https://x", .fast)) == "TLS (https://) needs libcurl")
        #expect(throws: (any Error).self) { try Transports.choose(for: try plan("https://127.0.0.1:8000", .fast)).prepare() }
    }
}
