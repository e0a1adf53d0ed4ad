import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Testing

/// `honor_retry_after`: a closed-model user that gets `429`/`503` with `Retry-After: 1` waits a
/// second before its next task; without it the user goes on at once. The failures are counted
/// either way, with the Retry-After in the message.
@Suite struct RetryAfterTests {
    static func run(_ fault: String, honor: Bool) throws -> (RunResult, received: Int) {
        let target = TestTarget(config: .init(faults: try FaultPlan(parsing: fault)))
        try target.start()
        defer { target.stop() }
        var scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 1500ms
        wait_time: constant(0.005)
        honor_retry_after: \(honor)
        tasks: [{name: predict, path: /predict, json: {input: "x"}}]
        """, file: "retry.yaml")
        scenario.target = target.baseURL
        let r = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1, stopTimeout: .seconds(2))).run()
        return (r, target.receivedCount)
    }

    @Test(arguments: [("429", FailureKind.rateLimited), ("503", FailureKind.http5xx)])
    func honouredRetryAfterBacksOffAndStillCounts(fault: String, kind: FailureKind) throws {
        let (honoured, received) = try Self.run(fault, honor: true)
        let s = honoured.snapshot
        // One user, 1.5 s, told to wait 1 s after each answer: requests at 0 s and about 1 s.
        // (Bounds, not timings: without the back-off the same user sends hundreds.)
        #expect((1...3).contains(s.total.requests), "\(s.total.requests) requests while honouring Retry-After: 1")
        #expect(Int(s.total.requests + s.cutOff) == received)
        #expect(s.total.failures == s.total.requests)
        #expect(s.total.failuresByKind[kind] == s.total.requests)
        #expect(s.errors.entries.keys.contains { $0.message == "HTTP \(fault) (Retry-After 1s)" })

        let (ignored, _) = try Self.run(fault, honor: false)
        #expect(ignored.snapshot.total.requests > 20, "without honouring, the user does not wait: \(ignored.snapshot.total.requests)")
    }
}
