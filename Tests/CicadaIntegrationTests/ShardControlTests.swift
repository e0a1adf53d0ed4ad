import CicadaCore
import Foundation
import Testing
@testable import CicadaSession

/// The status server's `POST /control` and `GET /live`, and `cicada dash`'s fan-out of load keys
/// to every shard (fake shards: status servers on 127.0.0.1 with their own ``RunControl``).
@Suite(.serialized) struct ShardControlTests {
    /// A status server for shard `index` of `count` with a control of its own; notes collect the events.
    final class FakeShard: @unchecked Sendable {
        let server: StatusServer
        let control = RunControl()
        let notes = Locked<[String]>([])
        let base: String
        init(index: Int, count: Int, open: Bool = false, token: String? = nil) throws {
            server = StatusServer(scenario: "fake")
            let port = try server.start(host: "127.0.0.1", port: 0)
            base = "http://127.0.0.1:\(port)"
            let notes = notes
            server.attach(StatusServer.Controls(shard: ShardSpec(index: index, count: count)!, isOpenModel: open, control: control, token: token,
                                                note: { d in notes.update { $0.append(d) } }))
        }
        /// Hands the server a snapshot of `requests` requests of `millis` ms each.
        func update(requests: Int, millis: Double, users: Int, elapsed: Double = 5) {
            var stats = RequestStats()
            for k in 0..<requests {
                let start = UInt64(k) * 1_000_000
                stats.record(RequestOutcome(statIndex: 0, intendedNanos: start, sentNanos: start, endNanos: start + UInt64(millis * 1e6),
                                            ttfbMicros: 5, status: 200, failure: nil, error: nil, bytesIn: 1, bytesOut: 1))
            }
            let snap = Snapshot(elapsed: .fromSeconds(elapsed), names: ["a"], methods: ["GET"], perStat: [stats], total: stats,
                                windows: [10: WindowStats(span: .seconds(5), perStat: [stats], total: stats)], defaultWindowSeconds: 10,
                                errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(users: users, inFlight: 1),
                                targetUsers: users, targetRate: nil, measuredSeconds: 5)
            server.update(snap)
        }
        deinit { server.stop() }
    }

