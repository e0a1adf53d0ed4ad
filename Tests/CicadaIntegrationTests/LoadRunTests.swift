import CicadaCore
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Testing

/// Runs a scenario (YAML) against a fresh local test target and returns the result and the
/// server's own request count. Everything targets 127.0.0.1 and stops by itself.
func runAgainstTarget(_ yaml: String, target config: TestTarget.Config = .init(), workers: Int = 2,
                      stopTimeout: Duration = .seconds(5)) throws -> (RunResult, Int) {
    let target = TestTarget(config: config)
    try target.start()
    defer { target.stop() }
    var scenario = try ScenarioReader().parse(yaml, file: "inline.yaml")
    scenario.target = target.baseURL
    let run = try LoadRun(plan: try RunPlan(scenario: scenario, environment: [:]),
                          options: RunOptions(workers: workers, stopTimeout: stopTimeout))
    let result = try run.run()
    return (result, target.requestCount)
}

@Suite(.serialized) struct LoadRunIntegrationTests {
    @Test func requestCountsMatchTheServersCount() throws {
        let (r, served) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        users: 8
        spawn_rate: 100
        run_time: 2s
        tasks:
          - {name: predict, path: /predict, json: {input: "x {{seq}}"}, weight: 3, checks: {json_exists: output}}
          - {name: health, path: /health}
        """, target: .init(serviceTime: .milliseconds(1)))
        #expect(r.snapshot.total.requests > 100)
        #expect(Int(r.snapshot.total.requests) == served)
        #expect(r.snapshot.total.failures == 0)
        #expect(r.stopReason == .completed)
        let predict = r.snapshot.perStat[r.snapshot.index(of: "predict")!].requests
        let health = r.snapshot.perStat[r.snapshot.index(of: "health")!].requests
        #expect(Double(predict) / Double(predict + health) > 0.65 && Double(predict) / Double(predict + health) < 0.85)
        #expect(r.snapshot.total.corrected.percentile(50)! >= 1000)
        #expect(r.snapshot.total.ttfb.count == r.snapshot.total.requests)
        #expect(r.snapshot.total.statusCodes[200] == r.snapshot.total.requests)
    }

    @Test func failuresAreClassified() throws {
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 100
        run_time: 1s
        wait_time: constant(0.01)
        flow: sequential
        timeouts: {request: 150ms}
        tasks:
          - {name: s503, path: /status/503}
          - {name: s404, path: /status/404}
          - {name: badcheck, path: /health, checks: {json_equals: {status: "down"}}}
          - {name: wrongstatus, path: /status/200, checks: {status: 201}}
          - {name: nope, path: /no/such}
        """)
        let s = r.snapshot
        func kinds(_ n: String) -> [FailureKind: UInt64] { s.perStat[s.index(of: n)!].failuresByKind }
        #expect(kinds("s503").keys.sorted() == [.http5xx])
        #expect(kinds("s404").keys.sorted() == [.http4xx])
        #expect(kinds("badcheck").keys.sorted() == [.check])
        #expect(kinds("wrongstatus").keys.sorted() == [.httpOther])
        #expect(s.errors.entries.keys.contains { $0.name == "badcheck" && $0.message == "JSON path status is \"ok\", expected \"down\"" })
        #expect(s.errors.entries.keys.contains { $0.name == "s503" && $0.message == "HTTP 503" && $0.method == "GET" })
        #expect(s.total.failures == s.total.requests)
    }

    @Test func timeoutsAndRefusedConnectionsAreFailuresNotCrashes() throws {
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 100
        run_time: 1s
        timeouts: {request: 100ms}
        tasks: [{name: slow, path: /health}]
        """, target: .init(serviceTime: .milliseconds(400)))
        #expect(r.snapshot.total.failuresByKind[.timeout] ?? 0 > 0)
        #expect(r.snapshot.total.failuresByKind.keys.sorted() == [.timeout])

        // Nothing listens on this port: every request is a connection failure.
        var scenario = try ScenarioReader().parse("target: http://127.0.0.1:9\nusers: 1\nrun_time: 500ms\nwait_time: constant(0.05)\ntasks: [{path: /}]\n", file: "x.yaml")
        scenario.timeouts.connect = .milliseconds(200)
        let refused = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1)).run()
        #expect(refused.snapshot.total.requests > 0)
        #expect(refused.snapshot.total.failuresByKind.keys.sorted() == [.connectionRefused])
    }

    @Test func aStallShowsInCorrectedP99NotInRawP50() throws {
        // One paced user (a request every 10 ms, like wrk2 -R100) against a server that pauses
        // for 600 ms at 1.4 s. A closed-loop client sees one slow request; the user wanted ~60.
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        users: 1
        spawn_rate: 100
        run_time: 3s
        wait_time: constant_pacing(0.01)
        tasks: [{name: p, path: /health}]
        """, target: .init(serviceTime: .milliseconds(1), stallEvery: .seconds(2), stallFor: .milliseconds(600)), workers: 1)
        let s = r.snapshot.total
        let correctedP99 = Double(s.corrected.percentile(99)!) / 1000
        let rawP50 = Double(s.raw.percentile(50)!) / 1000
        let rawP90 = Double(s.raw.percentile(90)!) / 1000
        #expect(correctedP99 > 300, "corrected p99 \(correctedP99) ms")
        #expect(rawP50 < 20, "raw p50 \(rawP50) ms")
        #expect(rawP90 < 20, "raw p90 \(rawP90) ms")
        #expect(s.raw.max! >= 400_000)
    }

    @Test func openModelKeepsItsScheduleAndTimesFromIntendedStart() throws {
        let (r, served) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        run_time: 2s
        arrival: {rate: 200, max_in_flight: 4, max_queue: 50}
        tasks: [{name: p, path: /health}]
        """, target: .init(serviceTime: .milliseconds(40)))
        let s = r.snapshot
        // 4 slots x 25 req/s each = 100 req/s served; the rest queue (timed from arrival) or drop.
        #expect(s.dropped > 50)
        #expect(Int(s.total.requests) == served)
        #expect(s.total.requests + s.dropped >= 380 && s.total.requests + s.dropped <= 402)
        #expect(s.total.corrected.percentile(90)! > 2 * s.total.raw.percentile(90)!)
    }

    @Test func openModelWithoutBacklogHitsTheRate() throws {
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        run_time: 2s
        arrival: {rate: 300}
        tasks: [{name: p, path: /health}]
        """)
        #expect(r.snapshot.total.requests >= 590 && r.snapshot.total.requests <= 600)
        #expect(r.snapshot.dropped == 0)
    }

    @Test func abortOnFailStopsEarly() throws {
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        users: 2
        run_time: 30s
        spawn_rate: 100
        tasks: [{name: p, path: /status/500}]
        thresholds:
          - {threshold: "error_rate<1%", abort_on_fail: true, delay_abort_eval: 1s}
        """)
        #expect(r.stopReason == .thresholdAbort("error_rate<1%"))
        #expect(r.snapshot.elapsed < .seconds(10))
        #expect(!r.passed)
    }

    @Test func rampingUsersFollowTheStages() throws {
        let (r, _) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        wait_time: constant(0.05)
        stages:
          - {duration: 1s, users: 4, spawn_rate: 100}
          - {duration: 2s, users: 10, spawn_rate: 100}
        tasks: [{name: p, path: /health}]
        """)
        let users = r.timeline.points.map(\.users)
        #expect(users.contains(4))
        #expect(users.last == 10)
    }
}

