import Foundation
import Testing

/// Runs tmux with the given arguments and returns its stdout (through a file, since the tmux
/// server inherits the client's descriptors and would hold a pipe open).
@discardableResult
func tmux(_ args: [String]) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-tmux-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out").path
    defer { unlink(path) }
    guard let pid = spawnProcess(["tmux"] + args, stdoutPath: path) else { return "" }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}

let tmuxAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

/// Polls the tmux pane `S` on `socket` until `predicate` holds (or `timeout` seconds pass);
/// returns the last capture.
func waitFor(_ socket: String, timeout: Double = 30, _ predicate: (String) -> Bool) -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var screen = ""
    while Date() < deadline {
        screen = tmux(["-L", socket, "capture-pane", "-p", "-t", "S"])
        if predicate(screen) { return screen }
        usleep(200_000)
    }
    return screen
}

@Suite(.serialized) struct DashboardE2ETests {
    @Test(.enabled(if: tmuxAvailable)) func liveDashboardInARealTerminal() throws {
        let socket = "cicada-e2e-\(getpid())"
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir); tmux(["-L", socket, "kill-server"]) }
        let scenario = dir.appendingPathComponent("live.yaml")
        try """
        target: http://127.0.0.1:1
        users: 10
        spawn_rate: 100
        run_time: 60s
        wait_time: constant(0.02)
        tasks: [{name: predict, path: /predict, json: {input: "x {{uuid}}"}}]
        thresholds: ["p(99)<100ms"]
        telemetry: {gpu: none}
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("live.json").path
        let command = "env -u CI TERM=screen LANG=C.UTF-8 \(cicadaBinary) run \(scenario.path) --local-target --json \(json); echo EXITED=$?"
        tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "120", "-y", "40", "env -u CI TERM=screen LANG=C.UTF-8 bash --norc --noprofile"])
        usleep(300_000)
        tmux(["-L", socket, "send-keys", "-t", "S", command, "Enter"])

        // The panels show live numbers.
        let live = waitFor(socket) { $0.contains("predict") && $0.contains("Aggregated") && $0.contains("ms") }
        #expect(live.contains("predict"), "screen:\n\(live)")
        // GPU polling is off in this scenario, so the panel says so on a machine with a GPU too.
        #expect(live.contains("no GPU telemetry"))

        // W adds 10 users.
        tmux(["-L", socket, "send-keys", "-t", "S", "W"])
        let more = waitFor(socket, timeout: 10) { $0.contains("users +10") }
        #expect(more.contains("users +10"), "screen:\n\(more)")
        #expect(waitFor(socket, timeout: 10) { $0.contains("20/20") || $0.contains("users 20") }.contains("20"))

        // e switches the load to the embedded engine: its panel and modelled memory appear.
        tmux(["-L", socket, "send-keys", "-t", "S", "e"])
        let engine = waitFor(socket, timeout: 15) { $0.contains("switched to the embedded engine") }
        #expect(engine.contains("switched to the embedded engine"), "screen:\n\(engine)")
        #expect(waitFor(socket, timeout: 15) { $0.contains("modelled") && $0.contains("preset") }.contains("preset"))

        // b cycles the engine's batching preset.
        tmux(["-L", socket, "send-keys", "-t", "S", "b"])
        let preset = waitFor(socket, timeout: 10) { $0.contains("batching preset:") }
        #expect(preset.contains("batching preset:"), "screen:\n\(preset)")

        // q ends the run: the summary is printed on a restored terminal, reports are written.
        tmux(["-L", socket, "send-keys", "-t", "S", "q"])
        let after = waitFor(socket, timeout: 30) { $0.range(of: "EXITED=[0-9]", options: .regularExpression) != nil }
        #expect(after.contains("EXITED=0") || after.contains("EXITED=99"), "screen:\n\(after)")
        #expect(after.contains("Aggregated"))
        #expect(FileManager.default.fileExists(atPath: json))
        let data = try #require(FileManager.default.contents(atPath: json))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = (obj["events"] as? [[String: Any]]) ?? []
        #expect(events.contains { ($0["detail"] as? String)?.hasPrefix("users +10") == true })
        #expect(events.contains { ($0["detail"] as? String)?.hasPrefix("batching preset:") == true })

        // The terminal is usable afterwards: typed text echoes in the shell.
        tmux(["-L", socket, "send-keys", "-t", "S", "echo READY-$((40+2))", "Enter"])
        #expect(waitFor(socket, timeout: 10) { $0.contains("READY-42") }.contains("READY-42"))
    }

    @Test(.enabled(if: tmuxAvailable)) func compareDashboardChangesOnlyTheFocusedVariant() throws {
        let socket = "cicada-e2e-cmp-\(getpid())"
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir); tmux(["-L", socket, "kill-server"]) }
        let scenario = dir.appendingPathComponent("cmp.yaml")
        try """
        target: embedded
        engine: {cache: {enabled: false}}
        arrival: {rate: 60}
        run_time: 60s
        tasks: [{name: predict, kind: predict, prompt: "q {{uuid}}"}]
        compare:
          variants: [{name: alpha, preset: seed}, {name: beta, preset: seed}]
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("cmp.json").path
        let command = "env -u CI TERM=screen LANG=C.UTF-8 \(cicadaBinary) run \(scenario.path) --json \(json); echo EXITED=$?"
        tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "120", "-y", "40", "env -u CI TERM=screen LANG=C.UTF-8 bash --norc --noprofile"])
        usleep(300_000)
        tmux(["-L", socket, "send-keys", "-t", "S", command, "Enter"])

        let live = waitFor(socket) { $0.contains("Compare") && $0.contains("alpha") && $0.contains("beta") && $0.contains("Aggregated") }
        #expect(live.contains("▶ alpha"), "screen:\n\(live)")

        // tab focuses beta; } doubles beta's max batch size only.
        tmux(["-L", socket, "send-keys", "-t", "S", "Tab"])
        #expect(waitFor(socket, timeout: 10) { $0.contains("▶ beta") }.contains("▶ beta"))
        tmux(["-L", socket, "send-keys", "-t", "S", "}"])
        let changed = waitFor(socket, timeout: 10) { $0.contains("beta: max batch size 128") }
        #expect(changed.contains("beta: max batch size 128"), "screen:\n\(changed)")
        #expect(waitFor(socket, timeout: 10) { $0.contains("max 128") }.contains("max 128"))

        tmux(["-L", socket, "send-keys", "-t", "S", "q"])
        let after = waitFor(socket, timeout: 30) { $0.range(of: "EXITED=[0-9]", options: .regularExpression) != nil }
        #expect(after.contains("EXITED=0"), "screen:\n\(after)")
        let data = try #require(FileManager.default.contents(atPath: json))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let variants = try #require(obj["variants"] as? [[String: Any]])
        func events(_ i: Int) -> [String] {
            (((variants[i]["report"] as? [String: Any])?["events"] as? [[String: Any]]) ?? []).compactMap { $0["detail"] as? String }
        }
        #expect(events(1).contains("beta: max batch size 128"))
        #expect(!events(0).contains { $0.contains("max batch size") }, "alpha's batching stayed as it was")
        #expect((variants[0]["engine"] as? [String: Any])?["preset"] as? String == "seed")
        #expect((variants[1]["engine"] as? [String: Any])?["preset"] as? String == "custom")
        tmux(["-L", socket, "send-keys", "-t", "S", "echo READY-$((40+2))", "Enter"])
        #expect(waitFor(socket, timeout: 10) { $0.contains("READY-42") }.contains("READY-42"))
    }
}
