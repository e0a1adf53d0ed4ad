import Foundation
import Testing
@testable import CicadaCore

/// `GET /live` (`cicada.live/v1`) and the merge `cicada dash --shards` draws: exact, like `cicada merge`.
@Suite struct ShardLiveStateTests {
    /// A shard's live state with latencies drawn from `seed`; `values` collects every corrected latency (µs).
    static func state(shard: Int, of count: Int, seed: UInt64, values: inout [UInt64]) -> ShardLiveState {
        var rng = SeededRandom(seed: seed, stream: UInt64(shard))
        var perStat = [RequestStats(), RequestStats()]
        var window = [RequestStats(), RequestStats()]
        for k in 0..<(100 + Int(rng.next() % 300)) {
            let i = Int(rng.next() % 2)
            let start = rng.next() % 1_000_000_000
            let took = 1_000_000 + rng.next() % 400_000_000
            var o = RequestOutcome(statIndex: i, intendedNanos: start, sentNanos: start, endNanos: start + took, ttfbMicros: 10,
                                   status: k % 17 == 0 ? 503 : 200, failure: nil, error: nil, bytesIn: 1, bytesOut: 1)
            if o.status == 503 { o.failure = .http5xx }
            perStat[i].record(o)
            if k % 3 == 0 { window[i].record(o) }
            values.append((took + 500) / 1000)
        }
        var s = ShardLiveState(scenario: "s", shardIndex: shard, shardCount: count, elapsedSeconds: 10 + Double(shard), measuredSeconds: 9.5,
                               names: ["a", "b"], methods: ["GET", "POST"], perStat: perStat)
        s.window = .init(seconds: 10, spanSeconds: 10, perStat: window)
        s.users = 3 + shard; s.inFlight = shard; s.targetUsers = 4; s.rateScale = 1.5; s.userOffset = -2
        s.errors = [.init(method: "GET", name: "a", message: "HTTP 503", occurrences: UInt64(shard + 1))]
        s.scheduleLag.record(micros: 100 + UInt64(shard))
        return s
    }

    @Test func theJSONReadsBackToTheSameState() throws {
        var v: [UInt64] = []
        let s = Self.state(shard: 1, of: 3, seed: 7, values: &v)
        let text = s.json()
        #expect(text.contains("\"schema\":\"cicada.live/v1\""))
        let back = try ShardLiveState.read(Data(text.utf8))
        #expect(back == s)
        #expect(back.perStat[0].corrected.percentile(99) == s.perStat[0].corrected.percentile(99))
        #expect(back.window?.perStat[1].requests == s.window?.perStat[1].requests)
    }

