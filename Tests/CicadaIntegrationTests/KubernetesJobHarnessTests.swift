import CicadaTestTarget
import Foundation
import Testing
import Yams

/// `cicada k8s render`'s manifests played on one machine, as the Indexed Job controller would run
/// them: the ConfigMap's items laid out as its volume would be, `completions` processes of the
/// shard container (its command, its environment, `JOB_COMPLETION_INDEX` = 0..N-1, `$(VAR)`
/// expanded as Kubernetes expands it), a temporary folder as the shared results volume, then the
/// merge Job's own shell script. The merged report must count every request the target saw.
@Suite(.serialized) struct KubernetesJobHarnessTests {
    static func container(_ job: [String: Any]) throws -> [String: Any] {
        let pod = try #require(((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        return try #require((pod["containers"] as? [[String: Any]])?.first)
    }

    static func env(_ container: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: ((container["env"] as? [[String: Any]]) ?? []).map { ($0["name"] as! String, "\($0["value"]!)") })
    }

    /// Kubernetes' `$(VAR)` expansion in command and args.
    static func expand(_ s: String, _ env: [String: String]) -> String {
        var out = s
        for (k, v) in env { out = out.replacingOccurrences(of: "$(\(k))", with: v) }
        return out
    }

    @Test func theRenderedIndexedJobRunsAndMergesLocally() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = TestTarget(config: .init(serviceTime: .milliseconds(1), recordRequests: 100_000))
        let port = try target.start()
        defer { target.stop() }
        let source = dir.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "alpha\nbeta\ngamma\n".write(to: source.appendingPathComponent("data/words.txt"), atomically: true, encoding: .utf8)
        let scenario = source.appendingPathComponent("k8s-local.yaml")
        try """
        name: k8s-local
        target: http://127.0.0.1:\(port)
        seed: 7
        prompts: data/words.txt
        arrival: {rate: 60, process: poisson}
        run_time: 2s
        telemetry: {gpu: none}
        tasks:
          - {name: post, method: POST, path: /status/200, body: '{"input": "{{prompt}}"}'}
        thresholds: ["error_rate<1%"]

        """.write(to: scenario, atomically: true, encoding: .utf8)

        let rendered = try cicada(["k8s", "render", scenario.path, "--shards", "3", "--start-in", "4s", "--grace", "30s", "--name", "cicada-local"])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let docs = try Yams.load_all(yaml: rendered.stdout).map { try #require($0 as? [String: Any]) }
        func object(_ kind: String, _ name: String) throws -> [String: Any] {
            try #require(docs.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }, "\(kind) \(name)")
        }
        let configMap = try object("ConfigMap", "cicada-local-scenario")
        let job = try object("Job", "cicada-local")
        let mergeJob = try object("Job", "cicada-local-merge")

        // The volumes: the ConfigMap's items at their paths, the claim as a shared folder.
        let scenarioMount = dir.appendingPathComponent("mnt-scenario"), results = dir.appendingPathComponent("mnt-results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        let pod = try #require(((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let items = try #require((volumes.first { $0["configMap"] != nil }?["configMap"] as? [String: Any])?["items"] as? [[String: String]])
        let data = (configMap["data"] as? [String: String]) ?? [:]
        for item in items {
            let path = scenarioMount.appendingPathComponent(try #require(item["path"]))
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            let key = try #require(item["key"])
            try #require(data[key]).write(to: path, atomically: true, encoding: .utf8)
        }
        let mounts = try #require(try Self.container(job)["volumeMounts"] as? [[String: Any]])
        var mountMap: [String: String] = [:]
        for m in mounts {
            let name = try #require(m["name"] as? String), path = try #require(m["mountPath"] as? String)
            mountMap[path] = name == "scenario" ? scenarioMount.path : results.path
        }
        func local(_ s: String) -> String {
            var out = s
            for (k, v) in mountMap { out = out.replacingOccurrences(of: k, with: v) }
            return out
        }

        // The Indexed Job: `completions` pods at once, each with its index.
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int)
        #expect(completions == 3 && spec["parallelism"] as? Int == 3)
        let shard = try Self.container(job)
        let command = try #require(shard["command"] as? [String])
        #expect(command.first == "cicada")
        let baseEnv = Self.env(shard)
        let pods = try (0..<completions).map { i -> RunningCicada in
            var env = baseEnv
            env["JOB_COMPLETION_INDEX"] = String(i)
            return try RunningCicada(command.dropFirst().map { local(Self.expand($0, env)) }, environment: env)
        }
        for p in pods {
            let r = p.wait(limit: 90)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let sent = target.recordedRequests.filter { $0.hasPrefix("POST /status/200") }.count
        #expect(sent > 60, "three shards at 60/s for 2 s")
        // Every prompt came from the data file the ConfigMap carried.
        #expect(target.recordedRequests.filter { $0.hasPrefix("POST /status/200") }.allSatisfy { r in ["alpha", "beta", "gamma"].contains { r.contains($0) } })

        // The merge Job: its own script, with the results folder and cicada on PATH.
        let merge = try Self.container(mergeJob)
        let mergeCommand = try #require(merge["command"] as? [String])
        #expect(mergeCommand.prefix(2) == ["/bin/sh", "-c"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", local(mergeCommand[2])]
        var env = ProcessInfo.processInfo.environment
        env.merge(Self.env(merge)) { _, new in new }
        env["PATH"] = URL(fileURLWithPath: cicadaBinary).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: results.appendingPathComponent("merged/report.json"))) as? [String: Any])
        #expect((report["totals"] as? [String: Any])?["requests"] as? Int == sent)
        #expect(FileManager.default.fileExists(atPath: results.appendingPathComponent("merged/junit.xml").path))
        #expect(FileManager.default.fileExists(atPath: results.appendingPathComponent("merged/summary.md").path))
    }
}
