import CicadaCore
import CicadaEngine
import CicadaEngineServer
import Foundation
import Testing

/// The real client libraries people point at an inference server, from PyPI, against the
/// engine: the official `openai` and `anthropic` packages, pinned in
/// scripts/client-requirements.txt and installed by scripts/client-venv.sh into
/// `.venv-clients/` (or the venv `CICADA_CLIENT_VENV` names). Each test runs one of
/// scripts/clients/*_check.py, which makes the calls and prints what the client read back as
/// JSON; the checks are here.
///
/// Without the venv the tests are skipped with that reason, except in CI (`CI` set), where
/// .ci/run builds it first: there a missing venv fails, so CI can never pass without having
/// run the clients.
@Suite(.serialized, .enabled(if: ClientVenv.python != nil || ClientVenv.inCI,
                             "needs the client venv: run scripts/client-venv.sh (PyPI's openai and anthropic into .venv-clients/)"))
struct ClientCompatTests {
    /// Runs a check script against a fresh engine; its JSON output.
    func check(_ script: String, config: EngineConfig = EngineConfig()) throws -> [String: Any] {
        let python = try #require(ClientVenv.python, "CI is set but there is no client venv at \(ClientVenv.directory): .ci/run must run scripts/client-venv.sh first")
        return try withEngine(config) { e in
            let r = try ClientVenv.run(python, [ClientVenv.repoRoot + "/scripts/clients/" + script, e.baseURL])
            try #require(r.status == 0, "\(script) exited \(r.status):\n\(r.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "not JSON: \(r.stdout)\n\(r.stderr)")
        }
    }

    func dict(_ v: Any?) -> [String: Any] { v as? [String: Any] ?? [:] }

    @Test func theOpenAIPackageDiscoversTheModelAndReadsUsage() throws {
        let out = try check("openai_check.py")
        let model = EngineConfig().model
        #expect(out["models"] as? [String] == [model], "\(out)")
        #expect(dict(out["model_fields"])["object"] as? String == "model")
        #expect(dict(out["model_fields"])["owned_by"] as? String == "cicada")
        #expect(out["retrieved"] as? String == model)
        // The 404 is the package's own NotFoundError, with the engine's message and type.
        let missing = dict(out["missing_model"])
        #expect(missing["status"] as? Int == 404, "\(out)")
        #expect(missing["type"] as? String == "NotFoundError")
        #expect(missing["message"] as? String == "The model `no-such-model` does not exist.")

        let c = dict(out["completion"])
        #expect(c["finish_reason"] as? String == "length" && c["model"] as? String == model)
        #expect((c["text"] as? String ?? "").split(separator: " ").count == 5)
        let cu = dict(c["usage"])
        #expect(cu["completion_tokens"] as? Int == 5)
        #expect(cu["total_tokens"] as? Int == (cu["prompt_tokens"] as? Int ?? -9) + 5)
        #expect(dict(cu["prompt_tokens_details"])["cached_tokens"] as? Int == 0)
        // The same request again is the result cache's: all its prompt tokens were cached.
        let again = dict(out["completion_again"])
        #expect(again["text"] as? String == c["text"] as? String)
        #expect(dict(dict(again["usage"])["prompt_tokens_details"])["cached_tokens"] as? Int == cu["prompt_tokens"] as? Int)

        let chat = dict(out["chat"])
        #expect(chat["role"] as? String == "assistant" && chat["finish_reason"] as? String == "length")
        #expect(dict(chat["usage"])["completion_tokens"] as? Int == 6)

        let cs = dict(out["chat_stream"])
        #expect(cs["content_chunks"] as? Int == 7, "\(cs)")
        #expect(cs["finish_reason"] as? String == "length")
        #expect(dict(cs["usage"])["completion_tokens"] as? Int == 7, "include_usage's last chunk: \(cs)")
        #expect((dict(cs["usage"])["prompt_tokens"] as? Int ?? 0) > 0)
        let ps = dict(out["completion_stream"])
        #expect(ps["pieces"] as? Int == 4 && dict(ps["usage"])["completion_tokens"] as? Int == 4, "\(ps)")

        let bad = dict(out["bad_request"])
        #expect(bad["status"] as? Int == 400, "\(out)")
        #expect(bad["type"] as? String == "BadRequestError")
        #expect((bad["message"] as? String ?? "").contains("max_tokens"))
    }

