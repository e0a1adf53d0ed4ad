import CicadaCore
import FuzzDriver
import Foundation

/// The readers of what shards send: `cicada merge`'s shard artifacts (`cicada.shard/v1`, with
/// zlib-compressed HdrHistograms in base64) and `cicada dash --shards`' `/live` states
/// (`cicada.live/v1`). Any bytes are read or refused with a problem that names its key, never a
/// trap; whatever is read is then merged with a copy of itself (an artifact as two shards of a
/// run twice as wide; a `/live` state twice), so every count doubles as shards add, and turned
/// into what the reports and the dashboard show.
/// The first byte chooses: even, an artifact; odd, a `/live` state.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArtifact(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size > 0 else { return 0 }
    let json = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] % 2 == 0 {
        guard let a = try? ShardArtifact.read(json) else { return 0 }
        _ = a.runResult()
        _ = a.skewWarnings(bound: 1)
        _ = a.mergeProblem(with: a)
        // The same figures as two shards of a run twice as wide (an artifact does not merge
        // with itself: its shards would appear twice), so every count doubles in the merge.
        var wide = a
        wide.shardCount = a.shardCount * 2
        var other = wide
        other.shards = a.shards.map { var s = $0; s.index += a.shardCount; return s }
        precondition(wide.mergeProblem(with: other) == nil, "two halves of one run merge")
        if let both = try? ShardArtifact.merged([wide, other]) {
            _ = both.runResult()
            _ = both.json()
        }
    } else {
        guard let s = try? ShardLiveState.read(json) else { return 0 }
        _ = ShardLiveState.merged([s, s])
        _ = ShardLiveState.thresholdResults([s, s])
        _ = ShardLiveState.mergedEngines([s, s])
    }
    return 0
}

runFuzzer(fuzzArtifact)
