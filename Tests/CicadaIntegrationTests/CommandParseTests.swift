import ArgumentParser
import CicadaSession
import Foundation
import Testing
@testable import cicada

/// Every subcommand's flags, parsed without running anything.
@Suite struct CommandParseTests {
    @Test func runFlagsBecomeTheSessionRequest() throws {
        let run = try Run.parse(["s.yaml", "-u", "5", "-r", "2.5", "-t", "90s", "--rate", "7", "--target", "http://127.0.0.1:9", "--seed", "3",
                                 "--threshold", "p(99)<1s", "--threshold", "error_rate<1%", "--workers", "2", "--window", "60", "--stop-timeout", "2s",
                                 "--http2", "--insecure", "--local-target", "--local-latency", "5", "--json", "r.json", "--csv", "r",
                                 "--csv-full-history", "--junit", "r.xml", "--summary-md", "r.md", "--quiet", "--plain", "--headless"])
        #expect(run.headless)
        let r = try run.request()
        #expect(r.file == "s.yaml")
        #expect(r.overrides.users == 5 && r.overrides.spawnRate == 2.5 && r.overrides.runTime == .seconds(90) && r.overrides.rate == 7)
        #expect(r.overrides.target == "http://127.0.0.1:9" && r.overrides.seed == 3 && r.overrides.http2 == true && r.overrides.insecure == true)
        #expect(r.extraThresholds == ["p(99)<1s", "error_rate<1%"])
        #expect(r.workers == 2 && r.windowSeconds == 60 && r.stopTimeout == .seconds(2))
        #expect(r.localTargetServiceTime == .milliseconds(5), "a bare number is milliseconds")
        #expect(!r.startEngine && r.plain && !r.progress)
        #expect(r.reports == ReportRequest(json: "r.json", csvPrefix: "r", csvFullHistory: true, junit: "r.xml", markdown: "r.md"))
    }

    @Test func runDefaults() throws {
        let r = try Run.parse(["s.yaml"]).request()
        #expect(r.overrides.users == nil && r.overrides.http2 == nil && r.overrides.insecure == nil && r.overrides.runTime == nil)
        #expect(r.workers == nil && r.windowSeconds == 10 && r.stopTimeout == .seconds(10))
        #expect(r.localTargetServiceTime == nil && !r.startEngine && r.progress && !r.plain)
        #expect(r.reports == ReportRequest())
        #expect(try Run.parse(["s.yaml", "--engine"]).request().startEngine)
    }

    @Test(arguments: [
        (["s.yaml", "-t", "soon"], "--run-time 'soon' is not a duration (e.g. 90s, 5m, 1h30m)"),
        (["s.yaml", "--stop-timeout", "x"], "--stop-timeout 'x' is not a duration"),
        (["s.yaml", "--local-latency", "y"], "--local-latency 'y' is not a duration"),
    ])
    func runRejectsDurationsThatDoNotParse(args: [String], message: String) throws {
        let run = try Run.parse(args)
        let e = #expect(throws: SessionError.self) { try run.request() }
        #expect(e == .usage(message))
    }

    @Test func transportFlag() throws {
        #expect(try Run.parse(["s.yaml", "--transport", "fast"]).request().overrides.transport == .fast)
        #expect(try Run.parse(["s.yaml", "--transport", "curl"]).request().overrides.transport == .curl)
        #expect(try Run.parse(["s.yaml"]).request().overrides.transport == nil)
        let e = #expect(throws: SessionError.self) { try Run.parse(["s.yaml", "--transport", "nio"]).request() }
        #expect(e == .usage("--transport 'nio' is not one of curl, fast, auto"))
    }

    @Test func runNeedsAFileAndKnownFlags() {
        #expect(throws: (any Error).self) { try Run.parse([]) }
        #expect(throws: (any Error).self) { try Run.parse(["s.yaml", "--users", "many"]) }
        #expect(throws: (any Error).self) { try Run.parse(["s.yaml", "--no-such-flag"]) }
    }

    @Test func sweepFlags() throws {
        let s = try Sweep.parse(["s.yaml", "--workers", "3", "--json", "s.json", "--csv", "s.csv"])
        #expect(s.file == "s.yaml" && s.workers == 3 && s.json == "s.json" && s.csv == "s.csv")
        let d = try Sweep.parse(["s.yaml"])
        #expect(d.workers == 1 && d.json == nil && d.csv == nil)
        #expect(try Sweep.parse(["s.yaml", "--headless"]).headless && !d.headless)
    }

    @Test func serveFlags() throws {
        let s = try Serve.parse(["--config", "e.yaml", "--host", "0.0.0.0", "--port", "0", "--gpu", "A10", "--model", "deepseek-llm-7b",
                                 "--precision", "int8", "--batching", "throughput", "--admin-token-env", "TOKEN", "--threads", "2", "--duration", "5s"])
        #expect(s.config == "e.yaml" && s.host == "0.0.0.0" && s.port == 0 && s.gpu == "A10" && s.model == "deepseek-llm-7b")
        #expect(s.precision == "int8" && s.batching == "throughput" && s.adminTokenEnv == "TOKEN" && s.threads == 2 && s.duration == "5s")
        let d = try Serve.parse([])
        #expect(d.config == nil && d.host == nil && d.port == nil && d.threads == 1 && d.duration == nil)
        // Unset, the engine listens on loopback; a flag wins over the environment.
        #expect(try Serve.address(host: nil, port: nil, environment: [:]) == ("127.0.0.1", 8000))
        #expect(try Serve.address(host: nil, port: nil, environment: ["CICADA_HOST": "0.0.0.0", "CICADA_PORT": "9000"]) == ("0.0.0.0", 9000))
        #expect(try Serve.address(host: "127.0.0.1", port: 1, environment: ["CICADA_HOST": "0.0.0.0", "CICADA_PORT": "9000"]) == ("127.0.0.1", 1))
        #expect(throws: SessionError.self) { try Serve.address(host: nil, port: nil, environment: ["CICADA_PORT": "x"]) }
    }

    @Test func targetFlags() throws {
        let t = try Target.parse(["--host", "127.0.0.1", "--port", "0", "--latency", "2ms", "--stall-every", "5s", "--stall-for", "500ms",
                                  "--threads", "2", "--duration", "1s", "--http2"])
        #expect(t.port == 0 && t.latency == "2ms" && t.stallEvery == "5s" && t.stallFor == "500ms" && t.threads == 2 && t.duration == "1s" && t.http2)
        let d = try Target.parse([])
        #expect(d.host == "127.0.0.1" && d.port == 8000 && d.latency == "0ms" && d.stallEvery == nil && d.stallFor == "0ms" && !d.http2)
    }

    @Test func validateTakesFiles() throws {
        #expect(try Validate.parse(["a.yaml", "b.yaml"]).files == ["a.yaml", "b.yaml"])
    }

    @Test func theRootDispatchesEverySubcommand() throws {
        #expect(try Cicada.parseAsRoot(["run", "s.yaml"]) is Run)
        #expect(try Cicada.parseAsRoot(["validate", "s.yaml"]) is Validate)
        #expect(try Cicada.parseAsRoot(["serve"]) is Serve)
        #expect(try Cicada.parseAsRoot(["sweep", "s.yaml"]) is Sweep)
        #expect(try Cicada.parseAsRoot(["target"]) is Target)
    }

    @Test func durationLimitsParseOrAreUsageErrors() throws {
        #expect(try parseLimit(nil) == nil)
        #expect(try parseLimit("1500ms") == .milliseconds(1500))
        #expect(throws: ValidationError.self) { try parseLimit("later") }
    }
}
