import CicadaTransport
import Foundation
import Testing

/// Every HTTP/1.1 connection is a file. Past `ulimit -n`, `socket()` fails with EMFILE and
/// libcurl says "Couldn't connect to server": the client's own limit would be reported as the
/// server refusing. Cicada takes the whole hard limit at start, and refuses before any load a
/// run that still would not fit.
@Suite(.serialized) struct OpenFileLimitTests {
    /// Runs cicada under `sh -c 'ulimit ...; exec cicada ...'`.
    func cicadaUnder(_ ulimit: String, _ args: [String]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\(ulimit) && exec \"$0\" \"$@\"", cicadaBinary] + args
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "true"
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func scenario(users: Int) throws -> URL {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("fds.yaml")
        try "target: http://127.0.0.1:1\nusers: \(users)\nspawn_rate: 10000\nrun_time: 1s\ntasks: [{name: p, path: /health}]\n"
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aRunThatCannotFitIsRefusedBeforeAnyLoad() throws {
        let file = try scenario(users: 300)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        // Hard and soft limit 200: 300 users with the local target in this process need 664.
        let r = try cicadaUnder("ulimit -n 200", ["run", file.path, "--local-target", "--quiet"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("this run needs about 664 open files (300 requests in flight, each a connection with both ends in this process"), "\(r.stderr)")
        #expect(r.stderr.contains("may open only 200"))
        #expect(!r.stderr.contains("running"), "no load was started")
    }

    @Test func aLowSoftLimitIsRaisedToTheHardOne() throws {
        guard let hard = FileLimit.current().hard, hard >= 1000 else { return }
        let file = try scenario(users: 300)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let json = file.deletingLastPathComponent().appendingPathComponent("r.json")
        // Soft limit 200 only: Cicada raises it and runs 300 users without a refused connect.
        let r = try cicadaUnder("ulimit -Sn 200", ["run", file.path, "--local-target", "--quiet", "--json", json.path])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let totals = report?["totals"] as? [String: Any]
        #expect((totals?["requests"] as? Int ?? 0) > 300)
        #expect(totals?["failures"] as? Int == 0, "\(String(describing: totals))")
    }

    @Test func neededAndProblemSayWhy() {
        #expect(FileLimit.needed(concurrency: 1000, http2: false, serverInProcess: false) == 1064)
        #expect(FileLimit.needed(concurrency: 1000, http2: false, serverInProcess: true) == 2064)
        #expect(FileLimit.needed(concurrency: 1000, http2: true, serverInProcess: true) == 64)
        #expect(FileLimit.problem(needed: 1064, concurrency: 1000, serverInProcess: false, soft: 2000, hard: 2000) == nil)
        #expect(FileLimit.problem(needed: 1064, concurrency: 1000, serverInProcess: false, soft: nil, hard: nil) == nil)
        let why = FileLimit.problem(needed: 1064, concurrency: 1000, serverInProcess: false, soft: 1024, hard: 4096)
        #expect(why?.contains("may open only 1024 (ulimit -n); raise it, e.g. `ulimit -n 1064`") == true, "\(why ?? "")")
    }
}
