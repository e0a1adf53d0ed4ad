import CicadaCore
import CicadaEngine
import CicadaEngineServer
import Foundation
import Testing

/// Cicada's own BPE counter against Hugging Face's `tokenizers` (pinned in
/// scripts/client-requirements.txt, in the client venv) on the shipped models/cicada-tiny
/// tokenizer: identical counts on texts chosen to reach every branch of GPT-2's split (CJK,
/// emoji and ZWJ sequences, code, numbers, contractions in both cases, every kind of white
/// space, combining marks); and the engine's answers, read by the official `openai` package and
/// counted by `tokenizers`, equal the `usage` the engine reports. Skipped without the venv, as
/// ClientCompatTests are (and failed in CI without it).
@Suite(.serialized, .enabled(if: ClientVenv.python != nil || ClientVenv.inCI,
                             "needs the client venv: run scripts/client-venv.sh (PyPI's tokenizers, openai and anthropic into .venv-clients/)"))
struct TokenizerParityTests {
    static let tokenizerFile = ClientVenv.repoRoot + "/models/cicada-tiny/tokenizer.json"

    static let texts: [String] = [
        "Explain the difference between prefill and decode in transformer inference.",
        "今天的天气很好，我们去公园散步吧。",
        "大型语言模型的推理服务需要同时处理很多请求。",
        "最初のトークンまでの時間は、ユーザーが最初に感じる遅延です。",
        "토크나이저는 문장을 토큰으로 나눕니다.",
        "Серверу вывода нужно обрабатывать много запросов одновременно.",
        "बड़े भाषा मॉडल का अनुमान सर्वर",        // Devanagari: vowel signs are marks, not letters
        "يعالج خادم الاستدلال العديد من الطلبات",
        "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
        "Größere Stapel erhöhen den Durchsatz.",
        "café naïve façade",
        "cafe\u{301} with a combining accent",
        "🚀🔥 launch!",
        "👩‍💻 writes code; 👨‍👩‍👧‍👦 is one family; 👍🏽 has a skin tone",
        "🇫🇷🇯🇵 flags",
        "it's they're we've I'm you'll he'd don't",
        "IT'S THEY'RE WE'VE I'M YOU'LL HE'D",
        "'s 't 're 've 'm 'll 'd at the start",
        "rock'n'roll and o'clock",
        "1234567890",
        "3.14159 and 2.71828",
        "1,000,000 requests in 0.5 s at p99 = 120ms",
        "2026-12-06T05:54:47Z",
        "v1.2.3-rc.4+build.5",
        "def fibonacci(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
        "func tokens(for text: String) -> Int { text.utf8.count / 4 }",
        "for (int i = 0; i < n; ++i) {\n\tsum += values[i] * weights[i];\n}",
        "{\"model\": \"cicada-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"你好\"}]}",
        "SELECT id, name FROM users WHERE age >= 21 ORDER BY name;",
        "https://example.com/v1/chat/completions?stream=true&n=1",
        "a\n\nb",
        "a\n\n\n   b",
        "trailing spaces   ",
        "   leading spaces",
        "tabs\tand\t\ttabs",
        "windows\r\nline\r\nends",
        "no\u{00A0}break\u{00A0}space",
        "ideographic\u{3000}space\u{3000}中文",
        "   ",
        "\n",
        "!!!??? ... --- ***",
        " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "the the the the the the the the",
        "The quick brown fox jumps over the lazy dog.",
        "Summarise the causes of the 1929 stock market crash in three sentences.",
        "服务器 🚀 处理了 1234 个请求，平均延迟 56.7 毫秒 ✅",
        "Mixed 中文 and English, 日本語も, 한국어도 123.",
        "ⅫⅣ roman numerals, ½ ¾ fractions, ²³ superscripts, ١٢٣ Arabic-Indic digits",
        "x̄ ∑ ∫ ≤ ≥ ≠ ∞ → ← mathematical symbols",
        "",
    ]

    func run(_ args: [String], stdin: [String]) throws -> [String: Any] {
        let python = try #require(ClientVenv.python, "CI is set but there is no client venv at \(ClientVenv.directory): .ci/run must run scripts/client-venv.sh first")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-tokenizer-texts-\(getpid()).json")
        try JSONSerialization.data(withJSONObject: stdin).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        // ClientVenv.run gives the process no stdin: the script reads the texts from this file instead.
        let r = try ClientVenv.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"\(input.path)\"", python,
                                               ClientVenv.repoRoot + "/scripts/clients/tokenizer_check.py"] + args)
        try #require(r.status == 0, "tokenizer_check.py exited \(r.status):\n\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "not JSON: \(r.stdout)\n\(r.stderr)")
    }

    @Test func countsEqualHuggingFacesOnFiftyTexts() throws {
        let data = try #require(FileManager.default.contents(atPath: Self.tokenizerFile))
        let ours = try BPETokenizer(json: Array(data))
        let out = try run([Self.tokenizerFile], stdin: Self.texts)
        let theirs = try #require(out["counts"] as? [Int], "\(out)")
        try #require(theirs.count == Self.texts.count)
        var differ: [String] = []
        for (i, text) in Self.texts.enumerated() where ours.count(text) != theirs[i] {
            differ.append("\(text.debugDescription): Cicada \(ours.count(text)), tokenizers \(theirs[i])")
        }
        #expect(differ.isEmpty, "tokenizers \(out["tokenizers"] ?? "?") counts differently:\n\(differ.joined(separator: "\n"))")
        // The texts are not trivial: CJK text is far from 4 characters per token.
        let chinese = try #require(Self.texts.firstIndex(of: "今天的天气很好，我们去公园散步吧。"))
        #expect(theirs[chinese] > DeviceModel.approximateTokens(Self.texts[chinese]) * 2)
    }

    @Test func theEnginesAnswersCountBackToItsUsage() throws {
        let prompts = ["say hello to the load tester", "今天的天气很好，我们去公园散步吧。", "def f(x):\n    return x * 2",
                       "🚀 launch at 05:54", "Mixed 中文 and English, 日本語も, 한국어도 123.", "The quick brown fox jumps over the lazy dog."]
        let out = try withEngine(EngineConfig()) { e in try run([Self.tokenizerFile, e.baseURL], stdin: prompts) }
        let engine = try #require(out["engine"] as? [[String: Any]], "\(out)")
        try #require(engine.count == prompts.count)
        for r in engine {
            let maxTokens = try #require(r["max_tokens"] as? Int)
            let chat = r["chat_usage"] as? [String: Any] ?? [:], completion = r["completion_usage"] as? [String: Any] ?? [:]
            // One token per streamed chunk, and the text counts back to completion_tokens.
            #expect(chat["completion_tokens"] as? Int == maxTokens, "\(r)")
            #expect(r["chat_chunks"] as? Int == maxTokens, "\(r)")
            #expect(r["chat_text_tokens"] as? Int == maxTokens, "\(r)")
            #expect(completion["completion_tokens"] as? Int == maxTokens && r["completion_text_tokens"] as? Int == maxTokens, "\(r)")
            // The prompt as the engine reads it (a chat message's content and its newline) counted by tokenizers.
            #expect(chat["prompt_tokens"] as? Int == r["chat_prompt_tokens"] as? Int, "\(r)")
            #expect(completion["prompt_tokens"] as? Int == r["completion_prompt_tokens"] as? Int, "\(r)")
        }
    }
}
