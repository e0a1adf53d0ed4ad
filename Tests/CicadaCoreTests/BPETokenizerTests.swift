import Foundation
import Testing
@testable import CicadaCore

/// The `tokenizer.json` counter, against a tiny byte-level BPE tokenizer made for this test
/// (Tests/Fixtures/tiny-tokenizer.json: merges that build "hello", then " hello" from "Ġ" and
/// "hello", and "12").
@Suite struct BPETokenizerTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-tokenizer.json").path

    static func tiny() throws -> BPETokenizer {
        let data = try #require(FileManager.default.contents(atPath: fixture))
        return try BPETokenizer(json: Array(data))
    }

    @Test(arguments: [
        ("hello", 1),                 // h e l l o -> he ll o -> hell o -> hello
        ("hello hello", 2),           // "hello", " hello" (Ġ + hello -> Ġhello)
        ("hello world", 7),           // "hello" + Ġ w o r l d: no merge applies to " world"
        ("hel", 2),                   // he l
        ("12", 1), ("123", 2),        // a digit run "123": 12 3
        ("hello!!", 3),               // "hello", "!!" (one piece of other characters: two bytes, no merge)
        ("", 0),
        ("é", 2),                     // two UTF-8 bytes, no merge
    ])
    func countsLikeByteLevelBPE(_ text: String, _ tokens: Int) throws {
        #expect(try Self.tiny().count(text) == tokens)
    }

    @Test func splitsTheWayGPT2Does() {
        #expect(BPETokenizer.pretokenize("Hello, it's  2 me!").map(String.init)
                == ["Hello", ",", " it", "'s", " ", " 2", " me", "!"])
    }

    /// GPT-2's regex, case by case: what Hugging Face's ByteLevel pre-tokenizer gives for each
    /// (TokenizerParityTests checks the counts against the real thing).
    @Test(arguments: [
        ("a\n\nb", ["a", "\n", "\n", "b"]),              // \s+(?!\S) leaves the last newline alone
        ("a\n\n\n   b", ["a", "\n\n\n  ", " b"]),        // ... but a last space goes with the word
        ("a \tb", ["a", " ", "\t", "b"]),
        ("end  ", ["end", "  "]),                        // trailing white space is one piece
        ("IT'S", ["IT", "'", "S"]),                      // contractions are lowercase only
        ("it's", ["it", "'s"]),
        ("don't", ["don", "'t"]),
        ("x'lly", ["x", "'ll", "y"]),
        (" 's", [" '", "s"]),
        ("abc123def", ["abc", "123", "def"]),
        ("½²", ["½²"]),                                  // \p{N}: other numbers too
        ("हिन्दी", ["ह", "ि", "न", "्", "द", "ी"]),            // vowel signs are marks, not \p{L}
        ("你好，世界", ["你好", "，", "世界"]),
        ("a\u{3000}b", ["a", "\u{3000}", "b"]),           // ideographic space: white space, not " "
        ("👍🏽!", ["👍🏽!"]),
    ])
    func splitsAsGPT2sRegex(_ text: String, _ pieces: [String]) {
        #expect(BPETokenizer.pretokenize(text).map(String.init) == pieces)
    }

    @Test func spaceIsTheByteAlphabetsG() {
        #expect(BPETokenizer.byteSymbols[0x20] == "Ġ")
        #expect(BPETokenizer.byteSymbols[Int(UInt8(ascii: "a"))] == "a")
        #expect(Set(BPETokenizer.byteSymbols).count == 256)
    }

    @Test func listsOneTokenWordsOfItsVocabulary() throws {
        let t = try Self.tiny()
        #expect(t.wordTokens(leadingSpace: false) == ["he", "ll", "hell", "hello"])
        #expect(t.wordTokens(leadingSpace: true) == [" hello"])
    }

    @Test func refusesWhatItCannotCount() {
        #expect(throws: BPETokenizer.LoadError(description: "not a JSON object")) { try BPETokenizer(json: Array("[1]".utf8)) }
        #expect(throws: BPETokenizer.LoadError.self) {
            try BPETokenizer(json: Array(#"{"model":{"type":"WordPiece","vocab":{}},"pre_tokenizer":{"type":"ByteLevel"}}"#.utf8))
        }
        #expect(throws: BPETokenizer.LoadError(description: "the pre_tokenizer is not ByteLevel (only byte-level BPE tokenizers are supported)")) {
            try BPETokenizer(json: Array(#"{"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}"#.utf8))
        }
        // A Sequence with a ByteLevel step (Llama 3, Qwen) is accepted.
        #expect((try? BPETokenizer(json: Array(#"{"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split"},{"type":"ByteLevel"}]}}"#.utf8))) != nil)
    }
}
