import Testing
@testable import CicadaCore

/// "Did you mean" suggestions: the closest candidate within the edit-distance limit, the same
/// whether or not a candidate is skipped for its length.
@Suite struct SuggestTests {
    static let keys = ["temperature", "max_tokens", "prompt", "every", "interval", "kind", "model", "path"]

    @Test(arguments: [
        ("temprature", "temperature"), ("max_token", "max_tokens"), ("PROMPT", "prompt"),
        ("evry", "every"), ("mdel", "model"), ("intervals", "interval"),
    ])
    func findsTheClosestKey(_ word: String, _ expected: String) {
        #expect(Suggest.closest(word, in: Self.keys) == expected)
    }

    @Test func nothingCloseIsNoSuggestion() {
        #expect(Suggest.closest("zzzzzz", in: Self.keys) == nil)
        #expect(Suggest.closest(String(repeating: "temperature", count: 40), in: Self.keys) == nil)
        #expect(Suggest.closest("", in: Self.keys) == nil)
    }

    /// The length bound skips only what could not be within the limit: a word exactly the limit
    /// longer or shorter than a key is still matched.
    @Test func aLengthDifferenceAtTheLimitStillMatches() {
        // "abcdef": limit 2; "abcdefgh" is 2 insertions away.
        #expect(Suggest.closest("abcdef", in: ["abcdefgh"]) == "abcdefgh")
        #expect(Suggest.closest("abcdefgh", in: ["abcdef"]) == "abcdef")
        #expect(Suggest.closest("abcdef", in: ["abcdefghi"]) == nil)
        // A 30-letter word may be 10 edits from a key (a third of its length).
        let long = String(repeating: "a", count: 20) + String(repeating: "b", count: 10)
        #expect(Suggest.closest(long, in: [String(repeating: "a", count: 20)]) == String(repeating: "a", count: 20))
        #expect(Suggest.distance(Array("kitten"), Array("sitting")) == 3)
    }
}
