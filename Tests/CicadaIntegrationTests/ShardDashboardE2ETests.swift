import Foundation
import Testing

/// `cicada dash --shards` in a real terminal (tmux): the merged dashboard with its shard table,
/// a key sent to every shard, `q` ending the dashboard and not the shards.
@Suite(.serialized) struct ShardDashboardE2ETests {
    @Test(.enabled(if: tmuxAvailable)) func theDashboardMergesTwoShardsAndFansAKeyOut() throws {
        let socket = "cicada-sharddash-\(getpid())"
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir); tmux(["-L", socket, "kill-server"]) }
        let file = dir.appendingPathComponent("users.yaml")
        try """
        name: sharded-users
        target: http://127.0.0.1:1
        users: 4
        spawn_rate: 100
        run_time: 60s
        wait_time: constant(0.05)
        telemetry: {gpu: none}
        tasks: [{name: ping, path: /health}]

        """.write(to: file, atomically: true, encoding: .utf8)
        let shards = try (0..<2).map { i in
            try RunningCicada(["run", file.path, "--local-target", "--workers", "1", "--quiet", "--shard", "\(i)/2", "--status-port", "0",
                               "--json", dir.appendingPathComponent("r\(i).json").path])
        }
        defer { for s in shards where s.process.isRunning { s.signal(SIGTERM); _ = s.wait(limit: 30) } }
        let urls = try shards.map { try $0.statusURL() }
        let command = "env -u CI TERM=screen LANG=C.UTF-8 \(cicadaBinary) dash --shards \(urls.joined(separator: " ")) --interval 500ms; echo EXITED=$?"
        tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "140", "-y", "40", "env -u CI TERM=screen LANG=C.UTF-8 bash --norc --noprofile"])
        usleep(300_000)
        tmux(["-L", socket, "send-keys", "-t", "S", command, "Enter"])

        // The dashboard: the shard table with both shards up, the merged per-task table.
        let live = waitFor(socket) { $0.contains("2 of 2 answering") && $0.contains("Aggregated") && $0.contains("ping") }
        #expect(live.contains("2 of 2 answering") && live.contains("sharded-users"), "screen:\n\(live)")
        for u in urls { #expect(live.contains(u), "screen:\n\(live)") }

        // w adds a user on every shard; each acknowledges, each records the event.
        tmux(["-L", socket, "send-keys", "-t", "S", "w"])
        let acked = waitFor(socket, timeout: 15) { $0.components(separatedBy: "ok: users +1").count == 3 }
        #expect(acked.components(separatedBy: "ok: users +1").count == 3, "screen:\n\(acked)")
        for u in urls {
            let state = json(try http("GET", u + "/live").body)
            #expect(state["user_offset"] as? Int == 1, "\(u): \(state["user_offset"] ?? "none")")
        }
        // Each shard then runs its 2 users and one more.
        let deadline = Date().addingTimeInterval(15)
        func users() -> [Int?] { urls.map { u in json((try? http("GET", u + "/live").body) ?? "")["users"] as? Int } }
        while Date() < deadline, users() != [3, 3] { usleep(200_000) }
        #expect(users() == [3, 3])

        // q ends the dashboard, not the shards.
        tmux(["-L", socket, "send-keys", "-t", "S", "q"])
        let after = waitFor(socket, timeout: 15) { $0.range(of: "EXITED=[0-9]", options: .regularExpression) != nil }
        #expect(after.contains("EXITED=0"), "screen:\n\(after)")
        #expect(shards.allSatisfy { $0.process.isRunning })
        for s in shards { s.signal(SIGTERM) }
        for (i, s) in shards.enumerated() {
            _ = s.wait(limit: 30)
            let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r\(i).json"))) as? [String: Any])
            let events = (report["events"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
            #expect(events.contains { $0.contains("control from 127.0.0.1: users +1") }, "\(events)")
        }
    }
}
