import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Testing

/// Invalid event streams (issue 12): the fault target answers an OpenAI completions request
/// with a 200 `text/event-stream` that is broken in one way, and Cicada must report each as the
/// failure it is, with a clear message, never as a success with made-up token figures; the run
/// ends by itself, and every request the target read is one Cicada counted.
@Suite struct StreamFaultTests {
    /// The failure each invalid stream must be reported as: its kind and its exact message.
    static let expected: [Fault: (kind: FailureKind, message: String)] = [
        .sseNoData: (.invalidStream, "stream ended without any data: event (\(Fault.sseNoData.sseEvents!.map(\.utf8.count).reduce(0, +)) bytes of event stream)"),
        .sseBrokenJSON: (.invalidStream, "stream event 2 is not JSON: " + String(Fault.brokenJSONData.prefix(OpenAIStreamChunk.excerptLength)) + "…"),
        .sseNoDone: (.invalidStream, "stream ended without data: [DONE] after 3 chunks"),
        .sseErrorEvent: (.streamError, "error in stream: EngineCore encountered an issue"),
        .sseErrorEventTyped: (.streamError, "error in stream: Overloaded"),
    ]

    static let invalid: [Fault] = [.sseNoData, .sseBrokenJSON, .sseNoDone, .sseErrorEvent, .sseErrorEventTyped]

    /// Runs `faults` against a fresh fault target (2 closed users for 0.8 s, one OpenAI
    /// completions task) and checks what holds for every run: it ended by itself, nothing was
    /// cut off, and Cicada's count is the target's. Returns the result and the target's count
    /// per fault.
    static func run(_ faults: String) throws -> (RunResult, [Fault: Int]) {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: faults)))
        try target.start()
        defer { target.stop() }
        var scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 1000
        run_time: 800ms
        wait_time: constant(0.002)
        timeouts: {connect: 1s, request: 2s}
        telemetry: {gpu: none, scrape_target: false}
        tasks: [{name: gen, kind: openai-completions, model: m, prompt: "hi {{seq}}", max_tokens: 3}]
        """, file: "stream-faults.yaml")
        scenario.target = target.baseURL
        let r = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1, stopTimeout: .seconds(2))).run()
        let s = r.snapshot
        // On time: the run stopped at its run time, and every stream ended by itself (none
        // was still open when the stop timeout came).
        #expect(r.stopReason == .completed)
        #expect(s.cutOff == 0, "\(faults): \(s.cutOff) cut off")
        // Counts add up: requests = successes + failures (+ cut off) = what the target read.
        #expect(Int(s.total.requests + s.cutOff) == target.receivedCount, "\(faults): received \(target.receivedCount), Cicada \(s.total.requests) + \(s.cutOff) cut off")
        #expect(target.receivedCount > 10, "\(faults): only \(target.receivedCount) requests")
        return (r, target.receivedByFault)
    }

    /// Each invalid stream alone: every request is a failure of its kind, with its message, and
    /// no token figure exists (a failed stream adds no TTFT, ITL or tokens).
    @Test(arguments: invalid)
    func eachInvalidStreamAlone(fault: Fault) throws {
        let (r, byFault) = try Self.run(fault.rawValue)
        let want = try #require(Self.expected[fault])
        let t = r.snapshot.total
        let n = UInt64(byFault[fault] ?? 0)
        #expect(t.requests == n && t.failures == n)
        #expect(t.failuresByKind == [want.kind: n], "\(fault): by kind \(t.failuresByKind)")
        #expect(t.statusCodes == [200: n], "every one of them came back 200")
        let messages = r.snapshot.errors.entries.map { ($0.key.message, $0.value.occurrences) }
        #expect(messages.count == 1 && messages.first?.0 == want.message && messages.first?.1 == n, "\(fault): errors \(messages)")
        #expect(t.llm == nil, "\(fault): a failed stream left token figures: \(String(describing: t.llm))")
    }

    /// Each invalid stream alternating with a valid one: the valid streams are the successes,
    /// and the only ones measured (one TTFT and two ITL gaps each, three tokens).
    @Test(arguments: invalid)
    func eachInvalidStreamBesideAValidOne(fault: Fault) throws {
        let (r, byFault) = try Self.run("\(fault.rawValue):1,sse_ok:1")
        let want = try #require(Self.expected[fault])
        let t = r.snapshot.total
        let bad = UInt64(byFault[fault] ?? 0), good = UInt64(byFault[.sseOK] ?? 0)
        #expect(bad > 0 && good > 0)
        #expect(t.requests == bad + good)
        #expect(t.failuresByKind == [want.kind: bad], "\(fault): by kind \(t.failuresByKind)")
        #expect(t.requests - t.failures == good)
        #expect(r.snapshot.errors.entries.keys.map(\.message) == [want.message])
        let l = try #require(t.llm)
        #expect(l.streams == good)
        #expect(l.ttft.count == good && l.e2el.count == good)
        #expect(l.itl.count == 2 * good)
        #expect(l.outputTokens == 3 * good)
    }

    /// Every stream fault and a plain JSON `ok` in one rotation: each kind's count is the sum of
    /// its faults' counts; `ok` (a JSON 200 to a streaming request) is a success without figures.
    @Test func everyStreamFaultInOneRotation() throws {
        let (r, byFault) = try Self.run((Self.invalid + [.sseOK, .ok]).map { "\($0.rawValue):1" }.joined(separator: ","))
        let t = r.snapshot.total
        var want: [FailureKind: UInt64] = [:]
        for f in Self.invalid { want[Self.expected[f]!.kind, default: 0] += UInt64(byFault[f] ?? 0) }
        #expect(t.failuresByKind == want.filter { $0.value > 0 }, "by kind \(t.failuresByKind), expected \(want)")
        #expect(t.requests - t.failures == UInt64((byFault[.sseOK] ?? 0) + (byFault[.ok] ?? 0)))
        #expect(t.llm?.streams == UInt64(byFault[.sseOK] ?? 0))
        let messages = Set(r.snapshot.errors.entries.keys.map(\.message))
        #expect(messages == Set(Self.invalid.map { Self.expected[$0]!.message }))
    }
}
