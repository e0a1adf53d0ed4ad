import Testing
@testable import CicadaCore

/// A valid SSE byte stream and how many events it holds.
struct SSEFixture: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var eventCount: Int
    var description: String { name }

    init(_ name: String, _ text: String, events: Int) {
        self.name = name
        bytes = Array(text.utf8)
        eventCount = events
    }

    static let completions = """
        data: {"id":"cmpl-1","object":"text_completion","created":1715000000,"model":"m","choices":[{"index":0,"text":"The","logprobs":null,"finish_reason":null}]}

        data: {"id":"cmpl-1","object":"text_completion","created":1715000000,"model":"m","choices":[{"index":0,"text":" capital","logprobs":null,"finish_reason":null}]}

        data: {"id":"cmpl-1","object":"text_completion","created":1715000000,"model":"m","choices":[{"index":0,"text":" is","logprobs":null,"finish_reason":"length"}]}

        data: [DONE]


        """

    static let chat = """
        data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":"stop"}]}

        data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}

        data: [DONE]


        """

    static let fields = """
        : keep-alive
        :
        event: completion
        id: 41
        data: {"choices":
        : a comment inside an event
        data: [{"text":"a"}]}

        retry: 3000
        data:no space
        data:  two spaces

        data

        event: ping

        data: last


        """

    static let unicode = """
        data: {"choices":[{"index":0,"delta":{"content":"北京是中国的首都"}}]}

        data: {"choices":[{"index":0,"delta":{"content":"😀👩‍👩‍👧 é"}}]}

        data: {"choices":[{"index":0,"delta":{"content":"\\ud83d\\ude00"}}]}

        data: 日本語
        data: 한국어


        """

    static let all: [SSEFixture] = [
        SSEFixture("completions", completions, events: 4),
        SSEFixture("chat with role-only first chunk and usage-only final chunk", chat, events: 5),
        SSEFixture("chat with CRLF endings", chat.replacingLF(with: "\r\n"), events: 5),
        SSEFixture("chat with CR endings", chat.replacingLF(with: "\r"), events: 5),
        SSEFixture("comments, event, id, multi-line data", fields, events: 4),
        SSEFixture("mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n: x\rdata: d\r\r", events: 2),
        SSEFixture("in-stream error after a 200", """
            data: {"choices":[{"index":0,"text":"par","finish_reason":null}]}

            data: {"error":{"object":"error","message":"KV cache exhausted","type":"InternalServerError","param":null,"code":500}}

            data: [DONE]


            """, events: 3),
        SSEFixture("unicode content: emoji, CJK, escapes", unicode, events: 4),
        SSEFixture("BOM at stream start", "\u{FEFF}data: x\n\n: c\ndata: y\r\n\r\n", events: 2),
    ]
}

extension String {
    fileprivate func replacingLF(with ending: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ending)
    }
}

/// Feeds the chunks in order, then ends the stream.
func sseEvents(_ chunks: [ArraySlice<UInt8>], maxLineBytes: Int = SSEParser.defaultMaxLineBytes) -> (events: [SSEEvent], parser: SSEParser) {
    var parser = SSEParser(maxLineBytes: maxLineBytes)
    var events: [SSEEvent] = []
    for chunk in chunks {
        chunk.withUnsafeBytes { parser.feed($0) { events.append($0) } }
    }
    parser.finish { events.append($0) }
    return (events, parser)
}

func sseEvents(_ text: String, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) -> (events: [SSEEvent], parser: SSEParser) {
    sseEvents([Array(text.utf8)[...]], maxLineBytes: maxLineBytes)
}

func sseEvents(chunks: [String]) -> [SSEEvent] {
    sseEvents(chunks.map { Array($0.utf8)[...] }).events
}

@Suite struct SSEParserTests {
    @Test(arguments: SSEFixture.all)
    func everyTwoWaySplitGivesTheSameEvents(_ fixture: SSEFixture) {
        let whole = sseEvents([fixture.bytes[...]])
        #expect(whole.events.count == fixture.eventCount)
        #expect(!whole.parser.discardedIncompleteEvent)
        let b = fixture.bytes
        for k in 0...b.count {
            let split = sseEvents([b[0..<k], b[k...]]).events
            #expect(split == whole.events, "split at byte \(k)")
            if split != whole.events { return }
        }
    }

    @Test(arguments: SSEFixture.all)
    func randomSplitsGiveTheSameEvents(_ fixture: SSEFixture) {
        let whole = sseEvents([fixture.bytes[...]]).events
        let b = fixture.bytes
        var rng = SeededRandom(seed: 0x55E, stream: UInt64(b.count))
        for trial in 0..<300 {
            let maxChunks = min(b.count, trial % 3 == 0 ? b.count : 24)
            let chunkCount = 1 + Int(rng.next() % UInt64(maxChunks))
            var cuts = Set<Int>()
            while cuts.count < chunkCount - 1 { cuts.insert(1 + Int(rng.next() % UInt64(b.count - 1))) }
            let bounds = [0] + cuts.sorted() + [b.count]
            let chunks = zip(bounds, bounds.dropFirst()).map { b[$0..<$1] }
            let split = sseEvents(chunks).events
            #expect(split == whole, "trial \(trial), cuts \(bounds)")
            if split != whole { return }
        }
    }

