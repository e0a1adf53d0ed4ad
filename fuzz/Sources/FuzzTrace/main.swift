import CicadaCore
import FuzzDriver

/// Trace replay files (`arrival: {trace: FILE}`, Mooncake or plain JSONL): any bytes parse to
/// entries or line errors, never a trap; every accepted entry's arrival offset, prompt and
/// max_tokens can be made (prompts capped small, as the reader caps lines and blocks).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrace(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (entries, errors) = ArrivalTrace.parse(text)
    for e in errors { precondition(e.line >= 1, "line numbers start at 1") }
    // Small blocks keep a fuzzed input's prompt small whatever its token counts say.
    let trace = ArrivalTrace(entries: entries.filter { ($0.inputTokens ?? 0) <= 4096 && $0.hashIDs.count <= 64 },
                             timeScale: Double(data[0] % 4 + 1) / 2, blockTokens: 8)
    var cache = BlockCache(maxBytes: 1 << 16)
    var last: UInt64 = 0
    for k in 0..<UInt64(min(trace.entries.count, 64)) {
        if let at = trace.offsetNanos(k) {
            precondition(at >= last, "trace offsets never go back")
            last = at
        }
        _ = trace.prompt(k, seed: 1, cache: &cache)
        _ = trace.maxTokens(k)
    }
    return 0
}

runFuzzer(fuzzTrace)
