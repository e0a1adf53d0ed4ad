import CicadaCore
import Foundation
import Testing
@testable import CicadaEngine

/// The engine's token counts and answers with the shipped cicada-tiny tokenizer: the embedded
/// copy is the folder's file byte for byte, answers count back to the tokens asked for, and the
/// approximation stays as the fallback.
@Suite struct EngineTokenizerTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func folderTokenizer() throws -> BPETokenizer {
        let data = try #require(FileManager.default.contents(atPath: repoRoot.appendingPathComponent("models/cicada-tiny/tokenizer.json").path))
        return try BPETokenizer(json: Array(data))
    }

    @Test func theEmbeddedTokenizerIsTheShippedFolders() throws {
        let data = try #require(FileManager.default.contents(atPath: Self.repoRoot.appendingPathComponent("models/cicada-tiny/tokenizer.json").path))
        #expect(Array(BuiltinTokenizer.json.utf8) == Array(data), "rerun scripts/make-tokenizer.py: the embedded copy differs from models/cicada-tiny")
        #expect(BuiltinTokenizer.tokenizer != nil)
        #expect(EngineTokenizer.builtin.isExact && EngineTokenizer.builtin.name == "cicada-tiny")
        #expect(EngineConfig().tokenizer.name == "cicada-tiny")
    }

    @Test(arguments: ["say hello", "今天的天气很好", "def f(x): return x", ""])
    func answersCountBackToTheTokensAskedFor(_ input: String) throws {
        let t = EngineTokenizer.builtin
        let folder = try Self.folderTokenizer()
        for n in [1, 2, 3, 17, 256, 2048] {
            let pieces = t.answer(for: input, tokens: n)
            #expect(pieces.count == n)
            #expect(folder.count(pieces.joined()) == n, "\(n) tokens asked, text: \(pieces.prefix(8).joined())...")
            // Every piece alone is one token too (what a client counting chunk by chunk sees).
            #expect(pieces.allSatisfy { folder.count($0) == 1 })
        }
        #expect(t.answer(for: input, tokens: 40) == t.answer(for: input, tokens: 40), "identical requests, identical answers")
        #expect(t.answer(for: input, tokens: 0).isEmpty)
    }

    @Test func answersAreVariedWordsOfTheVocabulary() {
        let pieces = EngineTokenizer.builtin.answer(for: "x", tokens: 500)
        #expect(Set(pieces).count > 50, "\(Set(pieces).count) distinct words")
        #expect(!pieces[0].hasPrefix(" ") && pieces.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(EngineTokenizer.builtin.answer(for: "x", tokens: 20) != EngineTokenizer.builtin.answer(for: "y", tokens: 20))
    }

    @Test func countsWithTheTokenizerNotTheApproximation() throws {
        let folder = try Self.folderTokenizer()
        let texts = ["今天的天气很好，我们去公园散步吧。", "for (int i = 0; i < n; ++i) { sum += v[i]; }", "The quick brown fox."]
        for text in texts { #expect(EngineTokenizer.builtin.count(text) == folder.count(text)) }
        // An 17-character Chinese sentence is 5 tokens by the old rule; the tokenizer counts far more.
        #expect(EngineTokenizer.builtin.count(texts[0]) > 2 * DeviceModel.approximateTokens(texts[0]))
        #expect(EngineTokenizer.approximate.count(texts[0]) == DeviceModel.approximateTokens(texts[0]))
        #expect(!EngineTokenizer.approximate.isExact)
    }

    @Test func theApproximationAnswersWithFillerWords() {
        let pieces = EngineTokenizer.approximate.answer(for: "x", tokens: 5)
        #expect(pieces.count == 5)
        #expect(pieces.joined().split(separator: " ").count == 5)
        #expect(pieces.joined().split(separator: " ").allSatisfy { EngineTokenizer.fillerWords.contains(String($0)) })
    }

    @Test func refusesATokenizerWithNoWordsToAnswerWith() {
        let json = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}"#
        #expect(throws: BPETokenizer.LoadError(description: "its vocabulary has no lowercase ASCII words of one token to answer with")) {
            try EngineTokenizer(name: "t", json: Array(json.utf8))
        }
    }
}
