import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// The fault-injecting target's connection handler: it decodes requests with NIO's HTTP/1.1
/// decoder and writes every response as raw bytes (no encoder), so it can break HTTP on
/// purpose: half a status line, a body cut short, a reset, garbage.
///
/// Every request is counted when it has been read whole, before its fault is played, so the
/// target's count is the truth a client's report is checked against.
final class FaultHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let target: TestTarget
    let plan: FaultPlan
    var head: HTTPRequestHead?

    init(target: TestTarget, plan: FaultPlan) { self.target = target; self.plan = plan }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let fault = plan.fault(forRequest: target.countReceived())
            target.countFault(fault)
            play(fault, context: context, keepAlive: h.isKeepAlive)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func play(_ fault: Fault, context: ChannelHandlerContext, keepAlive: Bool) {
        let body = "{\"output\":\"ok\"}"
        switch fault {
        case .ok:
            let conn = keepAlive ? "" : "Connection: close\r\n"
            let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(conn)\r\n\(body)"
            after(target.delay(at: .now()), context) { ctx in self.write(ctx, text, then: keepAlive ? .keep : .close) }
        case .resetBeforeStatus:
            write(context, "HTTP/1.1 2", then: .reset)
        case .resetMidBody:
            write(context, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"output\":\"cut", then: .reset)
        case .closeAfterHeaders:
            write(context, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n", then: .close)
        case .truncatedChunked:
            write(context, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"output\":\"chunk\r\n", then: .close)
        case .wrongLength:
            write(context, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"output\":\"twenty\"}", then: .close)
        case .garbage:
            write(context, "\u{1}\u{2}\u{3} this is not HTTP\r\n\r\n", then: .close)
        case .stall:
            break   // the client's timeout ends it; the connection stays open until then
        case .trickle:
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(Self.buffer(context, head)), promise: nil)
            trickle(context, left: 20)
        case .bigBody:
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(FaultPlan.bigBodyBytes)\r\n\r\n"
            context.write(wrapOutboundOut(Self.buffer(context, head)), promise: nil)
            sendBody(context, left: FaultPlan.bigBodyBytes, keepAlive: keepAlive)
        case .rateLimited:
            write(context, Self.retryLater("429 Too Many Requests"), then: keepAlive ? .keep : .close)
        case .unavailable:
            write(context, Self.retryLater("503 Service Unavailable"), then: keepAlive ? .keep : .close)
        case .sseOK, .sseNoData, .sseBrokenJSON, .sseNoDone, .sseErrorEvent, .sseErrorEventTyped:
            let text = Self.eventStream(fault.sseEvents ?? [], keepAlive: keepAlive)
            after(target.delay(at: .now()), context) { ctx in self.write(ctx, text, then: keepAlive ? .keep : .close) }
        }
    }

    private enum Then { case keep, close, reset }

    /// A load-shedding answer: the status, `Retry-After: 1`, an empty JSON object.
    private static func retryLater(_ status: String) -> String {
        "HTTP/1.1 \(status)\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    }

    /// A 200 event stream: the events one HTTP chunk each, then the last chunk.
    private static func eventStream(_ events: [String], keepAlive: Bool) -> String {
        var text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
        text += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
        for e in events { text += String(e.utf8.count, radix: 16) + "\r\n" + e + "\r\n" }
        return text + "0\r\n\r\n"
    }

    /// One byte every 100 ms until `left` are sent (or the client has gone).
    private func trickle(_ context: ChannelHandlerContext, left: Int) {
        guard left > 0 else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(100)) {
            let ctx = bound.value
            guard ctx.channel.isActive else { return }
            ctx.writeAndFlush(self.wrapOutboundOut(Self.buffer(ctx, "x")), promise: nil)
            self.trickle(ctx, left: left - 1)
        }
    }

    /// Writes `left` body bytes 1 MiB at a time, each after the last was flushed to the socket,
    /// so the target never holds more than a megabyte of it.
    private func sendBody(_ context: ChannelHandlerContext, left: Int, keepAlive: Bool) {
        let n = min(left, 1 << 20)
        var buf = context.channel.allocator.buffer(capacity: n)
        buf.writeRepeatingByte(UInt8(ascii: "a"), count: n)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buf)).whenComplete { result in
            let ctx = bound.value
            guard case .success = result, ctx.channel.isActive else { return }
            if left - n > 0 {
                self.sendBody(ctx, left: left - n, keepAlive: keepAlive)
            } else if !keepAlive {
                ctx.close(promise: nil)
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ text: String, then: Then) {
        let done = context.writeAndFlush(wrapOutboundOut(Self.buffer(context, text)))
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        switch then {
        case .keep: break
        case .close: done.whenComplete { _ in bound.value.close(promise: nil) }
        case .reset:
            // SO_LINGER with a zero timeout turns close() into a TCP reset.
            done.whenComplete { _ in
                let ctx = bound.value
                if let provider = ctx.channel as? SocketOptionProvider {
                    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in bound.value.close(promise: nil) }
                } else {
                    ctx.close(promise: nil)
                }
            }
        }
    }

    private func after(_ wait: TimeAmount, _ context: ChannelHandlerContext, _ body: @escaping @Sendable (ChannelHandlerContext) -> Void) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        if wait > .zero {
            context.eventLoop.scheduleTask(in: wait) { body(bound.value) }
        } else {
            body(context)
        }
    }

    private static func buffer(_ context: ChannelHandlerContext, _ text: String) -> ByteBuffer {
        var buf = context.channel.allocator.buffer(capacity: text.utf8.count)
        buf.writeString(text)
        return buf
    }
}
