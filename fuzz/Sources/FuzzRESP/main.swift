import CicadaEngine
import FuzzDriver

/// The engine's Redis reply decoder (level-2 cache): arbitrary bytes, fed in pieces whose sizes
/// come from the first byte, must decode to values or throw a RESPError, never trap or buffer
/// past its bounds. Small bounds make the limits themselves reachable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let step = Int(bytes[0] % 16) + 1
    var decoder = RESP.Decoder(maxBulkBytes: 4096, maxArrayCount: 512, maxDepth: 8)
    decoder.maxLineBytes = 256
    var i = 1
    var values = 0
    while i < bytes.count {
        let end = min(bytes.count, i + step)
        decoder.feed(bytes[i..<end])
        i = end
        do {
            while let v = try decoder.next() {
                values += 1
                // Re-encoding a decoded bulk as a command must not trap either.
                if case .bulk(let b?) = v { _ = RESP.command([b]) }
            }
        } catch {
            return 0
        }
        precondition(decoder.buffered <= bytes.count, "the decoder holds more than it was given")
    }
    _ = values
    return 0
}
runFuzzer(fuzzRESP)
