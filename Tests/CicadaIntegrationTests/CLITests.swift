import CicadaTestTarget
import Foundation
import Testing

/// The built `cicada` executable, next to the test bundle.
let cicadaBinary: String = {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    while dir.path != "/" {
        let candidate = dir.appendingPathComponent("cicada").path
        if FileManager.default.isExecutableFile(atPath: candidate), !FileManager.default.fileExists(atPath: candidate + "/Contents") { return candidate }
        dir.deleteLastPathComponent()
    }
    return "cicada"
}()

struct Finished { var status: Int32; var stdout: String; var stderr: String }

/// Runs cicada with a time limit; with `interruptOn`, once stderr shows that text (the run has
/// started: "running" or "comparing") and `after` more seconds of load have passed, sends `signal`.
func cicada(_ args: [String], interruptOn: String? = nil, after: Double = 0, signal: Int32 = SIGINT, limit: Double = 60,
            environment: [String: String] = [:]) throws -> Finished {
    let p = try RunningCicada(args, environment: environment)
    if let text = interruptOn {
        #expect(p.waitForStderr(containing: text, limit: limit), "never printed '\(text)'")
        if after > 0 { usleep(UInt32(after * 1_000_000)) }
        p.signal(signal)
    }
    return p.wait(limit: limit)
}

/// A started cicada (with `CI` set, so never a dashboard), its output collected until it exits.
final class RunningCicada {
    let process = Process()
    private let outData = Locked(Data()), errData = Locked(Data())
    private let group = DispatchGroup()

    init(_ args: [String], environment extra: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: cicadaBinary)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "true"
        env.merge(extra) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        group.enter(); DispatchQueue.global().async { [outData, group] in outData.set(out.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        // stderr is read as it comes, so a test can wait for a line (``waitForStderr``).
        group.enter()
        DispatchQueue.global().async { [errData, group] in
            let h = err.fileHandleForReading
            while true {
                let chunk = h.availableData
                if chunk.isEmpty { break }
                errData.update { $0.append(chunk) }
            }
            group.leave()
        }
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// What it has written to stderr so far.
    var stderrText: String { String(decoding: errData.get(), as: UTF8.self) }

    /// Waits until stderr contains `text` (true), or the process ended or `limit` passed (false).
    func waitForStderr(containing text: String, limit: Double) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if String(decoding: errData.get(), as: UTF8.self).contains(text) { return true }
            if !process.isRunning { return false }
            usleep(10_000)
        }
        return false
    }

    /// Waits up to `limit` seconds for the exit (then terminates it and records an issue).
    func wait(limit: Double) -> Finished {
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); Issue.record("cicada did not stop within \(limit)s") }
        process.waitUntilExit()
        group.wait()
        return Finished(status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                        stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}

final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func update(_ f: (inout T) -> Void) { lock.lock(); f(&value); lock.unlock() }
}

