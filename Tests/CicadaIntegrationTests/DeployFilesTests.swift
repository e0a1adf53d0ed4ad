import CicadaEngine
import Foundation
import Testing
import Yams

/// deploy/Dockerfile and deploy/k8s/ read back and checked against each other and against the
/// real `cicada serve`: the settings the manifest gives it through the environment start it, and
/// the probe paths it names answer 200 on the port it names.
@Suite(.serialized) struct DeployFilesTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOfFile: ClientVenv.repoRoot + "/" + path, encoding: .utf8)
    }

    static func documents(_ path: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: file(path)).map { try #require($0 as? [String: Any]) }
    }

    static func object(_ docs: [[String: Any]], _ kind: String, _ name: String) throws -> [String: Any] {
        try #require(docs.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }, "\(kind) \(name)")
    }

    static func container(_ deployment: [String: Any]) throws -> [String: Any] {
        let pod = try #require(((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        return try #require((pod["containers"] as? [[String: Any]])?.first)
    }

    static func env(_ container: [String: Any]) throws -> [String: String] {
        let list = try #require(container["env"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, "\($0["value"]!)") })
    }

    /// The port a probe or Service names, by number or by the container port's name.
    static func resolve(_ port: Any?, in container: [String: Any]) throws -> Int {
        if let n = port as? Int { return n }
        let name = try #require(port as? String)
        let ports = try #require(container["ports"] as? [[String: Any]])
        return try #require(ports.first { $0["name"] as? String == name }?["containerPort"] as? Int, "no container port named \(name)")
    }

    @Test func theManifestsAgreeWithEachOtherAndTheDockerfile() throws {
        let engineDocs = try Self.documents("deploy/k8s/engine.yaml")
        let deployment = try Self.object(engineDocs, "Deployment", "cicada-engine")
        let c = try Self.container(deployment)
        let env = try Self.env(c)
        let portText = try #require(env["CICADA_PORT"])
        let port = try #require(Int(portText))
        #expect(try Self.resolve("http", in: c) == port)
        let live = try #require((c["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        let ready = try #require((c["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        #expect(live["path"] as? String == "/health")
        #expect(ready["path"] as? String == "/health/ready")
        #expect(try Self.resolve(live["port"], in: c) == port && Self.resolve(ready["port"], in: c) == port)
        // The seed's resources.
        let resources = try #require(c["resources"] as? [String: Any])
        #expect((resources["requests"] as? [String: Any])?["cpu"] as? String == "4")
        #expect((resources["requests"] as? [String: Any])?["memory"] as? String == "16Gi")
        #expect((resources["limits"] as? [String: Any])?["memory"] as? String == "32Gi")
        #expect(try Self.file("deploy/k8s/engine.yaml").contains("nvidia.com/gpu: 1"))
        // The Service selects the pods and reaches the container's port.
        let service = try Self.object(engineDocs, "Service", "cicada-engine")
        let spec = try #require(service["spec"] as? [String: Any])
        let podLabels = try #require(((((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["metadata"]) as? [String: Any])?["labels"] as? [String: String])
        let selector = try #require(spec["selector"] as? [String: String])
        #expect(selector.allSatisfy { podLabels[$0.key] == $0.value })
        let sp = try #require((spec["ports"] as? [[String: Any]])?.first)
        #expect(try Self.resolve(sp["targetPort"], in: c) == port)
        // The level-2 cache URL names the Redis Service and its port.
        let redisDocs = try Self.documents("deploy/k8s/redis.yaml")
        let redisService = try Self.object(redisDocs, "Service", "cicada-redis")
        let redisPort = try #require((((redisService["spec"] as? [String: Any])?["ports"]) as? [[String: Any]])?.first?["port"] as? Int)
        #expect(env["CICADA_CACHE_L2"] == "redis://cicada-redis:\(redisPort)/0")
        let redisContainer = try Self.container(try Self.object(redisDocs, "Deployment", "cicada-redis"))
        #expect(try Self.resolve("redis", in: redisContainer) == redisPort)
        // The Dockerfile: same port and command, and the runtime libraries the binary links.
        let docker = try Self.file("deploy/Dockerfile")
        #expect(docker.contains("EXPOSE \(port)"))
        #expect(docker.contains("CICADA_PORT=\(port)"))
        #expect(docker.contains("CMD [\"serve\"]") && (c["args"] as? [String]) == ["serve"])
        #expect(docker.contains("ENTRYPOINT [\"cicada\"]"))
        for lib in ["libcurl4", "libncursesw6", "zlib1g"] { #expect(docker.contains(lib), "runtime stage lacks \(lib)") }
    }

    @Test func cicadaServeRunsFromTheManifestsEnvironmentAndAnswersItsProbes() throws {
        let c = try Self.container(try Self.object(try Self.documents("deploy/k8s/engine.yaml"), "Deployment", "cicada-engine"))
        var env = try Self.env(c)
        let port = try freePort()
        // In the test: loopback and a free port instead of 0.0.0.0:8000, and our own Redis.
        env["CICADA_HOST"] = "127.0.0.1"
        env["CICADA_PORT"] = String(port)
        let redis = FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") ? try TestRedis() : nil
        defer { redis?.stop() }
        if let redis { env["CICADA_CACHE_L2"] = redis.url } else { env["CICADA_CACHE_L2"] = nil }
        let args = try #require(c["args"] as? [String])
        let p = try RunningCicada(args + ["--duration", "30s"], environment: env)
        defer { p.signal(SIGTERM) }
        #expect(p.waitForStderr(containing: "listening on", limit: 20), "\(p.stderrText)")
        let live = try #require((c["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        let ready = try #require((c["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        for probe in [live, ready] {
            let path = try #require(probe["path"] as? String)
            #expect(try http("GET", "http://127.0.0.1:\(port)\(path)").status == 200, "\(path)")
        }
        #expect(p.stderrText.contains("A100-80GB"), "\(p.stderrText)")
        let answer = try http("POST", "http://127.0.0.1:\(port)/predict", body: #"{"input": "from the manifest"}"#)
        #expect(answer.status == 200)
        if let redis {
            #expect(p.stderrText.contains("level-2 cache redis://127.0.0.1:\(redis.port)/0"))
            #expect(RedisL2Tests.eventually { !redis.cli("GET", "ds_cache:" + MD5.hex("from the manifest")).isEmpty })
        }
    }

    @Test func aBadEnvironmentValueIsAUsageError() throws {
        let r = try cicada(["serve", "--duration", "1s"], limit: 15, environment: ["CICADA_PORT": "eighty"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("CICADA_PORT='eighty' is not a whole number"), "\(r.stderr)")
        let l2 = try cicada(["serve", "--duration", "1s", "--cache-l2", "http://x"], limit: 15)
        #expect(l2.status == 2)
        #expect(l2.stderr.contains("--cache-l2"), "\(l2.stderr)")
    }
}
