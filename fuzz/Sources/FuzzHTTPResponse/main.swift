import CicadaCore
import FuzzDriver

/// HTTP/1.1 responses as the fast transport reads them (the first byte chooses the split
/// length, the second whether the request was HEAD and whether the connection then closes):
/// never a crash, and the same head, body, end or failure whether the bytes come whole or split.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size >= 2 else { return 0 }
    let split = Int(data[0]) % 64 + 1
    let isHEAD = data[1] & 1 != 0, closes = data[1] & 2 != 0
    let bytes = UnsafeRawBufferPointer(start: data + 2, count: size - 2)

    /// The head, the body, and how it ended, for input cut into pieces of `piece` bytes.
    func run(piece: Int) -> (HTTPResponseParser.Head?, [UInt8], HTTPResponseParser.Progress?) {
        var p = HTTPResponseParser(requestWasHEAD: isHEAD)
        var head: HTTPResponseParser.Head?
        var body: [UInt8] = []
        var at = 0
        while at < bytes.count {
            let n = min(piece, bytes.count - at)
            let r = p.parse(UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])) { e in
                switch e {
                case .head(let h): precondition(head == nil, "two final heads"); head = h
                case .body(let b): body.append(contentsOf: b)
                }
            }
            switch r {
            case .needMore: at += n
            case .complete(let c):
                precondition(c <= n)
                return (head, body, .complete(consumed: at + c))
            case .failed: return (head, body, r)
            }
        }
        precondition(body.count <= bytes.count)
        return (head, body, closes ? p.finish() : nil)
    }
    let whole = run(piece: max(1, bytes.count))
    let cut = run(piece: split)
    precondition(whole.0 == cut.0 && whole.1 == cut.1 && whole.2 == cut.2, "split parse differs from the whole parse")
    return 0
}

runFuzzer(fuzzHTTPResponse)
