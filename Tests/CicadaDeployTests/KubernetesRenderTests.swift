import CicadaDeploy
import Foundation
import Testing
import Yams

/// `cicada k8s render`'s manifests: golden text, and parsed back with a real YAML reader so
/// what kubectl would read is what the renderer meant.
@Suite struct KubernetesRenderTests {
    static let scenario = """
    name: chat # a comment: with a colon
    target: http://vllm.default.svc:8000
    prompts: data/prompts.jsonl
    load:
      users: 400
      spawn_rate: 50
      run_time: 5m
    tasks:
      - name: chat
        kind: openai-chat
        body: '{"model": "m", "messages": [{"role": "user", "content": "{{prompt}}"}]}'
    thresholds: ["p(99)<2s"]

    """

    static func spec(shards: Int = 4, files: [DeployFile]? = nil, claim: String? = nil, strict: Bool = false) -> KubernetesJobSpec {
        KubernetesJobSpec(
            name: "cicada-chat", namespace: "load", image: "registry.example/cicada:1.2.0", shards: shards,
            scenarioFileName: "chat.yaml", scenarioText: scenario,
            dataFiles: files ?? [DeployFile(path: "data/prompts.jsonl", bytes: Array("{\"prompt\": \"Hello: world\"}\n{\"prompt\": \"  indented\"}\n".utf8)),
                                 DeployFile(path: "data/blob.bin", bytes: [0, 1, 2, 250, 255])],
            startAt: "2026-12-06T10:00:00Z", runSeconds: 310, graceSeconds: 600, minShards: shards - 1 > 0 ? shards - 1 : 1,
            resultsClaim: claim, cpu: "2", memory: "2Gi", strictSpread: strict, extraRunArgs: ["--workers", "2"])
    }

    static func documents(_ text: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text).map { try #require($0 as? [String: Any]) }
    }

    static func object(_ docs: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        try #require(docs.first { ($0["kind"] as? String) == kind && (($0["metadata"] as? [String: Any])?["name"] as? String) == name })
    }

    @Test func matchesTheGoldenManifests() throws {
        let text = try KubernetesRender.render(Self.spec())
        if ProcessInfo.processInfo.environment["CICADA_UPDATE_GOLDENS"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens/k8s-chat.yaml")
            try text.write(to: source, atomically: true, encoding: .utf8)
            return
        }
        let dir = try #require(Bundle.module.url(forResource: "Goldens", withExtension: nil))
        let golden = try String(contentsOf: dir.appendingPathComponent("k8s-chat.yaml"), encoding: .utf8)
        #expect(text == golden, "rendered manifests differ from Goldens/k8s-chat.yaml (CICADA_UPDATE_GOLDENS=1 rewrites it)")
    }