@Suite(.serialized) struct ClientQueueTests {
    /// With few slots the client itself queues during a stall; a slot that frees must take the
    /// next queued arrival at once. (It once waited for the next arrival's timer, which capped
    /// the drain rate at the arrival rate: the queue never emptied and p50 read ~260 ms against
    /// a 20 ms server.) Simulated truth for this load: p50 20 ms, p99 ~395 ms.
    @Test func queuedArrivalsTakeFreedSlotsAtOnce() throws {
        let (r, served) = try runAgainstTarget("""
        target: http://127.0.0.1:1
        arrival: {rate: 100, process: constant, max_in_flight: 4}
        run_time: 4s
        tasks: [{name: health, path: /health}]
        """, target: .init(serviceTime: .milliseconds(20), stallEvery: .seconds(2), stallFor: .milliseconds(400)), workers: 2)
        let total = r.snapshot.total
        #expect(Int(total.requests) == served)
        #expect(total.requests + r.snapshot.dropped >= 395)
        let p50 = try #require(total.corrected.percentile(50))
        #expect(p50 < 60_000, "p50 \(p50) us: the client queue did not drain between stalls")
        // The stall shows in the corrected tail and not in the raw median.
        #expect(try #require(total.corrected.percentile(99)) > 300_000)
        #expect(try #require(total.raw.percentile(50)) < 60_000)
    }
}

@Suite(.serialized) struct LiveRateChangeTests {
    /// Doubling the rate mid-run (the dashboard's `+`) speeds up what is still to come; it does
    /// not pull a stretch of future arrivals into the past as one burst (which would show as
    /// ~0.5 s of schedule lag and latency here).
    @Test func aRateChangeAppliesFromItsMomentWithoutABurst() throws {
        let target = TestTarget(config: .init(serviceTime: .milliseconds(1)))
        try target.start()
        defer { target.stop() }
        var scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        arrival: {rate: 100, process: constant, max_in_flight: 1000}
        run_time: 3s
        tasks: [{name: health, path: /health}]
        """, file: "rate.yaml")
        scenario.target = target.baseURL
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1, progressInterval: .milliseconds(100)))
        let clock = MonotonicTimeSource()
        let changed = Locked(false)
        run.onProgress = { snap in
            if !changed.get(), snap.elapsed >= .seconds(1) {
                changed.set(true)
                run.control.setRateScale(2, nowNanos: clock.nowNanos())
            }
        }
        let r = try run.run()
        #expect(changed.get())
        // About 1 s at 100/s, then 2 s at 200/s.
        #expect(r.snapshot.total.requests > 430 && r.snapshot.total.requests < 520, "\(r.snapshot.total.requests) requests")
        #expect(try #require(r.snapshot.scheduleLag.max) < 100_000, "no arrival was due before the change was made")
        #expect(try #require(r.snapshot.total.corrected.percentile(99)) < 100_000)
    }
}
