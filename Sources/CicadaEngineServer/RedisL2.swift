import CicadaEngine
import NIOCore
import NIOPosix

/// The engine's level-2 cache: a small Redis client (RESP2 over one SwiftNIO connection on the
/// engine's own event loop) that only ever GETs and SETEXes cached answers.
///
/// It never fails a request: a Redis that is down, slow or answering nonsense makes a lookup a
/// miss, counted in ``Counters/errors``. Commands are pipelined on one connection and replies
/// matched in order; a lookup that outlives `timeout` is answered as a miss at once while its
/// slot stays in line, so a late reply is read and dropped instead of answering the wrong
/// lookup. Confined to `loop`: every method must be called there.
final class RedisL2: @unchecked Sendable {
    /// What the level 2 did, for `/metrics` and the summary.
    struct Counters: Sendable, Equatable {
        var hits: UInt64 = 0
        var misses: UInt64 = 0
        /// Lookups or writes that failed: no connection, timeout, an error reply, a broken stream.
        var errors: UInt64 = 0
        var writes: UInt64 = 0
        /// Whether the connection is up now.
        var connected = false
    }

    let config: RedisL2Config
    let loop: EventLoop
    private(set) var counters = Counters() { didSet { changed?() } }
    /// Called on `loop` after the counters change (the engine republishes its figures).
    var changed: (() -> Void)?
    private var channel: Channel?
    private var connecting = false
    private var lastFailureNanos: UInt64?
    /// Replies owed by Redis, in order; a nil callback is a slot whose caller gave up (timeout).
    private var waiting: [Slot] = []
    private var waitingStart = 0
    /// Commands written while the connection is being made.
    private var unsent: [[UInt8]] = []
    /// Most replies owed at once; past it a lookup is a miss at once (Redis is not keeping up).
    static let maxWaiting = 10_000
    /// After a failed connection, how long before the next try.
    static let reconnectNanos: UInt64 = 1_000_000_000

    final class Slot: @unchecked Sendable {  // touched only on the client's event loop
        var callback: ((RESPValue?) -> Void)?
        var timer: Scheduled<Void>?
        init(_ callback: ((RESPValue?) -> Void)?) { self.callback = callback }
    }

    init(config: RedisL2Config, loop: EventLoop) {
        self.config = config
        self.loop = loop
    }

    /// Looks `key` up; `done` gets the cached answer or nil (a miss, or an error counted as one).
    func get(_ key: String, _ done: @escaping (String?) -> Void) {
        send(RESP.command("GET", key), timeout: true) { [weak self] reply in
            guard let self else { return done(nil) }
            switch reply {
            case .bulk(let bytes?)?:
                self.counters.hits += 1
                done(String(decoding: bytes, as: UTF8.self))
            case .bulk(nil)?:
                self.counters.misses += 1
                done(nil)
            default:
                self.counters.misses += 1
                self.counters.errors += 1
                done(nil)
            }
        }
    }

    /// Stores an answer with the configured TTL (`SETEX`); a failure is counted, never raised.
    func put(_ key: String, _ value: String) {
        let seconds = max(1, Int(config.ttl.components.seconds))
        send(RESP.command([Array("SETEX".utf8), Array(key.utf8), Array(String(seconds).utf8), Array(value.utf8)]), timeout: false) { [weak self] reply in
            guard let self else { return }
            if case .simple("OK")? = reply { self.counters.writes += 1 } else { self.counters.errors += 1 }
        }
    }

    /// Closes the connection; owed replies are answered as misses.
    func close() {
        channel?.close(promise: nil)
        channel = nil
        failWaiting()
    }

    private var owed: Int { waiting.count - waitingStart }

    private func send(_ command: [UInt8], timeout: Bool, _ reply: @escaping (RESPValue?) -> Void) {
        loop.preconditionInEventLoop()
        guard owed < Self.maxWaiting else { counters.errors += 1; return reply(nil) }
        if channel == nil {
            if !connecting {
                if let f = lastFailureNanos, NIODeadline.now().uptimeNanoseconds - f < Self.reconnectNanos {
                    counters.errors += 1
                    return reply(nil)
                }
                connect()
            }
            unsent.append(command)
        } else {
            write(command)
        }
        let slot = Slot(reply)
        if timeout {
            slot.timer = loop.scheduleTask(in: .nanoseconds(Int64(clamping: config.timeout.nanos))) { [weak self, weak slot] in
                guard let self, let slot, let cb = slot.callback else { return }
                slot.callback = nil
                self.counters.errors += 1
                cb(nil)
            }
        }
        waiting.append(slot)
    }

    private func write(_ command: [UInt8]) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: command.count)
        buffer.writeBytes(command)
        channel.writeAndFlush(buffer, promise: nil)
    }

    private func connect() {
        connecting = true
        // The handshake goes first: AUTH and SELECT replies are owed like any other.
        var handshake: [[UInt8]] = []
        if let password = config.password {
            handshake.append(config.username.map { RESP.command("AUTH", $0, password) } ?? RESP.command("AUTH", password))
        }
        if config.database != 0 { handshake.append(RESP.command("SELECT", String(config.database))) }
        for h in handshake.reversed() {
            unsent.insert(h, at: 0)
            let slot = Slot { [weak self] reply in
                if case .error? = reply { self?.counters.errors += 1; self?.close() }
            }
            waiting.insert(slot, at: waitingStart)
        }
        let connectTimeout = TimeAmount.nanoseconds(Int64(clamping: max(config.timeout.nanos, 100_000_000)))
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [weak self] ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(RESPReplyHandler(owner: self))
                }
            }
            .connect(host: config.host, port: config.port)
            .whenComplete { [weak self] result in
                guard let self else { return }
                self.connecting = false
                switch result {
                case .success(let ch):
                    self.channel = ch
                    self.counters.connected = true
                    let pending = self.unsent
                    self.unsent = []
                    for c in pending { self.write(c) }
                case .failure:
                    self.lastFailureNanos = NIODeadline.now().uptimeNanoseconds
                    self.unsent = []
                    self.failWaiting()
                }
            }
    }

    /// A reply arrived: it answers the oldest owed slot.
    fileprivate func received(_ value: RESPValue) {
        guard waitingStart < waiting.count else { counters.errors += 1; return }
        let slot = waiting[waitingStart]
        waitingStart += 1
        if waitingStart > 1024, waitingStart * 2 > waiting.count { waiting.removeFirst(waitingStart); waitingStart = 0 }
        slot.timer?.cancel()
        if let cb = slot.callback { slot.callback = nil; cb(value) }
    }

    /// The connection broke (closed, or a reply that cannot be read): owed slots become misses.
    fileprivate func connectionLost(protocolError: Bool) {
        if protocolError { counters.errors += 1 }
        channel?.close(promise: nil)
        channel = nil
        counters.connected = false
        lastFailureNanos = NIODeadline.now().uptimeNanoseconds
        failWaiting()
    }

    private func failWaiting() {
        let owedSlots = waiting[waitingStart...]
        waiting = []
        waitingStart = 0
        for slot in owedSlots {
            slot.timer?.cancel()
            if let cb = slot.callback { slot.callback = nil; cb(nil) }
        }
    }
}

/// Decodes replies off the connection and hands them to the client, in order.
private final class RESPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    weak var owner: RedisL2?
    var decoder = RESP.Decoder()
    var broken = false

    init(owner: RedisL2?) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !broken else { return }
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { decoder.feed(bytes) }
        do {
            while let v = try decoder.next() { owner?.received(v) }
        } catch {
            broken = true
            owner?.connectionLost(protocolError: true)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !broken { owner?.connectionLost(protocolError: false) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
