import CicadaCore
import CicadaEngine
import FuzzDriver
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The embedded engine's request handling: bytes through SwiftNIO's HTTP/1.1 server pipeline
/// (the decoder the engine server runs), then every complete request through the engine's own
/// reader (routing, JSON bodies, numbers, batching bodies) and its admin access rule with the
/// request's headers. Half the inputs (first byte odd) are made into a well-formed request
/// around the rest of the bytes, so bodies get fuzzed as much as the framing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineRequest(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let wire: [UInt8]
    if bytes[0] & 1 == 1, size >= 2 {
        let (method, path) = routes[Int(bytes[1]) % routes.count]
        let body = bytes.dropFirst(2)
        wire = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    } else {
        wire = Array(bytes.dropFirst())
    }
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(Collect())
        try channel.writeInbound(ByteBuffer(bytes: wire))
    } catch {}
    _ = try? channel.finish()
    return 0
}

let routes: [(String, String)] = [
    ("POST", "/predict"), ("POST", "/v1/completions"), ("POST", "/v1/chat/completions"), ("PUT", "/admin/batching"),
    ("GET", "/admin/batching"), ("GET", "/health"), ("GET", "/metrics?x=1"), ("DELETE", "/predict"),
    ("POST", "/v1/messages"), ("GET", "/v1/models"), ("GET", "/v1/models/deepseek-llm-7b"), ("GET", "/version"),
]

/// Collects each request as the engine's handler does (head, body up to a cap) and reads it.
final class Collect: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(let b):
            if body.count + b.readableBytes <= 1 << 20 { body += b.readableBytesView }
        case .end:
            guard let h = head else { return }
            head = nil
            _ = h.isKeepAlive
            _ = h.headers.first(name: "content-length").flatMap(Int.init)
            do {
                let request = try EngineRequest.read(method: h.method.rawValue, uri: h.uri, body: body)
                if case .admin(let put?) = request { _ = try? EngineRequest.batching(from: put) }
                // What the handler renders from a request: bodies must stay JSON whatever the input.
                if case .model(let id) = request { checkJSON(ModelsBody.model(id: id, created: 0, maxModelLen: 1)) }
                if case .messages(let m) = request {
                    checkJSON(AnthropicBody.message(id: "msg_1", model: m.model, text: m.input, inputTokens: m.maxTokens, cachedTokens: 1, outputTokens: 1))
                }
            } catch {
                precondition((400...499).contains(error.status), "an unreadable request must be a 4xx, not \(error.status)")
                checkJSON(ErrorBody.json(status: error.status, message: error.message, shape: error.shape))
            }
            for ip in ["127.0.0.1", "192.0.2.7", "::1"] {
                _ = EngineRequest.adminRefusal(remoteIP: ip, authorization: h.headers.first(name: "authorization"), token: "k")
            }
        }
    }
}

/// A body the engine renders must parse back as JSON.
func checkJSON(_ text: String) {
    precondition(JSONValue.parse(Array(text.utf8)) != nil, "the engine rendered a body that is not JSON: \(text.prefix(200))")
}

runFuzzer(fuzzEngineRequest)
