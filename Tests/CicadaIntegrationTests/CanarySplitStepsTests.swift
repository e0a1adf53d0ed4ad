import CicadaCore
import CicadaScenario
import CicadaSession
import CicadaTestTarget
import Foundation
import Synchronization
import Testing

/// A live canary step on both transports (issue 16): the weights shift mid-run and every
/// request lands in the step window whose weights chose its target, so the windows add up to
/// the run, each window's canary share is its own weight's, and the servers saw the same counts.
@Suite(.serialized) struct CanarySplitStepsTests {
    @Test(arguments: [TransportChoice.curl, .fast])
    func aShiftOpensAStepWindowThatHoldsExactlyItsRequests(transport: TransportChoice) throws {
        let stable = try CanarySplitTests.start(.milliseconds(1)), canary = try CanarySplitTests.start(.milliseconds(1))
        defer { stable.stop(); canary.stop() }
        let yaml = CanarySplitTests.yaml(stable: stable.baseURL, canary: canary.baseURL, verdict: "{error_rate: \"+1%\"}")
            + "transport: \(transport.rawValue)\n"
        let doc = try ScenarioReader().parseDocument(yaml, file: "s.yaml")
        let s = try RunSession(document: doc, request: SessionRequest(file: "s.yaml", workers: 2))
        let control = s.lanes[0].run.control
        // The session polls the stop signal through the run: shift to 50 / 50 about halfway
        // (when is not asserted; only that each request is counted in the window that sent it).
        let firstPoll = Mutex<Date?>(nil)
        let result = try s.run(view: nil, output: CapturedOutput().output, stopSignal: {
            let since = firstPoll.withLock { p -> TimeInterval in
                if p == nil { p = Date() }
                return Date().timeIntervalSince(p!)
            }
            if since > 0.8, control.splitShifts.isEmpty { control.setSplitWeights([50, 50]) }
            return false
        })
        let split = try #require(result.results[0].split)
        try #require(split.windows.count == 2, "\(split.windows.map(\.weights))")
        #expect(split.windows.map(\.weights) == [[90, 10], [50, 50]])
        let windows = split.windows.map { w in w.stats.map { $0?.requests ?? 0 } }
        let whole = split.members.map { $0.stats?.requests ?? 0 }
        #expect(zip(windows[0], windows[1]).map { $0 + $1 } == whole, "windows \(windows) add up to \(whole)")
        #expect(whole == [UInt64(stable.requestCount), UInt64(canary.requestCount)])
        // Within a window the seeded chooser keeps the window's own weights (to a few requests).
        let n0 = Double(windows[0].reduce(0, +)), n1 = Double(windows[1].reduce(0, +))
        #expect(n0 > 50 && n1 > 50, "\(windows)")
        #expect(abs(Double(windows[0][1]) - n0 / 10) <= 5, "step 1: \(windows[0])")
        #expect(abs(Double(windows[1][1]) - n1 / 2) <= 5, "step 2: \(windows[1])")
        #expect(split.windows[1].startSeconds > 0 && split.windows[0].endSeconds == split.windows[1].startSeconds)
        #expect(split.passed && result.exitStatus == ExitStatus.ok)
    }
}
