import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Synchronization
import Testing

/// Live retarget (the dashboard's `t`) while handles are being re-sent as they are: the load
/// worker keeps a handle set up between identical constant requests, so a retarget, and a
/// retarget back to the scenario's own target, must both reach the right server.
@Suite(.serialized) struct RetargetTests {
    @Test func retargetAndBackReachBothServers() throws {
        let a = TestTarget(config: .init(serviceTime: .milliseconds(1)))
        let b = TestTarget(config: .init(serviceTime: .milliseconds(1)))
        _ = try a.start()
        _ = try b.start()
        defer { a.stop(); b.stop() }
        var scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 4
        spawn_rate: 100
        run_time: 120s
        tasks:
          - {name: health, path: /health}
        """, file: "inline.yaml")
        scenario.target = a.baseURL
        let run = try LoadRun(plan: try RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 2))
        // Phase 0: on A until it has served some; 1: on B until it has; 2: back on A.
        let phase = Atomic<Int>(0)
        let servedByAAtReturn = Atomic<Int>(-1)
        let target = b.baseURL
        run.onTick = { _ in
            switch phase.load(ordering: .relaxed) {
            case 0 where a.requestCount > 50:
                phase.store(1, ordering: .relaxed)
                run.control.retarget(target)
            case 1 where b.requestCount > 50:
                phase.store(2, ordering: .relaxed)
                servedByAAtReturn.store(a.requestCount, ordering: .relaxed)
                run.control.retarget(nil)
            default: break
            }
        }
        // Ends as soon as A has served more after the return (run_time is only a backstop).
        let r = try run.run(shouldStop: {
            let back = servedByAAtReturn.load(ordering: .relaxed)
            return phase.load(ordering: .relaxed) == 2 && back >= 0 && a.requestCount > back + 50
        })
        #expect(phase.load(ordering: .relaxed) == 2)
        #expect(r.snapshot.total.failures == 0)
        #expect(Int(r.snapshot.total.requests) == a.requestCount + b.requestCount)
        #expect(b.requestCount > 50)
        // Requests went back to A after the second retarget.
        #expect(a.requestCount > servedByAAtReturn.load(ordering: .relaxed))
    }
}