    @Test func theAnthropicPackageStreamsAndReadsUsage() throws {
        let out = try check("anthropic_check.py")
        let model = EngineConfig().model
        #expect(out["models"] as? [String] == [model], "\(out)")
        #expect(dict(out["model_fields"])["type"] as? String == "model")

        let m = dict(out["message"])
        #expect(m["type"] as? String == "message" && m["role"] as? String == "assistant" && m["model"] as? String == model, "\(m)")
        #expect(m["stop_reason"] as? String == "max_tokens")
        #expect((m["text"] as? String ?? "").split(separator: " ").count == 8)
        let mu = dict(m["usage"])
        #expect(mu["output_tokens"] as? Int == 8 && (mu["input_tokens"] as? Int ?? 0) > 0 && mu["cache_read_input_tokens"] as? Int == 0)
        // Again: the result cache answers, and Anthropic counts cached input apart.
        let again = dict(out["message_again"])
        #expect(again["text"] as? String == m["text"] as? String)
        #expect(dict(again["usage"])["input_tokens"] as? Int == 0)
        #expect(dict(again["usage"])["cache_read_input_tokens"] as? Int == mu["input_tokens"] as? Int)

        // messages.stream(): text_stream, then the accumulated final message with its usage.
        let s = dict(out["stream_helper"])
        #expect(s["pieces"] as? Int == 9, "\(s)")
        #expect(s["text"] as? String == s["final_text"] as? String)
        #expect(s["stop_reason"] as? String == "max_tokens")
        #expect(dict(s["usage"])["output_tokens"] as? Int == 9 && (dict(s["usage"])["input_tokens"] as? Int ?? 0) > 0)

        // stream=True: the raw events in Anthropic's order (the package drops pings itself).
        let raw = dict(out["raw_stream"])
        let types = raw["types"] as? [String] ?? []
        #expect(types.first == "message_start" && types.last == "message_stop", "\(types)")
        #expect(Array(types.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
        #expect(types.filter { $0 == "content_block_start" }.count == 1)
        #expect(raw["text_deltas"] as? Int == 5 && raw["output_tokens"] as? Int == 5 && (raw["input_tokens"] as? Int ?? 0) > 0)

        let bad = dict(out["bad_request"])
        #expect(bad["status"] as? Int == 400, "\(out)")
        let body = dict(bad["body"])
        #expect(body["type"] as? String == "error")
        #expect(dict(body["error"])["type"] as? String == "invalid_request_error")
        #expect((dict(body["error"])["message"] as? String ?? "").hasPrefix("max_tokens:"))
    }
}

/// Where the client venv is and how to run its python.
enum ClientVenv {
    /// The repository root (three levels above this file).
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `CICADA_CLIENT_VENV`, else `.venv-clients` in the repository.
    static let directory: String = ProcessInfo.processInfo.environment["CICADA_CLIENT_VENV"] ?? repoRoot + "/.venv-clients"

    /// The venv's python, when the venv exists.
    static let python: String? = {
        let p = directory + "/bin/python"
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }()

    /// Whether this is a CI run (`CI` set and not "false"/"0").
    static let inCI: Bool = {
        guard let v = ProcessInfo.processInfo.environment["CI"]?.lowercased() else { return false }
        return !v.isEmpty && v != "false" && v != "0"
    }()

    /// Runs a command to completion (at most `limit` seconds), stdout and stderr kept apart.
    /// The environment loses its proxy variables: the clients talk to 127.0.0.1 only.
    static func run(_ executable: String, _ args: [String], limit: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.lowercased().hasSuffix("_proxy") { env[k] = nil }
        env["NO_PROXY"] = "127.0.0.1,localhost"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(limit)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        p.waitUntilExit()
        let read = { (u: URL) in (try? String(contentsOf: u, encoding: .utf8)) ?? "" }
        return (p.terminationStatus, read(outURL), read(errURL))
    }
}