    @Test func aDamagedStateIsAClearErrorNamingTheKey() throws {
        var v: [UInt64] = []
        let text = Self.state(shard: 0, of: 2, seed: 1, values: &v).json()
        let noUsers = text.replacingOccurrences(of: "\"users\":", with: "\"userz\":")
        #expect(throws: ShardArtifact.ReadProblem.self) { try ShardLiveState.read(Data(noUsers.utf8)) }
        do { _ = try ShardLiveState.read(Data(noUsers.utf8)) } catch { #expect(error.message.contains("users"), "\(error.message)") }
        let other = text.replacingOccurrences(of: "cicada.live/v1", with: "cicada.shard/v1")
        do { _ = try ShardLiveState.read(Data(other.utf8)); Issue.record("another schema was read") } catch { #expect(error.message.contains("schema")) }
        do { _ = try ShardLiveState.read(Data(text.prefix(text.count / 2).utf8)); Issue.record("a truncated state was read") } catch {
            #expect(error.message.contains("not valid JSON"), "\(error.message)")
        }
    }

    @Test(arguments: [3, 11])
    func theMergeAddsHistogramsSoPercentilesAreThoseOfAllValues(_ seed: UInt64) throws {
        var values: [UInt64] = []
        let states = (0..<4).map { Self.state(shard: $0, of: 4, seed: seed, values: &values) }
        let merged = try #require(ShardLiveState.merged(states))
        var all = LatencyHistogram()
        for v in values { all.record(micros: v) }
        #expect(merged.total.requests == UInt64(values.count))
        #expect(merged.total.corrected == all)
        for p in [50.0, 90, 99, 99.9] { #expect(merged.total.corrected.percentile(p) == all.percentile(p)) }
        #expect(merged.total.failures == states.reduce(0) { $0 + $1.perStat.reduce(0) { $0 + $1.failures } })
        #expect(merged.gauges.users == states.reduce(0) { $0 + $1.users })
        #expect(merged.gauges.inFlight == 0 + 1 + 2 + 3)
        #expect(merged.targetUsers == 16)
        #expect(merged.elapsed.seconds == 13)
        #expect(merged.errors.entries.values.first?.occurrences == 1 + 2 + 3 + 4)
        #expect(merged.scheduleLag.count == 4)
        let window = try #require(merged.window)
        #expect(window.total.requests == states.reduce(0) { $0 + ($1.window?.perStat.reduce(0) { $0 + $1.requests } ?? 0) })
        // In any order.
        #expect(ShardLiveState.merged(states.reversed())?.total.corrected == all)
    }

    /// A `/live` whose status-code counts, histogram counts or shard count no run reaches is
    /// refused naming the key.
    @Test func hugeStatusAndHistogramCountsAreRefusedNamingTheKey() throws {
        var values: [UInt64] = []
        let text = Self.state(shard: 0, of: 2, seed: 7, values: &values).json()
        for (pattern, words) in [("\"200\" *: *[0-9]+", "status_codes.200"), ("\"count\" *: *[0-9]+", "count")] {
            let r = try #require(text.range(of: pattern, options: .regularExpression), "\(pattern) in the state")
            let key = String(text[r].prefix { $0 != ":" })
            let huge = text.replacingCharacters(in: r, with: key + ": 18446744073709551615")
            do { _ = try ShardLiveState.read(Data(huge.utf8)); Issue.record("read \(words) = 2^64 - 1") } catch {
                #expect(error.message.contains(words) && error.message.contains("out of range"), "\(error.message)")
            }
        }
        let wide = text.replacingOccurrences(of: "\"shard_count\":2", with: "\"shard_count\":100001")
        #expect(wide != text)
        do { _ = try ShardLiveState.read(Data(wide.utf8)); Issue.record("read a shard count past the limit") } catch {
            #expect(error.message.contains("shard_index") || error.message.contains("shard_count"), "\(error.message)")
        }
    }

    @Test func shardsOfDifferentScenariosDoNotMerge() {
        var v: [UInt64] = []
        let a = Self.state(shard: 0, of: 2, seed: 1, values: &v)
        var b = Self.state(shard: 1, of: 2, seed: 1, values: &v)
        b.names = ["x", "y"]
        #expect(ShardLiveState.merged([a, b]) == nil)
        #expect(ShardLiveState.merged([]) == nil)
    }
}

/// `POST /control` bodies and what they do to a run's ``RunControl``.
@Suite struct ShardControlCommandTests {
    @Test(arguments: [
        (#"{"action":"add_users","delta":10}"#, ShardControlCommand.addUsers(10)),
        (#"{"action":"add_users","delta":-3}"#, .addUsers(-3)),
        (#"{"action":"set_rate_scale","scale":1.21}"#, .setRateScale(1.21)),
        (#"{"action":"rate_scale","factor":1.25}"#, .scaleRate(1.25)),
        (#"{"action":"pause"}"#, .pause), (#"{"action":"resume"}"#, .resume), (#" {"action": "reset"} "#, .reset),
    ])
    func bodiesParse(_ body: String, _ command: ShardControlCommand) throws {
        #expect(try ShardControlCommand.parse(Array(body.utf8)) == command)
        #expect(try ShardControlCommand.parse(Array(command.body.utf8)) == command)
    }

    @Test(arguments: [
        ("", "not a JSON object"), ("[1]", "not a JSON object"), (#"{"delta":1}"#, "missing string key 'action'"),
        (#"{"action":"fly"}"#, "unknown action 'fly'"), (#"{"action":"add_users"}"#, "needs the number key 'delta'"),
        (#"{"action":"add_users","delta":"10"}"#, "key 'delta' must be a number"), (#"{"action":"add_users","delta":1.5}"#, "whole number"),
        (#"{"action":"add_users","delta":0}"#, "not 0"), (#"{"action":"rate_scale","factor":0}"#, "key 'factor' must be between"),
        (#"{"action":"set_rate_scale","scale":1e9}"#, "key 'scale' must be between"),
    ])
    func badBodiesSayWhatIsWrong(_ body: String, _ expected: String) {
        do {
            let c = try ShardControlCommand.parse(Array(body.utf8))
            Issue.record("\(body) parsed as \(c)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func commandsTurnTheRunsKnobsAsItsDashboardKeysDo() throws {
        let control = RunControl()
        #expect(try ShardControlCommand.addUsers(10).apply(to: control, isOpenModel: false) == "users +10 (offset 10)")
        _ = try ShardControlCommand.addUsers(-3).apply(to: control, isOpenModel: false)
        #expect(control.userOffset == 7)
        _ = try ShardControlCommand.pause.apply(to: control, isOpenModel: false)
        #expect(control.paused)
        _ = try ShardControlCommand.resume.apply(to: control, isOpenModel: true)
        #expect(!control.paused)
        _ = try ShardControlCommand.reset.apply(to: control, isOpenModel: false)
        #expect(control.resetRequested)
        _ = try ShardControlCommand.setRateScale(1.5).apply(to: control, isOpenModel: true)
        _ = try ShardControlCommand.scaleRate(2).apply(to: control, isOpenModel: true)
        #expect(control.rateScale == 3)
        #expect(throws: ShardControlCommand.Problem.self) { try ShardControlCommand.addUsers(1).apply(to: control, isOpenModel: true) }
        #expect(throws: ShardControlCommand.Problem.self) { try ShardControlCommand.setRateScale(2).apply(to: control, isOpenModel: false) }
        #expect(control.userOffset == 7 && control.rateScale == 3)
    }
}
