import Foundation
import Testing

/// `inconsistent_outputs` in the live dashboard of a real terminal: an int8 engine (whose
/// modelled kernels are not batch-invariant) answers the probe differently, and the Diagnoses
/// panel shows the rule with its count while the run is still going; the summary printed at the
/// end says the same as the JSON report.
@Suite(.serialized) struct ConsistencyLiveE2ETests {
    @Test(.enabled(if: tmuxAvailable)) func thePanelShowsTheRuleWhileTheRunIsOn() throws {
        let socket = "cicada-e2e-consist-\(getpid())"
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir); tmux(["-L", socket, "kill-server"]) }
        let scenario = dir.appendingPathComponent("int8.yaml")
        try """
        name: consistency-live
        target: embedded
        engine: {gpu: A100-80GB, model: deepseek-coder-1.3b, precision: int8, cache: {enabled: false}}
        users: 4
        spawn_rate: 100
        run_time: 60s
        telemetry: {gpu: none}
        consistency: {interval: 500ms, prompt: "Name the first three primes.", max_tokens: 24}
        tasks: [{name: chat, kind: openai-chat, model: deepseek-coder-1.3b, prompt: "hello {{random_int 1 1000}}", max_tokens: 8, stream: false}]
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("live.json").path
        let command = "env -u CI TERM=screen LANG=C.UTF-8 \(cicadaBinary) run \(scenario.path) --json \(json); echo EXITED=$?"
        tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "160", "-y", "48", "env -u CI TERM=screen LANG=C.UTF-8 bash --norc --noprofile"])
        usleep(300_000)
        tmux(["-L", socket, "send-keys", "-t", "S", command, "Enter"])

        // The panel shows the rule, its count and where the answers part, before the run ends.
        let live = waitFor(socket, timeout: 45) { $0.contains("inconsistent_outputs: ") && $0.contains("character") }
        #expect(live.contains("Diagnoses") && live.contains("probe answers differed"), "screen:\n\(live)")
        #expect(!live.contains("EXITED="), "the rule showed only after the run:\n\(live)")

        tmux(["-L", socket, "send-keys", "-t", "S", "q"])
        let after = waitFor(socket, timeout: 30) { $0.range(of: "EXITED=[0-9]", options: .regularExpression) != nil }
        #expect(after.contains("EXITED=0"), "screen:\n\(after)")
        let data = try #require(FileManager.default.contents(atPath: json))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let d = try #require((doc["diagnoses"] as? [[String: Any]] ?? []).first { $0["rule"] as? String == "inconsistent_outputs" })
        let c = try #require(doc["consistency"] as? [String: Any])
        let differing = try #require(c["differing"] as? Int), compared = try #require(c["compared"] as? Int)
        #expect((d["symptom"] as? String ?? "").hasPrefix("\(differing) of \(compared) probe answers differed, from character"), "\(d)")
    }
}