    @Test func byteAtATimeGivesTheSameEvents() {
        for fixture in SSEFixture.all {
            let whole = sseEvents([fixture.bytes[...]]).events
            let bytes = sseEvents(fixture.bytes.indices.map { fixture.bytes[$0...$0] }).events
            #expect(bytes == whole, "\(fixture.name)")
        }
    }

    @Test func wholeStreamEventsAreTheExpectedOnes() {
        let (events, _) = sseEvents(SSEFixture.fields)
        #expect(events == [
            SSEEvent(event: "completion", data: "{\"choices\":\n[{\"text\":\"a\"}]}", id: "41"),
            SSEEvent(data: "no space\n two spaces", id: "41"),
            SSEEvent(data: "", id: "41"),
            SSEEvent(data: "last", id: "41"),
        ])
        let chat = sseEvents(SSEFixture.chat).events
        #expect(chat.count == 5)
        #expect(chat.allSatisfy { $0.event == nil && $0.id == nil })
        #expect(chat.last?.data == "[DONE]")
        let unicode = sseEvents(SSEFixture.unicode).events.map(\.data)
        #expect(unicode.first == #"{"choices":[{"index":0,"delta":{"content":"北京是中国的首都"}}]}"#)
        #expect(unicode.last == "日本語\n한국어")
    }

    @Test func crlfSplitAcrossChunksIsOneLineEnding() {
        // Were the LF after a chunk-final CR a second line ending, "a" would be dispatched alone.
        #expect(sseEvents(chunks: ["data: a\r", "\ndata: b\r", "\n\r", "\n"]) == [SSEEvent(data: "a\nb")])
        #expect(sseEvents(chunks: ["data: a\r", "", "\n", "data: b\r\n\r\n"]) == [SSEEvent(data: "a\nb")])
        // A lone CR is a line ending by itself when no LF follows.
        #expect(sseEvents(chunks: ["data: a\r", "data: b\r", "\r"]) == [SSEEvent(data: "a\nb")])
        // CR then LF in the next chunk, then another LF: that LF is the blank line.
        #expect(sseEvents(chunks: ["data: a\r", "\n", "\n"]) == [SSEEvent(data: "a")])
        // CR CR: two line endings.
        #expect(sseEvents(chunks: ["data: a\r", "\r"]) == [SSEEvent(data: "a")])
    }

    @Test func byteOrderMarkIsSkippedOnlyAtStreamStart() {
        #expect(sseEvents("\u{FEFF}data: x\n\n").events == [SSEEvent(data: "x")])
        #expect(sseEvents(chunks: ["\u{FEFF}: c\n", "data: y\n\n"]) == [SSEEvent(data: "y")])
        // A BOM split byte by byte across chunks.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let rest = Array("data: z\n\n".utf8)
        #expect(sseEvents([bom[0..<1], bom[1..<2], bom[2..<3], rest[...]]).events == [SSEEvent(data: "z")])
        // A BOM on its own first line is an empty line.
        #expect(sseEvents("\u{FEFF}\ndata: w\n\n").events == [SSEEvent(data: "w")])
        // Later, a BOM is part of the field name, which is then unknown.
        #expect(sseEvents("data: a\n\n\u{FEFF}data: b\n\n").events == [SSEEvent(data: "a")])
    }

    @Test func commentsAreIgnoredAndNeverDispatch() {
        #expect(sseEvents(": ping\n\n:\n\n").events.isEmpty)
        #expect(sseEvents("data: a\n: note\ndata: b\n\n").events == [SSEEvent(data: "a\nb")])
    }

    @Test func fieldWithoutColonHasAnEmptyValue() {
        // "data" alone appends an empty line, so the event is dispatched with empty data (spec).
        #expect(sseEvents("data\n\n").events == [SSEEvent(data: "")])
        #expect(sseEvents("data\ndata\n\n").events == [SSEEvent(data: "\n")])
        #expect(sseEvents("event: x\nevent\ndata: y\n\n").events == [SSEEvent(data: "y")])
        #expect(sseEvents("foo\nbar: baz\ndata: y\n\n").events == [SSEEvent(data: "y")])
    }

    @Test func oneSpaceAfterTheColonIsStripped() {
        #expect(sseEvents("data:x\n\n").events == [SSEEvent(data: "x")])
        #expect(sseEvents("data: x\n\n").events == [SSEEvent(data: "x")])
        #expect(sseEvents("data:  x \n\n").events == [SSEEvent(data: " x ")])
        #expect(sseEvents("data:\n\n").events == [SSEEvent(data: "")])
        #expect(sseEvents("data: a:b\n\n").events == [SSEEvent(data: "a:b")])
    }

    @Test func eventWithEmptyDataBufferIsNotDispatched() {
        #expect(sseEvents("event: ping\n\n").events.isEmpty)
        #expect(sseEvents("id: 3\n\n\n\n").events.isEmpty)
        // The event type does not leak into the next event.
        #expect(sseEvents("event: ping\n\ndata: x\n\n").events == [SSEEvent(data: "x")])
    }

    @Test func lastEventIDPersistsUntilChanged() {
        let events = sseEvents("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\u{0}\ndata: d\n\n").events
        #expect(events.map(\.id) == ["1", "1", nil, nil])
    }

    @Test func multiByteCharactersSplitAnywhereDecode() {
        let text = "data: 😀 中文 é\n\n"
        let b = Array(text.utf8)
        for k in 0...b.count {
            for m in k...b.count {
                #expect(sseEvents([b[0..<k], b[k..<m], b[m...]]).events == [SSEEvent(data: "😀 中文 é")])
            }
        }
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        let b: [UInt8] = Array("data: a".utf8) + [0xFF, 0xC3] + Array("\n\n".utf8)
        #expect(sseEvents([b[...]]).events == [SSEEvent(data: "a\u{FFFD}\u{FFFD}")])
    }

    @Test func oversizedLineIsDroppedWithItsEvent() {
        let (events, parser) = sseEvents("data: ok1\n\ndata: 0123456789abcdefXYZ\ndata: x\n\ndata: ok2\n\n", maxLineBytes: 16)
        #expect(events == [SSEEvent(data: "ok1"), SSEEvent(data: "ok2")])
        #expect(parser.oversizedLines == 1)
        #expect(parser.droppedEvents == 1)
        #expect(!parser.discardedIncompleteEvent)
    }

    @Test func oversizedLineAcrossManyChunksIsCountedOnce() {
        let long = "data: " + String(repeating: "x", count: 100)
        let chunks = Array(long.utf8).chunked(7) + [Array("\n\ndata: fine\n\n".utf8)[...]]
        let (events, parser) = sseEvents(chunks, maxLineBytes: 32)
        #expect(events == [SSEEvent(data: "fine")])
        #expect(parser.oversizedLines == 1)
        #expect(parser.droppedEvents == 1)
    }

    @Test func exactlyMaxLineBytesIsKept() {
        let (events, parser) = sseEvents("data: 0123456789\n\n", maxLineBytes: 16)
        #expect(events == [SSEEvent(data: "0123456789")])
        #expect(parser.oversizedLines == 0)
    }

    @Test func longCommentsAreNotBufferedNorCounted() {
        let padding = ":" + String(repeating: " ", count: 2048) + "\n"
        let (events, parser) = sseEvents(padding + "data: x\n\n", maxLineBytes: 16)
        #expect(events == [SSEEvent(data: "x")])
        #expect(parser.oversizedLines == 0)
    }

    @Test func eventDataOverTheBoundIsDropped() {
        let lines = String(repeating: "data: 0123456\n", count: 5)
        let (events, parser) = sseEvents(lines + "\ndata: next\n\n", maxLineBytes: 16)
        #expect(events == [SSEEvent(data: "next")])
        #expect(parser.oversizedLines == 0)
        #expect(parser.droppedEvents == 1)
    }

    @Test(arguments: [
        ("data: a\n\ndata: b", true),
        ("data: a\n\ndata: b\n", true),
        ("data: a\n\ndata", true),
        ("data: a\n\ndata: b\r", true),
        ("data: a\n\n: trailing comment", false),
        ("data: a\n\nevent: x\n", false),
        ("data: a\n\n", false),
        ("data: a\r\r", false),
    ])
    func incompleteFinalEventIsDiscardedAndRecorded(_ text: String, discarded: Bool) {
        let (events, parser) = sseEvents(text)
        #expect(events == [SSEEvent(data: "a")])
        #expect(parser.discardedIncompleteEvent == discarded)
    }

    @Test func finishStartsANewStreamAndResetClearsCounters() {
        var parser = SSEParser(maxLineBytes: 16)
        var events: [SSEEvent] = []
        parser.feed(Array("id: 9\ndata: 0123456789abcdefg\n\ndata: cut".utf8)) { events.append($0) }
        parser.finish { events.append($0) }
        #expect(parser.discardedIncompleteEvent && parser.oversizedLines == 1 && parser.droppedEvents == 1)
        parser.feed(Array("\u{FEFF}data: again\n\n".utf8)) { events.append($0) }
        #expect(events == [SSEEvent(data: "again")])
        parser.reset()
        #expect(!parser.discardedIncompleteEvent && parser.oversizedLines == 0 && parser.droppedEvents == 0)
    }
}

extension Array where Element == UInt8 {
    fileprivate func chunked(_ size: Int) -> [ArraySlice<UInt8>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
