import Foundation
import Testing
@testable import CicadaCore

@Suite struct ArrivalTraceTests {
    /// Found by FuzzTrace: a timestamp far past the first (1e300 ms) trapped converting its
    /// offset to nanoseconds, and a large time_scale could overflow an offset; now the line is
    /// an error naming the key, and scaled offsets saturate.
    @Test func hugeTimestampsAndScalesAreErrorsOrSaturateNotTraps() {
        let (entries, errors) = ArrivalTrace.parse("{\"timestamp\": 0, \"input_length\": 1}\n{\"timestamp\": 1e300, \"input_length\": 1}\n{\"timestamp\": 31536000001, \"input_length\": 1}\n")
        #expect(entries.count == 1)
        #expect(errors.map(\.line) == [2, 3] && errors.allSatisfy { $0.key == "timestamp" && $0.message.contains("more than a year") })
        let year = ArrivalTrace.parse("{\"timestamp\": 0, \"input_length\": 1}\n{\"timestamp\": 31536000000, \"input_length\": 1}\n").entries
        let scaled = ArrivalTrace(entries: year, timeScale: 1e12)
        #expect((scaled.offsetNanos(1) ?? 0) >= UInt64(1) << 62, "saturated far past any run")
    }

    let mooncake = """
    {"timestamp": 1000, "input_length": 1100, "output_length": 52, "hash_ids": [46, 47, 48]}
    {"timestamp": 1250, "input_length": 1400, "output_length": 7, "hash_ids": [46, 47, 49]}

    {"timestamp": 1250, "prompt": "plain prompt", "output_length": 3}
    {"timestamp": 4000, "input_length": 10}
    """

    @Test func readsMooncakeAndPlainLinesWithOffsetsFromTheFirst() {
        let (entries, errors) = ArrivalTrace.parse(mooncake)
        #expect(errors.isEmpty)
        #expect(entries.map(\.offsetNanos) == [0, 250_000_000, 250_000_000, 3_000_000_000])
        #expect(entries.map(\.outputTokens) == [52, 7, 3, nil])
        #expect(entries[0].hashIDs == [46, 47, 48])
        #expect(entries[2].prompt == "plain prompt")
        #expect(entries[3].inputTokens == 10)
    }

    @Test func everyBadLineIsReportedWithItsLineNumberAndKey() {
        let text = """
        {"timestamp": 10, "input_length": 5}
        not json
        {"input_length": 5}
        {"timestamp": 5, "input_length": 5}
        {"timestamp": 20, "input_length": -1}
        {"timestamp": 30, "input_length": 5, "hash_ids": [1, "x"]}
        {"timestamp": 40, "output_length": 5}
        {"timestamp": 50, "prompt": 7}
        {"timestamp": 60, "input_length": 1000001}
        """
        let (entries, errors) = ArrivalTrace.parse(text)
        #expect(entries.count == 1)
        #expect(errors.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9])
        #expect(errors.map(\.key) == [nil, "timestamp", "timestamp", "input_length", "hash_ids", "input_length", "prompt", "input_length"])
        #expect(errors[7].message == "expected a whole number from 0 to 1000000")
        #expect(errors[2].message.contains("must not go back"))
    }

    @Test func theScheduleReplaysTraceTimesScaled() {
        let (entries, _) = ArrivalTrace.parse(mooncake)
        let trace = ArrivalTrace(entries: entries, timeScale: 0.5)
        let load = OpenLoad.replay(trace)
        #expect(load.duration == .nanoseconds(1_500_000_000 + 1_000_000))
        var s = ArrivalSchedule(load: load, seed: 9)
        var got: [UInt64] = []
        while let a = s.next() { got.append(a.offsetNanos) }
        #expect(got == [0, 125_000_000, 125_000_000, 1_500_000_000])
        // Live rate changes do not move a trace's arrivals.
        var warp = RateWarp()
        warp.setScale(4, atBase: 0)
        #expect(s.offsetNanos(forPosition: 3, warp: warp) == 1_500_000_000)
        #expect(s.offsetNanos(forPosition: 4, warp: warp) == nil)
    }

    @Test func aRunTimeShorterThanTheTraceCutsIt() {
        let (entries, _) = ArrivalTrace.parse(mooncake)
        var s = ArrivalSchedule(load: OpenLoad.replay(ArrivalTrace(entries: entries), runTime: .seconds(1)), seed: 1)
        var n = 0
        while s.next() != nil { n += 1 }
        #expect(n == 3)
    }

