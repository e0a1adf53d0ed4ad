import Foundation
import Testing

/// Issue 12, the terminal: a SIGWINCH storm with a resize to 20x5, SIGHUP, and the terminal
/// closing under a dashboard run never leave the terminal broken, never lose the reports and
/// never crash Cicada.
///
/// The pane runs `sh` (dash here), not bash: bash's line editor resets the terminal's modes
/// before each prompt and would hide a terminal Cicada left broken. Every wait is generous and
/// nothing is timed: these run beside the other suites on a busy 2-core machine.
@Suite(.serialized) struct TerminalStormTests {
    /// One tmux server with one session `S`, its pane running a plain shell.
    final class Pane {
        let socket: String
        init(_ name: String, command: String = "env -u CI TERM=screen LANG=C.UTF-8 PS1='$ ' sh") {
            socket = "cicada-term-\(name)-\(getpid())"
            tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "120", "-y", "40", command])
            usleep(300_000)
        }
        deinit { tmux(["-L", socket, "kill-server"]) }

        func send(_ text: String) { tmux(["-L", socket, "send-keys", "-t", "S", text, "Enter"]) }
        func capture() -> String { tmux(["-L", socket, "capture-pane", "-p", "-t", "S"]) }
        /// A tmux format for the pane, e.g. `#{cursor_flag}`.
        func format(_ f: String) -> String {
            tmux(["-L", socket, "display-message", "-p", "-t", "S", f]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func resize(_ w: Int, _ h: Int) { tmux(["-L", socket, "resize-window", "-t", "S", "-x", "\(w)", "-y", "\(h)"]) }

        /// Polls the pane until `predicate` holds or `timeout` seconds pass; the last capture.
        func waitFor(timeout: Double = 60, _ predicate: (String) -> Bool) -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var screen = capture()
            while !predicate(screen) && Date() < deadline {
                usleep(200_000)
                screen = capture()
            }
            return screen
        }

        /// Runs `stty -a` in the pane (into `file` as well as on screen) and checks the terminal
        /// is sane for a shell: canonical input with echo, CR read as newline, output
        /// post-processing with NL to CR-NL, signals from keys; the typed line echoes and runs;
        /// the cursor is visible and the alternate screen left.
        func expectSaneTerminal(sttyFile: String, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let marker = "ok-\(Int.random(in: 100...999))"
            send("stty -a > \(sttyFile); stty -a; echo \(marker.dropLast(1))$((\(marker.last!)+0))")
            let screen = waitFor(timeout: 30) { $0.contains(marker) && $0.contains("speed") }
            #expect(screen.contains(marker), "\(context): the shell did not run the line:\n\(screen)", sourceLocation: sourceLocation)
            // The typed line came back: echo is on and CR ends the line.
            #expect(screen.contains("$((\(marker.last!)+0))"), "\(context): the typed line was not echoed:\n\(screen)", sourceLocation: sourceLocation)
            let stty = (try? String(contentsOfFile: sttyFile, encoding: .utf8)) ?? ""
            let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
            for flag in ["icanon", "echo", "icrnl", "opost", "onlcr", "isig"] {
                #expect(flags.contains(flag) && !flags.contains("-" + flag), "\(context): \(flag) is off:\n\(stty)", sourceLocation: sourceLocation)
            }
            #expect(format("#{cursor_flag}") == "1", "\(context): the cursor is hidden", sourceLocation: sourceLocation)
            #expect(format("#{alternate_on}") == "0", "\(context): still on the alternate screen", sourceLocation: sourceLocation)
        }
    }

    /// A scenario against the embedded engine (127.0.0.1 only) at a modest open-model rate.
    func scenario(in dir: URL, runTime: String) throws -> String {
        let path = dir.appendingPathComponent("storm.yaml").path
        try """
        name: terminal-storm
        target: embedded
        engine: {cache: {enabled: false}}
        arrival: {rate: 40}
        run_time: \(runTime)
        tasks: [{name: predict, kind: predict, prompt: "q {{uuid}}"}]
        telemetry: {gpu: none}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The pid of the one process whose command line contains `unique` (a report path), or nil.
    func pid(matching unique: String, timeout: Double = 30) -> pid_t? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let me = String(getpid())
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil && entry != me {
                guard let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
                let argv = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if argv.first?.hasSuffix("/cicada") == true, argv.contains(where: { $0.contains(unique) }) { return Int32(entry) }
            }
            usleep(100_000)
        }
        return nil
    }

    /// Whether `pid` has exited (gone, or a zombie nobody reaped yet).
    func exited(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.isEmpty || stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// Waits for `pid` to exit, at most `timeout` seconds; whether it did.
    func waitExit(_ pid: pid_t, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !exited(pid) && Date() < deadline { usleep(100_000) }
        return exited(pid)
    }

    /// The file's text once it holds a line, or "" after `timeout` seconds.
    func waitForFile(_ path: String, timeout: Double) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: path, encoding: .utf8), s.hasSuffix("\n") { return s }
            usleep(200_000)
        }
        return ""
    }

    /// The JSON report, parsed; nil (with an issue) when missing or broken.
    func report(_ path: String, _ context: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("\(context): no JSON report at \(path)")
            return nil
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            Issue.record("\(context): the JSON report does not parse (\(data.count) bytes)")
            return nil
        }
        #expect(obj["totals"] != nil && obj["latency_ms"] != nil && obj["tasks"] != nil, "\(context): the JSON report is not whole")
        return obj
    }

    /// 200 resizes in a burst (seeded random sizes: 20x5, 1x1, a few cells, anything up to
    /// 210x63) with SIGWINCHes sent straight to Cicada in between, then 20x5 and back to 120x40,
    /// all mid-run: the dashboard says the terminal is too small at 20x5 and comes back whole at
    /// 120x40, the run ends on time by itself with exit 0, the report is complete with no
    /// failed request, and the terminal is sane afterwards.
    @Test(.enabled(if: tmuxAvailable)) func aResizeStormAndA20x5ResizeMidRunLeaveTheTerminalSane() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = try scenario(in: dir, runTime: "25s")
        let json = dir.appendingPathComponent("storm.json").path
        let code = dir.appendingPathComponent("code").path
        let pane = Pane("storm")
        pane.send("\(cicadaBinary) run \(scenario) --json \(json); echo EXITED=$? > \(code)")
        let live = pane.waitFor { $0.contains("Aggregated") && $0.contains("predict") }
        try #require(live.contains("Aggregated"), "no dashboard:\n\(live)")
        let cicada = try #require(pid(matching: json))

        let seed = UInt64.random(in: 0...UInt64.max)
        var r = SplitMix(seed: seed)
        for i in 0..<200 {
            let (w, h): (Int, Int)
            switch r.next() % 6 {
            case 0: (w, h) = (20, 5)
            case 1: (w, h) = (1, 1)
            case 2: (w, h) = (1 + Int(r.next() % 10), 1 + Int(r.next() % 4))
            default: (w, h) = (10 + Int(r.next() % 200), 3 + Int(r.next() % 60))
            }
            pane.resize(w, h)
            if i % 4 == 0 { kill(cicada, SIGWINCH) }
        }
        #expect(!exited(cicada), "cicada died in the storm (seed \(seed))")

        // 20x5: a clear notice, wrapped to the width, nothing past the pane's edge. The wait is
        // for the notice drawn at 20x5 itself: a frame drawn just before, at the storm's last
        // size, can still be on the pane (cropped by tmux) when the first capture is taken.
        pane.resize(20, 5)
        let tiny = pane.waitFor(timeout: 30) { $0.contains("terminal too small:") && $0.contains("20x5, need 80x24") }
        #expect(tiny.contains("terminal too small:") && tiny.contains("20x5, need 80x24"), "at 20x5 (seed \(seed)):\n\(tiny)")
        #expect(tiny.contains("q quits"), "at 20x5:\n\(tiny)")
        #expect(pane.format("#{pane_width}x#{pane_height}") == "20x5")

        // Back to 120x40: the whole dashboard again, at the new size.
        pane.resize(120, 40)
        let back = pane.waitFor(timeout: 30) { $0.contains("Aggregated") && $0.contains("predict") && !$0.contains("too small") }
        #expect(back.contains("Aggregated") && !back.contains("too small"), "after the storm (seed \(seed)):\n\(back)")
        #expect(pane.format("#{pane_width}x#{pane_height}") == "120x40")
        #expect(back.contains("/ 25s"), "the header's clock is missing:\n\(back)")

        // The run ends by itself, on time, as it would have without the storm.
        let status = waitForFile(code, timeout: 120)
        #expect(status == "EXITED=0\n", "exit after the storm (seed \(seed)): \(status)")
        #expect(waitExit(cicada, timeout: 10))
        if let obj = report(json, "storm (seed \(seed))") {
            #expect(obj["stop_reason"] as? String == "completed", "storm (seed \(seed)): \(obj["stop_reason"] ?? "nil")")
            let totals = obj["totals"] as? [String: Any]
            #expect((totals?["requests"] as? Int ?? 0) > 0)
            #expect(totals?["failures"] as? Int == 0, "the storm cost requests (seed \(seed)): \(totals ?? [:])")
        }
        pane.expectSaneTerminal(sttyFile: dir.appendingPathComponent("stty").path, "after the storm (seed \(seed))")
    }

    /// SIGHUP mid-run (the pane still open, so the exit code and the terminal can be checked):
    /// the run stops like SIGTERM, exit 105, every report written and whole, stop_reason
    /// "interrupted", no temporary file left, and the terminal is restored.
    @Test(.enabled(if: tmuxAvailable)) func sighupMidRunStopsLikeSIGTERMAndRestoresTheTerminal() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = try scenario(in: dir, runTime: "5m")
        let p = dir.appendingPathComponent("hup").path
        let code = dir.appendingPathComponent("code").path
        let pane = Pane("hup")
        pane.send("\(cicadaBinary) run \(scenario) --json \(p).json --csv \(p) --junit \(p).xml; echo EXITED=$? > \(code)")
        let live = pane.waitFor { $0.contains("Aggregated") && $0.contains("predict") }
        try #require(live.contains("Aggregated"), "no dashboard:\n\(live)")
        let cicada = try #require(pid(matching: p + ".json"))
        usleep(500_000)
        kill(cicada, SIGHUP)

        #expect(waitExit(cicada, timeout: 60), "cicada still runs 60 s after SIGHUP")
        #expect(waitForFile(code, timeout: 30) == "EXITED=105\n")
        if let obj = report(p + ".json", "SIGHUP") {
            #expect(obj["stop_reason"] as? String == "interrupted")
        }
        let xml = (try? String(contentsOfFile: p + ".xml", encoding: .utf8)) ?? ""
        #expect(xml.hasPrefix("<?xml") && xml.hasSuffix("</testsuites>\n"), "the JUnit XML is not whole")
        for f in ["_stats.csv", "_failures.csv", "_stats_history.csv"] {
            let text = (try? String(contentsOfFile: p + f, encoding: .utf8)) ?? ""
            #expect(text.hasSuffix("\n") && text.split(separator: "\n").count >= 1, "\(f) is not whole")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".partial") || $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        pane.expectSaneTerminal(sttyFile: dir.appendingPathComponent("stty").path, "after SIGHUP")
    }

    /// The terminal itself goes away mid-run (tmux kill-session closes the pty: a dropped ssh
    /// session or a closed window). As the pane's own process Cicada is the session leader and
    /// gets SIGHUP from the kernel; typed at `sh` it is in the foreground group, which gets it
    /// too; started with `setsid` it gets no signal at all, and the dashboard finds its terminal
    /// gone. Each way Cicada exits well before its 5 minutes, the JSON report whole and
    /// `interrupted`.
    @Test(.enabled(if: tmuxAvailable), arguments: ["direct", "under sh", "setsid"])
    func closingTheTerminalMidRunStillWritesTheReports(how: String) throws {
        if how == "setsid" && !FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = try scenario(in: dir, runTime: "5m")
        let json = dir.appendingPathComponent("gone.json").path
        let run = "\(cicadaBinary) run \(scenario) --json \(json)"
        let pane = how == "direct" ? Pane("gone-direct", command: "exec env -u CI TERM=screen LANG=C.UTF-8 \(run)") : Pane("gone-sh")
        if how == "under sh" { pane.send(run) }
        if how == "setsid" { pane.send("setsid -w " + run) }
        let live = pane.waitFor { $0.contains("Aggregated") && $0.contains("predict") }
        try #require(live.contains("Aggregated"), "\(how): no dashboard:\n\(live)")
        let cicada = try #require(pid(matching: json))
        usleep(500_000)
        tmux(["-L", pane.socket, "kill-session", "-t", "S"])

        #expect(waitExit(cicada, timeout: 60), "\(how): cicada still runs 60 s after its terminal closed")
        if let obj = report(json, how) {
            #expect(obj["stop_reason"] as? String == "interrupted", "\(how): \(obj["stop_reason"] ?? "nil")")
        }
    }
}

/// The same promises without a dashboard: SIGHUP stops a headless run like SIGTERM, `nohup`
/// (SIGHUP ignored from the start) keeps it running, and stderr going away (a pipe whose reader
/// quit, a closed descriptor) never crashes Cicada nor costs the reports.
@Suite(.serialized) struct HeadlessHangUpTests {
    func scenario(in dir: URL, runTime: String) throws -> String {
        let path = dir.appendingPathComponent("s.yaml").path
        try "target: http://127.0.0.1:1\nusers: 5\nspawn_rate: 100\nrun_time: \(runTime)\nwait_time: constant(0.01)\ntasks: [{name: p, path: /health}]\ntelemetry: {gpu: none}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Waits for child `pid` at most `limit` seconds; its exit status, or nil (then kills it).
    func waitChild(_ pid: pid_t, limit: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(limit)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }

    func stopReason(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        return obj["stop_reason"] as? String
    }

    @Test func sighupStopsAHeadlessRunLikeSIGTERM() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let proc = try RunningCicada(["run", try scenario(in: dir, runTime: "5m"), "--local-target", "--json", json])
        #expect(proc.waitForStderr(containing: "cicada: running", limit: 30))
        usleep(500_000)
        proc.signal(SIGHUP)
        let done = proc.wait(limit: 60)
        #expect(done.status == 105, "exit \(done.status), stderr \(done.stderr)")
        #expect(stopReason(json) == "interrupted")
        #expect(done.stdout.contains("Aggregated"), "the summary is printed")
    }

    @Test func underNohupSIGHUPIsIgnored() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let pid = try #require(spawnProcess(["sh", "-c", "trap '' HUP; exec env CI=true \"$0\" \"$@\"", cicadaBinary, "run",
                                             try scenario(in: dir, runTime: "3s"), "--local-target", "--quiet", "--json", json]))
        usleep(1_000_000)
        kill(pid, SIGHUP)
        #expect(waitChild(pid, limit: 60) == 0, "SIGHUP stopped a run started with SIGHUP ignored")
        #expect(stopReason(json) == "completed")
    }

    @Test(arguments: ["a pipe whose reader quit", "a closed descriptor"])
    func stderrGoingAwayNeverCostsTheReports(how: String) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let code = dir.appendingPathComponent("code").path
        // Progress lines go to stderr every second: the reader takes 10 bytes and quits (EPIPE
        // after), or there is no stderr at all (EBADF).
        let script = how == "a closed descriptor"
            ? "env CI=true \"$0\" \"$@\" 2>&-; echo $? > \(code)"
            : "{ env CI=true \"$0\" \"$@\"; echo $? > \(code); } 2>&1 | head -c 10 > /dev/null"
        let pid = try #require(spawnProcess(["sh", "-c", script, cicadaBinary, "run", try scenario(in: dir, runTime: "3s"),
                                             "--local-target", "--json", json]))
        #expect(waitChild(pid, limit: 90) == 0)
        #expect((try? String(contentsOfFile: code, encoding: .utf8)) == "0\n", "\(how): cicada did not exit 0")
        #expect(stopReason(json) == "completed", "\(how): no whole JSON report")
    }
}
