import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

/// The whole run's canary verdict gets its own JUnit case, so a run that exits 99 on it never
/// shows all green (a step window without enough data passes).
@Suite struct SplitVerdictJUnitTests {
    /// No live shift: one window. The canary's 40 requests at 20 ms break `p(99)=+10%` for the
    /// whole run, while the step (min_requests 50) has not enough data.
    static func result(withWindows: Bool) throws -> RunResult {
        let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                       .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                             bounds: [try RegressionBound(parsing: "p(99)=+10%")], steps: [], minRequests: 50)
        var snap = Fixture.snapshot()
        let stable = SplitReportTests.stats(360, ms: 10), canary = SplitReportTests.stats(40, ms: 20)
        snap.groupKeys = [.target("stable"), .target("canary")]
        snap.groups = [stable, canary]
        if withWindows { snap.splitSteps = [stable, canary] }
        var r = Fixture.result(snapshot: snap)
        r.split = SplitResult(spec: spec, snapshot: snap, finalWeights: nil)
        return r
    }

    @Test(arguments: [true, false]) func aFailedWholeRunVerdictIsAFailedCase(withWindows: Bool) throws {
        let r = try Self.result(withWindows: withWindows)
        #expect(r.split?.passed == false)
        #expect(r.split?.windows.map(\.verdict.state) == (withWindows ? [.notEnoughData] : []))
        let xml = JUnitReport.render(r)
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"canary verdict, whole run\">"), "\(xml)")
        #expect(xml.contains("<failure message=\"FAIL canary p(99)=+10%: 20.00ms vs stable 10.00ms (limit 11.00ms)\""), "\(xml)")
    }

    @Test func aPassingWholeRunVerdictIsAPassingCase() throws {
        var r = try Self.result(withWindows: false)
        let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                       .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                             bounds: [try RegressionBound(parsing: "p(99)=+200%")], steps: [], minRequests: 50)
        r.split = SplitResult(spec: spec, snapshot: r.snapshot, finalWeights: nil)
        let xml = JUnitReport.render(r)
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"canary verdict, whole run\"/>"), "\(xml)")
    }
}