    @Test func equalHashIDsGiveTheSamePrefixTextByteForByte() {
        let (entries, _) = ArrivalTrace.parse(mooncake)
        let trace = ArrivalTrace(entries: entries)
        let a = trace.prompt(0, seed: 3), b = trace.prompt(1, seed: 3)
        #expect(a.utf8.count == 1100 * 4)
        #expect(b.utf8.count == 1400 * 4)
        let block = 512 * 4
        #expect(Array(a.utf8.prefix(2 * block)) == Array(b.utf8.prefix(2 * block)))
        // The third block differs (hash 48 against 49).
        #expect(Array(a.utf8.dropFirst(2 * block).prefix(64)) != Array(b.utf8.dropFirst(2 * block).prefix(64)))
        // Deterministic from the seed; another seed gives other text.
        #expect(trace.prompt(0, seed: 3) == a)
        #expect(trace.prompt(0, seed: 4) != a)
        #expect(trace.prompt(2, seed: 3) == "plain prompt")
        #expect(trace.prompt(3, seed: 3).utf8.count == 40)
        #expect(trace.maxTokens(0) == 52)
        #expect(trace.maxTokens(3) == nil)
        // A cache gives the same text, and stays within its bound.
        var cache = BlockCache(maxBytes: 3 * block)
        #expect(trace.prompt(0, seed: 3, cache: &cache) == a)
        #expect(trace.prompt(1, seed: 3, cache: &cache) == b)
        #expect(trace.prompt(0, seed: 3, cache: &cache) == a)
    }
}

@Suite struct SharedPrefixTests {
    @Test func promptsWithTheSamePrefixShareItByteForByte() throws {
        let sp = SharedPrefix(tokens: 512, count: 8, seed: 11)
        #expect(sp.prefixes.count == 8)
        #expect(sp.prefixes.allSatisfy { $0.utf8.count == 512 * 4 })
        #expect(Set(sp.prefixes).count == 8)
        let template = try Template(parsing: "{{prompt}}")
        var ctx = Template.Context(user: 0, seq: 0, prompts: ["alpha", "beta", "gamma"])
        ctx.sharedPrefix = sp
        var rng = SeededRandom(seed: 2)
        var used = Set<Int>()
        var prompts = Set<String>()
        for seq in 0..<400 {
            ctx.seq = UInt64(seq)
            let p = template.render(context: ctx, rng: &rng)
            let idx = try #require(sp.prefixes.firstIndex { p.hasPrefix($0 + " [") })
            used.insert(idx)
            let suffix = p.dropFirst(sp.prefixes[idx].count)
            #expect(suffix.hasPrefix(" [0.\(seq)] "))
            #expect(["alpha", "beta", "gamma"].contains { suffix.hasSuffix($0) })
            prompts.insert(p)
        }
        #expect(used.count == 8, "every prefix is drawn")
        #expect(prompts.count == 400, "every request's prompt is unique")
        // The same seed gives the same prefixes.
        #expect(SharedPrefix(tokens: 512, count: 8, seed: 11) == sp)
        #expect(SharedPrefix(tokens: 512, count: 8, seed: 12) != sp)
    }
}

@Suite struct ConversationStateTests {
    @Test func theHistoryCarriesEveryEarlierTurnAndAnswer() throws {
        var s = ConversationState(conversation: 0)
        #expect(s.messagesJSON(userText: "hi") == #"[{"role":"user","content":"hi"}]"#)
        s.answered(userText: "hi", answer: "hello \"you\"")
        #expect(s.turn == 1)
        let m = s.messagesJSON(userText: "next")
        #expect(m == #"[{"role":"user","content":"hi"},{"role":"assistant","content":"hello \"you\""},{"role":"user","content":"next"}]"#)
        #expect(JSONValue.parse(Array(m.utf8)) != nil)
    }

    @Test func breakdownGroupsTurnsThenModels() {
        var chat = TaskSpec(name: "chat", path: .literal("/v1/chat/completions"), kind: .openAIChat)
        chat.conversations = [Conversation(userTurns: ["a", "b"]), Conversation(userTurns: ["c", "d", "e"])]
        var gen = TaskSpec(name: "gen", path: .literal("/v1/completions"), kind: .openAICompletions)
        gen.models = [WeightedModel(name: "x", weight: 3), WeightedModel(name: "y", weight: 1)]
        var gen2 = gen
        gen2.name = "gen2"
        gen2.models = [WeightedModel(name: "y", weight: 1)]
        let b = Breakdown(tasks: [chat, gen, gen2])
        #expect(b.keys == [.turn(1), .turn(2), .turn(3), .model("x"), .model("y")])
        #expect(b.modelGroups == [[], [3, 4], [4]])
        #expect(b.turnGroup(0) == 0 && b.turnGroup(2) == 2 && b.turnGroup(3) == -1)
        #expect(Breakdown(tasks: [gen2]).turnGroup(0) == -1)
    }

    @Test func intervalStatsKeepGroupsApartAndMergeThem() {
        var a = IntervalStats(statCount: 1)
        var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 5_000_000, ttfbMicros: nil, status: 200,
                               failure: nil, error: nil, bytesIn: 0, bytesOut: 0)
        o.turnGroup = 1; o.modelGroup = 3
        a.record(o, method: "POST", name: "chat")
        o.turnGroup = -1; o.modelGroup = -1
        a.record(o, method: "POST", name: "chat")
        #expect(a.perStat[0].requests == 2)
        #expect(a.groups.map(\.requests) == [0, 1, 0, 1])
        var b = IntervalStats(statCount: 1)
        b.merge(a)
        b.merge(a)
        #expect(b.groups.map(\.requests) == [0, 2, 0, 2])
    }
}