    @Test func controlChangesTheRunNotesItAndRefusesBadBodies() throws {
        let shard = try FakeShard(index: 1, count: 2)
        let ok = try http("POST", shard.base + "/control", body: #"{"action": "add_users", "delta": 10}"#)
        #expect(ok.status == 200 && ok.body.contains("\"done\":\"users +10 (offset 10)\""), "\(ok.body)")
        #expect(shard.control.userOffset == 10)
        #expect(shard.notes.get() == ["control from 127.0.0.1: users +10 (offset 10)"])
        let paused = try http("POST", shard.base + "/control", body: #"{"action": "pause"}"#)
        #expect(paused.status == 200 && shard.control.paused)

        let bad = try http("POST", shard.base + "/control", body: #"{"action": "add_users", "delta": "ten"}"#)
        #expect(bad.status == 400 && bad.body.contains("key 'delta' must be a number"), "\(bad.status) \(bad.body)")
        let notJSON = try http("POST", shard.base + "/control", body: "add users please")
        #expect(notJSON.status == 400 && notJSON.body.contains("not a JSON object"))
        // The closed model's shard refuses a rate change: 409, nothing changed.
        let rate = try http("POST", shard.base + "/control", body: #"{"action": "set_rate_scale", "scale": 2}"#)
        #expect(rate.status == 409 && rate.body.contains("closed model"), "\(rate.body)")
        #expect(shard.control.rateScale == 1 && shard.control.userOffset == 10)
        #expect(try http("GET", shard.base + "/control").status == 405)
        // Once the run has finished, commands are refused.
        shard.update(requests: 1, millis: 1, users: 1)
        shard.server.update(Snapshot(elapsed: .seconds(1), names: [], methods: [], perStat: [], total: RequestStats(), windows: [:],
                                     defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                                     gauges: WorkerGauges(), targetUsers: nil, targetRate: nil, measuredSeconds: 1), finished: true)
        #expect(try http("POST", shard.base + "/control", body: #"{"action": "resume"}"#).status == 409)
    }

    @Test func controlAnswersLoopbackOnlyWithoutATokenAndTheTokenFromAnyoneWithOne() throws {
        let open = try FakeShard(index: 0, count: 1, open: true)
        let body = Array(#"{"action": "rate_scale", "factor": 1.25}"#.utf8)
        #expect(open.server.control(remoteIP: "10.1.2.3", authorization: nil, body: body).0 == 403)
        #expect(open.server.control(remoteIP: "127.0.0.1", authorization: nil, body: body).0 == 200)
        #expect(open.control.rateScale == 1.25)

        let locked = try FakeShard(index: 0, count: 1, open: true, token: "sekrit")
        let none = try http("POST", locked.base + "/control", body: String(decoding: body, as: UTF8.self))
        #expect(none.status == 401 && none.body.contains("bearer token"), "\(none.body)")
        let wrong = try http("POST", locked.base + "/control", body: String(decoding: body, as: UTF8.self), headers: ["Authorization": "Bearer nope"])
        #expect(wrong.status == 401)
        #expect(locked.control.rateScale == 1)
        #expect(locked.server.control(remoteIP: "10.1.2.3", authorization: "Bearer sekrit", body: body).0 == 200)
        #expect(locked.control.rateScale == 1.25)
    }

    @Test func aKeyFansOutToEveryShardAndEachAnswerIsShown() throws {
        let shards = try (0..<3).map { try FakeShard(index: $0, count: 3) }
        // A fourth "shard" that is not there: its failure is its own.
        let bases = shards.map(\.base) + ["http://127.0.0.1:1"]
        let answers = ShardDash.send(.addUsers(5), to: bases, token: nil)
        for s in shards { #expect(s.control.userOffset == 5) }
        #expect(answers.prefix(3).allSatisfy { (try? $0.get()) == "ok" })
        guard case .failure(let f) = answers[3] else { Issue.record("the missing shard answered"); return }
        #expect(!f.message.isEmpty && !f.message.contains("127.0.0.1:1/control"), "the table shows the URL beside it: \(f.message)")
        // A refusal carries the shard's own message.
        let refused = ShardDash.send(.setRateScale(2), to: [shards[0].base], token: nil)
        guard case .failure(let r) = refused[0] else { Issue.record("a closed-model shard took a rate"); return }
        #expect(r.message.contains("HTTP 409") && r.message.contains("closed model"), "\(r.message)")
        // With a token, every shard gets it.
        let locked = try (0..<2).map { try FakeShard(index: $0, count: 2, token: "t0k") }
        #expect(ShardDash.send(.pause, to: locked.map(\.base), token: "t0k").allSatisfy { (try? $0.get()) == "ok" })
        #expect(locked.allSatisfy { $0.control.paused })
        #expect(ShardDash.send(.resume, to: locked.map(\.base), token: nil).allSatisfy { if case .failure = $0 { true } else { false } })
        #expect(locked.allSatisfy { $0.control.paused })
    }

    @Test func theFeedMergesTheShardsLiveStatesExactlyAndMarksTheSilentOnes() throws {
        let shards = try (0..<3).map { try FakeShard(index: $0, count: 3) }
        let bases = shards.map(\.base)
        // Before the first figures, /live is 503 and no shard counts as answering.
        var feed = ShardLiveFeed(urls: bases)
        let none = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 0)
        #expect(none == nil)
        #expect(!feed.anyAnswered)
        for (i, s) in shards.enumerated() { s.update(requests: 10 * (i + 1), millis: Double(10 * (i + 1)), users: i + 1) }
        let firstTake = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 1)
        let first = try #require(firstTake)
        #expect(first.snapshot.total.requests == 60)
        #expect(first.snapshot.gauges.users == 6)
        // 10 at 10 ms, 20 at 20 ms, 30 at 30 ms: p50 is 20 ms, p99 30 ms, to HdrHistogram's precision.
        var all = LatencyHistogram()
        for (n, ms) in [(10, 10), (20, 20), (30, 30)] { all.record(micros: UInt64(ms * 1000), count: UInt64(n)) }
        #expect(first.snapshot.total.corrected.percentile(50) == all.percentile(50))
        #expect(first.point?.p99Millis == all.percentile(99).map { Double($0) / 1000 })
        // A poll that finds no shard's figures moved on: the snapshot, but no new chart point.
        let sameTake = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 2)
        #expect(sameTake?.snapshot.total.requests == 60 && sameTake?.point == nil)
        #expect(feed.shards(at: 1).map(\.up) == [true, true, true])
        // Shard 1 goes away: its last figures stay in the merge, it shows stale.
        shards[1].server.stop()
        shards[0].update(requests: 40, millis: 10, users: 1, elapsed: 6)
        let secondTake = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 3)
        let second = try #require(secondTake)
        #expect(second.snapshot.total.requests == 40 + 20 + 30)
        #expect(second.point?.qps == 30.0 / 2)
        let lines = feed.shards(at: 4)
        #expect(lines.map(\.up) == [true, false, true])
        #expect(lines[1].ageSeconds == 2 && lines[1].problem != nil)   // last answered at 2
        #expect(lines[2].qps == 30.0 / 5)
    }
}