func tempDir() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite(.serialized) struct CLITests {
    @Test(arguments: [SIGINT, SIGTERM])
    func aStopSignalMidRunStillWritesTheReports(signal: Int32) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = dir.appendingPathComponent("s.yaml")
        try "target: http://127.0.0.1:1\nusers: 4\nspawn_rate: 100\nrun_time: 20s\nwait_time: constant(0.01)\ntasks: [{name: p, path: /health}]\n"
            .write(to: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("r.json").path
        let csv = dir.appendingPathComponent("r").path
        let r = try cicada(["run", scenario.path, "--local-target", "--json", json, "--csv", csv, "--quiet"],
                           interruptOn: "cicada: running", after: 1, signal: signal, limit: 30)
        #expect(r.status == 105, "stderr: \(r.stderr)")
        let data = try #require(FileManager.default.contents(atPath: json))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(obj["stop_reason"] as? String == "interrupted")
        let totals = try #require(obj["totals"] as? [String: Any])
        #expect((totals["requests"] as? Int ?? 0) > 10)
        #expect(FileManager.default.fileExists(atPath: csv + "_stats.csv"))
        #expect(FileManager.default.fileExists(atPath: csv + "_stats_history.csv"))
        #expect(r.stdout.contains("Aggregated"))
    }

    @Test func exitCodes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.yaml")
        try "target: http://127.0.0.1:1\nusers: 2\nspawn_rate: 100\nrun_time: 1s\ntasks: [{name: p, path: /health}]\nthresholds: ['error_rate<1%']\n"
            .write(to: good, atomically: true, encoding: .utf8)
        let pass = try cicada(["run", good.path, "--local-target", "--quiet"])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stdout.contains("error_rate<1%"))

        let fail = try cicada(["run", good.path, "--local-target", "--quiet", "--threshold", "p(99)<0.001ms"])
        #expect(fail.status == 99)

        let bad = dir.appendingPathComponent("bad.yaml")
        try "target: http://127.0.0.1:1\nuserz: 2\ntasks: [{path: /}]\n".write(to: bad, atomically: true, encoding: .utf8)
        let invalid = try cicada(["run", bad.path])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("bad.yaml:2:1: error: userz: unknown key 'userz' (did you mean 'users'?)"))
        let validate = try cicada(["validate", bad.path, good.path])
        #expect(validate.status == 2)
        #expect(validate.stdout.contains("good.yaml: ok"))

        let usage = try cicada(["run", good.path, "--rate", "5"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--rate applies to open-model"))
    }

    /// SIGINT or SIGTERM at seeded random instants, from the spawn of the first users through the
    /// drain and the report writing, sometimes twice: every report written is complete and parses,
    /// and the exit is 105 (stopped during the load) or 0 (the signal came after it ended).
    /// `bench/signal-storm.sh` runs the same check many more times for RELIABILITY.md.
    @Test func stopSignalsAtRandomInstantsNeverLeaveABrokenReport() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = dir.appendingPathComponent("s.yaml")
        try "target: http://127.0.0.1:1\nusers: 20\nspawn_rate: 40\nrun_time: 1s\nwait_time: constant(0.005)\ntasks: [{name: p, path: /health}]\nthresholds: ['error_rate<50%']\ntelemetry: {gpu: none}\n"
            .write(to: scenario, atomically: true, encoding: .utf8)
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var r = SplitMix(seed: seed)
        for i in 0..<8 {
            let p = dir.appendingPathComponent("r\(i)").path
            let proc = try RunningCicada(["run", scenario.path, "--local-target", "--quiet", "--stop-timeout", "1s",
                                          "--json", p + ".json", "--csv", p, "--junit", p + ".xml"])
            #expect(proc.waitForStderr(containing: "cicada: running", limit: 30))
            // 0..1.4 s into a 1 s run: spawning, steady, draining, or writing the reports.
            usleep(UInt32(r.next() % 1_400_000))
            let sig = r.next() % 2 == 0 ? SIGINT : SIGTERM
            proc.signal(sig)
            if r.next() % 4 == 0 { usleep(50_000); proc.signal(sig) }
            let done = proc.wait(limit: 30)
            #expect(done.status == 105 || done.status == 0, "run \(i) (seed \(seed)): exit \(done.status), stderr \(done.stderr)")
            let json = try #require(FileManager.default.contents(atPath: p + ".json"), "run \(i) (seed \(seed)): no JSON")
            let obj = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any], "run \(i): the JSON does not parse")
            #expect((obj["stop_reason"] as? String) == (done.status == 105 ? "interrupted" : "completed"), "run \(i) (seed \(seed))")
            // Whole JUnit XML: the declaration, then every element opened is closed, to the root's end.
            let xml = try String(contentsOfFile: p + ".xml", encoding: .utf8)
            #expect(xml.hasPrefix("<?xml") && xml.hasSuffix("</testsuites>\n"), "run \(i): the JUnit XML is not whole")
            for tag in ["testsuites", "testsuite", "testcase"] {
                let opened = xml.components(separatedBy: "<\(tag) ").count + xml.components(separatedBy: "<\(tag)>").count - 2
                let closed = xml.components(separatedBy: "</\(tag)>").count - 1
                let selfClosed = xml.split(separator: "\n").filter { $0.contains("<\(tag) ") && $0.hasSuffix("/>") }.count
                #expect(opened == closed + selfClosed, "run \(i): <\(tag)> opened \(opened), closed \(closed) + \(selfClosed)")
            }
            for f in ["_stats.csv", "_failures.csv", "_stats_history.csv"] {
                let text = try #require(try? String(contentsOfFile: p + f, encoding: .utf8), "run \(i): no \(f)")
                let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(text.hasSuffix("\n") && rows.count >= 2, "run \(i): \(f) is not whole")
                let columns = rows[0].split(separator: ",", omittingEmptySubsequences: false).count
                #expect(rows.dropLast().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == columns }, "run \(i): \(f) has a short row")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".partial") || $0.contains(".tmp") }
            #expect(leftovers.isEmpty, "run \(i): \(leftovers)")
        }
    }
}

/// The bearer token comes only from the environment and appears in no output: not on stdout or
/// stderr, not in any report, not in an error message, even when every request fails.
@Suite struct SecretTests {
    @Test func theBearerTokenIsInNoOutput() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = "sk-cicada-test-\(UInt64.random(in: 1...UInt64.max))"
        let scenario = dir.appendingPathComponent("s.yaml")
        try """
        target: http://127.0.0.1:1
        users: 2
        spawn_rate: 100
        run_time: 1s
        wait_time: constant(0.01)
        auth: {bearer_env: CICADA_SECRET_FOR_TEST}
        telemetry: {gpu: none}
        tasks:
          - {name: denied, path: /status/401}
          - {name: check, path: /health, checks: {json_equals: {status: "down"}}}
        thresholds: ['error_rate<1%']
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let p = dir.appendingPathComponent("r").path
        let proc = try RunningCicada(["run", scenario.path, "--local-target", "--json", p + ".json", "--csv", p, "--junit", p + ".xml",
                                      "--summary-md", p + ".md"], environment: ["CICADA_SECRET_FOR_TEST": token])
        let done = proc.wait(limit: 30)
        #expect(done.status == 99, "every request failed, so the threshold did: \(done.stderr)")
        #expect(!done.stdout.isEmpty && !done.stdout.contains(token))
        #expect(!done.stderr.contains(token))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("r") }
        #expect(files.count >= 6, "\(files)")
        for f in files {
            let text = try String(contentsOfFile: dir.appendingPathComponent(f).path, encoding: .utf8)
            #expect(!text.contains(token), "\(f) contains the token")
        }
        #expect(try String(contentsOfFile: p + ".json", encoding: .utf8).contains("HTTP 401"), "the failures are reported")
    }
}

/// A tiny seeded generator, so a failing signal instant can be replayed from the seed printed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
