import CicadaCore
import CicadaEngine
import CicadaScenario
import Testing

/// The `split:` block (a canary roll-out, issue 16): members, verdict bounds, steps, and the
/// errors naming file, line and key.
@Suite struct SplitKeysTests {
    static let head = "users: 2\ntasks: [{path: /}]\n"

    @Test func targetsVerdictAndStepsAreRead() throws {
        let s = try parse(Self.head + """
        split:
          targets:
            - {name: stable, weight: 90, baseline: true, target: http://127.0.0.1:8080}
            - {name: canary, weight: 10, target: http://127.0.0.1:8081}
          verdict: {p99: "+10%", error_rate: "+1%", mean: "+20ms"}
          steps: [10, 25, 50, 100]
        """)
        let split = try #require(s.split)
        #expect(split.members.map(\.name) == ["stable", "canary"])
        #expect(split.members.map(\.weight) == [90, 10])
        #expect(split.baselineIndex == 0 && split.canaryIndex == 1)
        #expect(split.bounds.map(\.description) == ["p(99)=+10%", "mean=+20ms", "error_rate=+1%"])
        #expect(split.bounds.map(\.limit) == [.percent(10), .millis(20), .points(1)])
        #expect(split.steps == [10, 25, 50, 100])
        #expect(s.target == "http://127.0.0.1:8080", "the baseline's target stands for the run's")
    }

    @Test func engineMembersGetTheirOwnConfiguration() throws {
        let doc = try ScenarioReader().parseDocument(Self.head + """
        split:
          targets:
            - {name: stable, weight: 3, baseline: true, engine: {batching: seed}}
            - {name: canary, weight: 1, engine: {scheduler: continuous, max_num_seqs: 64}}
        """, file: "t.yaml", baseDirectory: scenariosDirectory)
        #expect(doc.splitEngines["stable"]?.scheduler == .dynamic)
        #expect(doc.splitEngines["canary"]?.scheduler == .continuous)
        #expect(doc.splitEngines["canary"]?.continuous.maxNumSeqs == 64)
        #expect(doc.scenario.split?.members[1].engineSummary?.contains("continuous: max_num_seqs 64") == true)
        #expect(doc.targetsEngine == false)
    }

    @Test func memberEnginesOverrideTheTopLevelEngineBlock() throws {
        let doc = try ScenarioReader().parseDocument(Self.head + """
        engine: {gpu: H100-SXM, model: deepseek-llm-7b, batching: throughput, cache: {enabled: false}}
        split:
          targets:
            - {name: stable, weight: 3, baseline: true, engine: {max_in_flight: 7}}
            - {name: canary, weight: 1, engine: {gpu: A100-80GB, scheduler: continuous}}
        """, file: "t.yaml", baseDirectory: scenariosDirectory)
        let stable = try #require(doc.splitEngines["stable"]), canary = try #require(doc.splitEngines["canary"])
        #expect(stable.gpu == "H100-SXM" && stable.presetName == "throughput" && stable.cacheEntries == 0 && stable.maxInFlight == 7)
        #expect(canary.gpu == "A100-80GB" && canary.scheduler == .continuous && canary.cacheEntries == 0 && canary.model == stable.model)
    }

    @Test func theShippedScenarioSplitsBetweenTwoEngines() throws {
        let doc = try ScenarioReader().readDocument(path: scenariosDirectory + "/canary-split.yaml")
        let split = try #require(doc.scenario.split)
        #expect(split.members.map(\.name) == ["stable", "canary"])
        #expect(doc.splitEngines.count == 2)
        #expect(doc.splitEngines["stable"]?.presetName == "seed")
        #expect(doc.splitEngines["canary"]?.scheduler == .continuous)
        #expect(split.steps == [10, 25, 50, 100])
    }

    /// (yaml after the head, the key path of the one error, its line, words in its message)
    static let bad: [(String, String, Int, String)] = [
        ("split:\n  targets:\n    - {name: a, weight: 0, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0].weight", 5, "a whole number from 1 to 1000000"),
        ("split:\n  targets:\n    - {name: a, weight: -5, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0].weight", 5, "a whole number from 1 to 1000000"),
        // Two weights near Int.max overflowed the chooser's sum when the run began.
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 9223372036854775807, target: http://127.0.0.1:2}\n",
         "split.targets[1].weight", 6, "a whole number from 1 to 1000000"),
        ("split:\n  targets:\n    - {name: a, weight: 1, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets", 5, "exactly one target 'baseline: true'"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, baseline: true, target: http://127.0.0.1:2}\n",
         "split.targets", 6, "more than one target"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: http://127.0.0.1:1}\n",
         "split.targets", 5, "at least two targets"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: http://127.0.0.1:1}\n    - {name: a, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[1].name", 6, "duplicate split target name 'a'"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: ftp://x}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0].target", 5, "not an http:// or https:// URL"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, target: http://127.0.0.1:1, engine: {batching: seed}}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0].target", 5, "not both"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0]", 5, "needs a 'target' URL or an 'engine'"),
        ("split:\n  targets:\n    - {name: a, weight: 1, baseline: true, engine: {batching: nope}}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "split.targets[0].engine.batching", 5, "unknown batching preset 'nope'"),
        ("split:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n  verdict: {p99: \"10%\"}\n",
         "split.verdict.p99", 7, "e.g. \"+10%\""),
        ("split:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n  verdict: {error_rate: \"+5ms\"}\n",
         "split.verdict.error_rate", 7, "percentage points"),
        ("split:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n  verdict: {p42: \"+5%\"}\n",
         "split.verdict.p42", 7, "unknown key 'p42'"),
        ("split:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n  steps: [10, 50, 25]\n",
         "split.steps[2]", 7, "steps must rise"),
        ("split:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n  steps: [10, 150]\n",
         "split.steps[1]", 7, "1..100"),
        ("split:\n  targets:\n    - {name: a, weight: 8, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n    - {name: c, weight: 1, target: http://127.0.0.1:3}\n  steps: [10, 50]\n",
         "split.steps", 8, "exactly two targets"),
        ("target: http://127.0.0.1:9\nsplit:\n  targets:\n    - {name: a, weight: 9, baseline: true, target: http://127.0.0.1:1}\n    - {name: b, weight: 1, target: http://127.0.0.1:2}\n",
         "target", 3, "remove the top-level 'target'"),
    ]

    @Test(arguments: bad.indices)
    func badSplitsAreErrorsAtTheirLineAndKey(i: Int) {
        let (yaml, key, line, words) = Self.bad[i]
        let found = issues(Self.head + yaml)
        #expect(found.count == 1, "\(found.map(\.description))")
        #expect(found.first?.keyPath == key, "\(found.map(\.description))")
        #expect(found.first?.line == line, "\(found.map(\.description))")
        #expect(found.first?.message.contains(words) == true, "\(found.map(\.description))")
        #expect(found.first?.file == "test.yaml")
    }

    @Test func aScenarioWithNeitherTargetNorSplitStillNeedsATarget() {
        #expect(issues(Self.head).map(\.keyPath) == ["target"])
    }
}
