import CicadaCore
import FuzzDriver

/// Server-sent events split at arbitrary byte boundaries (the first two bytes choose the split
/// lengths), each event classified as an OpenAI stream chunk and as an Anthropic stream event
/// and timed, as the load worker's write callback does: never a crash, whatever the server sends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    guard size >= 2 else { return 0 }
    let a = Int(data[0]) + 1, b = Int(data[1]) % 7 + 1
    let body = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    var parser = SSEParser(maxLineBytes: 4096)
    var timing = StreamTiming(sentNanos: 0)
    var anthropic = StreamTiming(sentNanos: 0, dialect: .anthropic)
    var t: UInt64 = 0
    var at = 0, turn = 0
    while at < body.count {
        let n = min(body.count - at, turn % 2 == 0 ? a : b)
        parser.feed(UnsafeRawBufferPointer(rebasing: body[at..<(at + n)])) { event in
            t += 1_000
            timing.record(OpenAIStreamChunk.classify(event.data), atNanos: t)
            anthropic.record(AnthropicStreamEvent.classify(event), atNanos: t)
        }
        at += n; turn += 1
    }
    parser.finish { event in timing.record(OpenAIStreamChunk.classify(event.data), atNanos: t + 1) }
    _ = timing.tpotNanos
    _ = timing.outputTokens
    _ = anthropic.tpotNanos
    _ = anthropic.invalidReason(bodyBytes: UInt64(size), discardedIncompleteEvent: parser.discardedIncompleteEvent)
    return 0
}

runFuzzer(fuzzSSE)