    @Test func theIndexedJobIsWhatTheShardContractNeeds() throws {
        let docs = try Self.documents(KubernetesRender.render(Self.spec()))
        #expect(docs.map { $0["kind"] as? String } == ["ConfigMap", "PersistentVolumeClaim", "Job", "Job"])
        let job = try Self.object(docs, kind: "Job", name: "cicada-chat")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        #expect(spec["completions"] as? Int == 4)
        #expect(spec["parallelism"] as? Int == 4)
        #expect(spec["backoffLimitPerIndex"] as? Int == 0)
        let rules = try #require((spec["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == 1)
        #expect(rules[0]["action"] as? String == "FailJob")
        let onExit = try #require(rules[0]["onExitCodes"] as? [String: Any])
        #expect(onExit["operator"] as? String == "In")
        #expect(onExit["values"] as? [Int] == [2])
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["image"] as? String == "registry.example/cicada:1.2.0")
        let command = try #require(container["command"] as? [String])
        #expect(command == ["cicada", "run", "/cicada/scenario/chat.yaml", "--headless", "--out", "/cicada/results", "--start-at", "$(START_AT)", "--workers", "2"])
        let env = try #require(container["env"] as? [[String: Any]])
        let envMap = Dictionary(uniqueKeysWithValues: env.map { ($0["name"] as! String, $0["value"] as! String) })
        #expect(envMap == ["CICADA_SHARDS": "4", "START_AT": "2026-12-06T10:00:00Z"])
        let affinity = try #require((pod["affinity"] as? [String: Any])?["podAntiAffinity"] as? [String: Any])
        let preferred = try #require(affinity["preferredDuringSchedulingIgnoredDuringExecution"] as? [[String: Any]])
        let term = try #require(preferred.first?["podAffinityTerm"] as? [String: Any])
        #expect(term["topologyKey"] as? String == "kubernetes.io/hostname")
        let resources = try #require(container["resources"] as? [String: Any])
        #expect((resources["requests"] as? [String: Any])?["cpu"] as? String == "2")
        #expect((resources["limits"] as? [String: Any])?["memory"] as? String == "2Gi")
    }

    @Test func strictSpreadRequiresSeparateNodes() throws {
        let docs = try Self.documents(KubernetesRender.render(Self.spec(strict: true)))
        let job = try Self.object(docs, kind: "Job", name: "cicada-chat")
        let text = "\(job)"
        #expect(text.contains("requiredDuringSchedulingIgnoredDuringExecution"))
        #expect(!text.contains("preferredDuringScheduling"))
    }

    @Test func theConfigMapCarriesTheScenarioAndItsFilesByteForByte() throws {
        let s = Self.spec()
        let docs = try Self.documents(KubernetesRender.render(s))
        let cm = try Self.object(docs, kind: "ConfigMap", name: "cicada-chat-scenario")
        let data = try #require(cm["data"] as? [String: String])
        #expect(data["scenario.yaml"] == s.scenarioText)
        let binary = try #require(cm["binaryData"] as? [String: String])
        // Every data file comes back through the volume's items at its path as written.
        let job = try Self.object(docs, kind: "Job", name: "cicada-chat")
        let pod = try #require(((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let items = try #require((volumes.first { $0["name"] as? String == "scenario" }?["configMap"] as? [String: Any])?["items"] as? [[String: String]])
        var mounted: [String: [UInt8]] = [:]
        for item in items {
            let key = try #require(item["key"]), path = try #require(item["path"])
            if let text = data[key] { mounted[path] = Array(text.utf8) }
            else { mounted[path] = try #require(Data(base64Encoded: try #require(binary[key])).map { [UInt8]($0) }) }
        }
        #expect(mounted["chat.yaml"] == Array(s.scenarioText.utf8))
        for f in s.dataFiles { #expect(mounted[f.path] == f.bytes, "\(f.path)") }
    }

    @Test(arguments: [
        "plain", "two words", "a: b", "- dash", "#hash", "true", "no", "null", "~", "0x1F", "1e3", ".5", "007", "",
        " leading", "trailing ", "quote\"s", "back\\slash", "tab\there", "line\nbreak", "\nfirst empty\n", "  indented first\nline\n",
        "ends with two\n\n", "no final newline\nhere", "ctrl\u{1}char", "bom\u{FEFF}", "ünïcödé: ok", "{flow}", "[list]", "*alias", "&anchor",
        "!tag", "%directive", "@at", "`tick", "|pipe", ">fold", "key: value\n  nested: 1\n", "\r\nwindows\r\n", "\t\ttabs first\nx\n",
    ])
    func everyStringComesBackAsWritten(_ text: String) throws {
        let yaml = YAMLValue.map([("k", .string(text)), ("l", .list([.string(text)]))]).yaml(indent: 0)
        let back = try #require(try Yams.load(yaml: yaml) as? [String: Any], "\(yaml)")
        #expect(back["k"] as? String == text, "\(yaml)")
        #expect((back["l"] as? [Any])?.first as? String == text, "\(yaml)")
    }

    @Test func aNamedClaimIsUsedAndNoneIsRendered() throws {
        let docs = try Self.documents(KubernetesRender.render(Self.spec(claim: "shared-results")))
        #expect(!docs.contains { $0["kind"] as? String == "PersistentVolumeClaim" })
        #expect(try KubernetesRender.render(Self.spec(claim: "shared-results")).contains("claimName: shared-results"))
    }

    @Test func theMergeStepWaitsForEveryShardThenGatesOnMinShards() throws {
        let s = Self.spec()
        let docs = try Self.documents(KubernetesRender.render(s))
        let merge = try Self.object(docs, kind: "Job", name: "cicada-chat-merge")
        let pod = try #require(((merge["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let command = try #require((pod["containers"] as? [[String: Any]])?.first?["command"] as? [String])
        #expect(command.prefix(2) == ["/bin/sh", "-c"])
        #expect(command[2] == KubernetesRender.mergeScript(s))
        #expect(command[2].contains("-lt 4 ]"))
        #expect(command[2].contains("--min-shards 3"))
        #expect(command[2].contains("+ 910 ))"))
    }

    @Test func badSpecsGetClearErrors() {
        func error(_ s: KubernetesJobSpec) -> String? {
            do { _ = try KubernetesRender.render(s); return nil } catch { return error.description }
        }
        var s = Self.spec(); s.name = "Chat_Run"
        #expect(error(s)?.contains("not a Kubernetes name") == true)
        s = Self.spec(shards: 0)
        #expect(error(s)?.contains("--shards") == true)
        s = Self.spec(); s.minShards = 9
        #expect(error(s)?.contains("--min-shards") == true)
        s = Self.spec(files: [DeployFile(path: "../outside.jsonl", bytes: [65])])
        #expect(error(s)?.contains("outside the scenario's folder") == true)
        s = Self.spec(files: [DeployFile(path: "/etc/prompts.txt", bytes: [65])])
        #expect(error(s)?.contains("absolute path") == true)
        s = Self.spec(files: [DeployFile(path: "big.txt", bytes: Array(repeating: 65, count: 1_100_000))])
        #expect(error(s)?.contains("1 MiB") == true)
        #expect(error(Self.spec()) == nil)
    }

    @Test func defaultNamesAreKubernetesNames() {
        #expect(KubernetesRender.defaultName(fromFile: "scenarios/Chat Quick_start.v2.yaml") == "cicada-chat-quick-start-v2")
        #expect(KubernetesRender.defaultName(fromFile: "___.yaml") == "cicada-run")
        let long = KubernetesRender.defaultName(fromFile: String(repeating: "a", count: 100) + ".yaml")
        #expect(long.count == 52)
    }
}
