import CicadaCore
@testable import CicadaDashboard
import Testing

/// `c` / `C`: a split run's canary promoted or rolled back along its steps (issue 16).
@Suite struct CanarySplitKeysTests {
    static func split(steps: [Int] = [10, 25, 50, 100]) -> SplitSpec {
        SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:8080", weight: 90, baseline: true),
                            .init(name: "canary", target: "http://127.0.0.1:8081", weight: 10, baseline: false)],
                  steps: steps)
    }

    static func controller(split: SplitSpec?) -> Ctl {
        var config = DashboardController.Configuration(scenarioName: "canary", targetDescription: "split", runTime: .seconds(120), isOpenModel: true)
        config.split = split
        var c = DashboardController(configuration: config, lanes: [DashboardLane(name: "canary", config: "split")])
        let m = Fixture.open()
        c.update(snapshot: m.snapshot, thresholds: m.thresholds, lane: 0)
        return Ctl(c)
    }

    @Test func promoteWalksTheStepsAndStopsAtTheLast() {
        let c = Self.controller(split: Self.split())
        #expect(c.canaryPercent == 10)
        #expect(c.handle(.character("c"), at: Controllers.at(1)).first == .setSplitWeights([75, 25]))
        #expect(c.viewModel(at: Controllers.at(1.5))?.message == "promote canary: 10% -> 25% of the load")
        #expect(c.handle(.character("c"), at: Controllers.at(2)).first == .setSplitWeights([50, 50]))
        #expect(c.handle(.character("c"), at: Controllers.at(3)).first == .setSplitWeights([0, 100]))
        #expect(c.canaryPercent == 100)
        let past = c.handle(.character("c"), at: Controllers.at(4))
        #expect(!past.contains { if case .setSplitWeights = $0 { return true } else { return false } })
        #expect(c.viewModel(at: Controllers.at(4.5))?.message?.contains("already at 100%") == true)
        // The message clears after its lifetime (the injected clock, not a sleep).
        #expect(c.viewModel(at: Controllers.at(4) + DashboardController.messageLifetime + .milliseconds(1))?.message == nil)
    }

    @Test func rollBackGoesDownToNoCanaryLoad() {
        let c = Self.controller(split: Self.split())
        _ = c.handle(.character("c"), at: Controllers.at(1))   // 25
        #expect(c.handle(.character("C"), at: Controllers.at(2)).first == .setSplitWeights([90, 10]))
        #expect(c.handle(.character("C"), at: Controllers.at(3)).first == .setSplitWeights([100, 0]))
        #expect(c.canaryPercent == 0)
        #expect(c.handle(.character("C"), at: Controllers.at(4)).allSatisfy { if case .setSplitWeights = $0 { return false } else { return true } })
        #expect(c.handle(.character("c"), at: Controllers.at(5)).first == .setSplitWeights([90, 10]), "promoted again from 0: the first step")
    }

    @Test func eachShiftIsNotedForTheRunsEventsAndMarkedOnTheCharts() {
        let c = Self.controller(split: Self.split())
        let actions = c.handle(.character("c"), at: Controllers.at(1))
        #expect(actions.contains(.note("promote canary: 10% -> 25% of the load", lane: nil)))
        #expect(c.marks.map(\.detail) == ["promote canary: 10% -> 25% of the load"])
    }

    @Test func withoutASplitOrStepsTheKeysSaySo() {
        let none = Self.controller(split: nil)
        #expect(none.canaryPercent == nil)
        let a = none.handle(.character("c"), at: Controllers.at(1))
        #expect(a.allSatisfy { if case .setSplitWeights = $0 { return false } else { return true } })
        #expect(none.viewModel(at: Controllers.at(1.1))?.message?.contains("no split") == true)
        let noSteps = Self.controller(split: Self.split(steps: []))
        _ = noSteps.handle(.character("C"), at: Controllers.at(1))
        #expect(noSteps.viewModel(at: Controllers.at(1.1))?.message?.contains("no split.steps") == true)
    }

    @Test func eSaysASplitsTargetsAreItsOwn() {
        let c = Self.controller(split: Self.split())
        let a = c.handle(.character("e"), at: Controllers.at(1))
        #expect(!a.contains(.switchToEngine))
        #expect(c.viewModel(at: Controllers.at(1.1))?.message == "e: a split run's targets are its own (c/C move the canary's share)")
    }

    @Test func theHelpListsTheKeys() {
        #expect(DashboardRenderer.Drawer.helpLines.contains { $0.0 == "c / C" })
    }
}
