import CicadaCore
import CicadaEngine
import Foundation
import NIOCore
import NIOHTTP1

/// Parses one HTTP request at a time and routes it to the engine.
final class EngineHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: EngineServer
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    var tooLarge = false
    /// The request of this connection the engine has not answered yet (HTTP/1.1 without
    /// pipelining, so at most one), withdrawn if the client closes first.
    var pending: JobTicket?

    init(server: EngineServer) { self.server = server }

    /// The client went away: a request of its still waiting in the engine's queue is withdrawn,
    /// so a client that gave up (a timeout, a cancelled call) costs no modelled GPU time and no
    /// place in the queue. Without it, after an overload whose clients timed out, the engine
    /// would go on computing answers nobody reads before it could serve anyone again.
    func channelInactive(context: ChannelHandlerContext) {
        if let ticket = pending {
            pending = nil
            let rt = server.runtime
            rt.loop.execute { rt.cancel(ticket) }
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            tooLarge = (h.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > server.config.maxBodyBytes
        case .body(var b):
            if body.readableBytes + b.readableBytes > server.config.maxBodyBytes { tooLarge = true } else if !tooLarge { body.writeBuffer(&b) }
        case .end:
            guard let h = head else { return }
            head = nil
            route(context: context, head: h)
        }
    }

    // MARK: Routing

    func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let ka = head.isKeepAlive
        if tooLarge {
            return respond(context, .payloadTooLarge, error: "request body exceeds \(server.config.maxBodyBytes) bytes", keepAlive: false,
                           shape: ErrorShape.of(path: head.uri))
        }
        let request: EngineRequest
        do { request = try EngineRequest.read(method: head.method.rawValue, uri: head.uri, body: bodyBytes) } catch {
            return respond(context, HTTPResponseStatus(statusCode: error.status), error: error.message, keepAlive: ka, shape: error.shape)
        }
        switch request {
        case .health:
            respond(context, .ok, json: #"{"status":"ok"}"#, keepAlive: ka)
        case .ready:
            if server.draining.load(ordering: .acquiring) {
                respond(context, .serviceUnavailable, json: #"{"status":"draining"}"#, keepAlive: ka)
            } else {
                respond(context, .ok, json: #"{"status":"ready"}"#, keepAlive: ka)
            }
        case .metrics:
            respond(context, .ok, text: EngineMetrics.render(server.stats, config: server.config), contentType: "text/plain; version=0.0.4", keepAlive: ka)
        case .predict(let input, let priority, let timeoutMicros):
            predict(context, input: input, priority: priority, timeoutMicros: timeoutMicros, keepAlive: ka)
        case .completion(let r):
            openAI(context, r, keepAlive: ka)
        case .admin(let put):
            admin(context, head: head, put: put, keepAlive: ka)
        case .models, .model, .version:
            models(context, request, keepAlive: ka)
        case .messages(let r):
            anthropic(context, r, keepAlive: ka)
        case .resetPrefixCache:
            if let refusal = EngineRequest.adminRefusal(remoteIP: context.channel.remoteAddress?.ipAddress,
                                                        authorization: head.headers.first(name: "authorization"),
                                                        token: server.config.adminToken) {
                return respond(context, HTTPResponseStatus(statusCode: refusal.status), error: refusal.message, keepAlive: ka)
            }
            // Handed to the engine's loop ahead of any later request, so none is answered from the old cache.
            let rt = server.runtime
            if rt.loop.inEventLoop { rt.resetCache() } else { rt.loop.execute { rt.resetCache() } }
            respond(context, .ok, json: #"{"status":"ok"}"#, keepAlive: ka)
        }
    }

    var bodyBytes: [UInt8] { body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [] }

    // MARK: /predict

    func predict(_ context: ChannelHandlerContext, input: String, priority: Int?, timeoutMicros: UInt64?, keepAlive: Bool) {
        let config = server.config
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let channelLoop = context.eventLoop
        let ticket = JobTicket()
        var job = Job(inputTokens: config.tokenizer.count(input), outputTokens: config.predictOutputTokens, input: input,
                      cacheKey: CacheKey.request(endpoint: "predict", model: config.model, input: input, parameters: [:]),
                      done: { outcome in
                          channelLoop.execute {
                              let (handler, ctx) = bound.value
                              handler.answered(ticket)
                              switch outcome {
                              case .success(let output, let batch, let cached, let q, let c, _, _):
                                  let json = "{\"output\":\(JSONText.quoted(output)),\"batch_size\":\(batch),\"cached\":\(cached),\"queue_ms\":\(ms(q)),\"compute_ms\":\(ms(c))}"
                                  handler.respond(ctx, .ok, json: json, keepAlive: keepAlive)
                              case .failure(let status, let message, let retry):
                                  handler.respond(ctx, HTTPResponseStatus(statusCode: status), error: message, keepAlive: keepAlive, retryAfter: retry)
                              }
                          }
                      }, token: nil)
        job.l2Key = config.l2?.key(endpoint: "predict", model: config.model, input: input, parameters: [:])
        job.priority = priority
        job.timeoutMicros = timeoutMicros
        job.ticket = ticket
        submit(job)
    }

    /// Hands `job` to the engine; its ticket (if any) is this connection's pending request.
    func submit(_ job: Job) {
        pending = job.ticket
        let rt = server.runtime
        rt.loop.execute { rt.submit(job) }
    }

    /// The engine answered `ticket`'s request: nothing of this connection's is pending any more.
    func answered(_ ticket: JobTicket) {
        if pending === ticket { pending = nil }
    }

    // MARK: OpenAI-compatible

    func openAI(_ context: ChannelHandlerContext, _ r: EngineRequest.CompletionRequest, keepAlive: Bool) {
        let (chat, input, maxTokens, includeUsage) = (r.chat, r.input, r.maxTokens, r.includeUsage)
        let model = r.model ?? server.config.model
        let cacheKey = CacheKey.request(endpoint: chat ? "chat" : "completions", model: model, input: input, parameters: r.parameters)

        let inputTokens = server.config.tokenizer.count(input)
        let id = "cmpl-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
        let created = Int(Date().timeIntervalSince1970)
        let channelLoop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let object = chat ? "chat.completion" : "text_completion"

        let ticket = JobTicket()
        if !r.stream {
            var job = Job(inputTokens: inputTokens, outputTokens: maxTokens, input: input, cacheKey: cacheKey, done: { outcome in
                channelLoop.execute {
                    let (handler, ctx) = bound.value
                    handler.answered(ticket)
                    switch outcome {
                    case .success(let output, _, let cached, _, _, let inTok, let outTok):
                        let choice = chat
                            ? "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(JSONText.quoted(output))},\"finish_reason\":\"length\"}"
                            : "{\"index\":0,\"text\":\(JSONText.quoted(output)),\"finish_reason\":\"length\"}"
                        let json = "{\"id\":\"\(id)\",\"object\":\"\(object)\",\"created\":\(created),\"model\":\(JSONText.quoted(model)),\"choices\":[\(choice)],\"usage\":\(OpenAIUsage.json(promptTokens: inTok, completionTokens: outTok, cachedTokens: cached ? inTok : 0))}"
                        handler.respond(ctx, .ok, json: json, keepAlive: keepAlive)
                    case .failure(let status, let message, let retry):
                        handler.respond(ctx, HTTPResponseStatus(statusCode: status), error: message, keepAlive: keepAlive, retryAfter: retry)
                    }
                }
            }, token: nil)
            job.ticket = ticket
            job.l2Key = server.config.l2?.key(endpoint: chat ? "chat" : "completions", model: model, input: input, parameters: r.parameters)
            return submit(job)
        }

        // Streaming: SSE chunks paced by the modelled device.
        let chunkObject = chat ? "chat.completion.chunk" : "text_completion"
        // One vocabulary word per token: the streamed text counts back to `usage.completion_tokens`.
        let words = server.config.tokenizer.answer(for: input, tokens: maxTokens)
        let state = StreamState()
        let chunk: @Sendable (String, String?) -> String = { choices, usage in
            "data: {\"id\":\"\(id)\",\"object\":\"\(chunkObject)\",\"created\":\(created),\"model\":\(JSONText.quoted(model)),\"choices\":\(choices)\(usage.map { ",\"usage\":\($0)" } ?? "")}\n\n"
        }
        let tokenChunk: @Sendable (Int) -> String = { k in
            let piece = words[k]
            return chunk(chat ? "[{\"index\":0,\"delta\":{\"content\":\(JSONText.quoted(piece))},\"finish_reason\":null}]"
                              : "[{\"index\":0,\"text\":\(JSONText.quoted(piece)),\"finish_reason\":null}]", nil)
        }
        var job = Job(inputTokens: inputTokens, outputTokens: maxTokens, input: input, cacheKey: nil, done: { outcome in
            channelLoop.execute {
                let (handler, ctx) = bound.value
                handler.answered(ticket)
                switch outcome {
                case .success(_, _, _, _, _, let inTok, let outTok):
                    handler.startStreamIfNeeded(ctx, state, chat: chat, first: chunk)
                    while state.sent < outTok { handler.writeChunk(ctx, tokenChunk(state.sent)); state.sent += 1 }
                    handler.writeChunk(ctx, chunk(chat ? "[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]" : "[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]", nil))
                    if includeUsage {
                        handler.writeChunk(ctx, chunk("[]", OpenAIUsage.json(promptTokens: inTok, completionTokens: outTok, cachedTokens: 0)))
                    }
                    handler.writeChunk(ctx, "data: [DONE]\n\n")
                    state.finished = true
                    handler.endStream(ctx, keepAlive: keepAlive)
                case .failure(let status, let message, let retry):
                    if state.started {
                        // Headers already went out with 200: report the error inside the stream.
                        handler.writeChunk(ctx, "data: \(ErrorBody.openAI(status: status, message: message))\n\n")
                        handler.endStream(ctx, keepAlive: keepAlive)
                    } else {
                        handler.respond(ctx, HTTPResponseStatus(statusCode: status), error: message, keepAlive: keepAlive, retryAfter: retry)
                    }
                }
            }
        }, token: { k in
            channelLoop.execute {
                let (handler, ctx) = bound.value
                guard !state.finished, k == state.sent else { return }
                handler.startStreamIfNeeded(ctx, state, chat: chat, first: chunk)
                handler.writeChunk(ctx, tokenChunk(k))
                state.sent += 1
            }
        })
        job.ticket = ticket
        submit(job)
    }

    /// Progress of one SSE response (touched only on the channel's loop).
    final class StreamState: @unchecked Sendable {
        var started = false
        var sent = 0
        var finished = false
    }

    func startStreamIfNeeded(_ context: ChannelHandlerContext, _ state: StreamState, chat: Bool, first: @Sendable (String, String?) -> String) {
        guard !state.started else { return }
        state.started = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        if chat { writeChunk(context, first("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]", nil)) }
    }

    func writeChunk(_ context: ChannelHandlerContext, _ s: String) {
        var buf = context.channel.allocator.buffer(capacity: s.utf8.count)
        buf.writeString(s)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
    }

    func endStream(_ context: ChannelHandlerContext, keepAlive: Bool) {
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { let ctx = NIOLoopBound(context, eventLoop: context.eventLoop); done.whenComplete { _ in ctx.value.close(promise: nil) } }
    }

    // MARK: Admin

    func admin(_ context: ChannelHandlerContext, head: HTTPRequestHead, put: [UInt8]?, keepAlive: Bool) {
        if let refusal = EngineRequest.adminRefusal(remoteIP: context.channel.remoteAddress?.ipAddress,
                                           authorization: head.headers.first(name: "authorization"),
                                           token: server.config.adminToken) {
            return respond(context, HTTPResponseStatus(statusCode: refusal.status), error: refusal.message, keepAlive: keepAlive)
        }
        var current = server.stats.batching
        if let put {
            let config: BatcherConfig
            do { config = try EngineRequest.batching(from: put) } catch {
                return respond(context, HTTPResponseStatus(statusCode: error.status), error: error.message, keepAlive: keepAlive)
            }
            // The engine may live on another event loop: hand the change over, never wait here.
            let rt = server.runtime
            if rt.loop.inEventLoop { rt.reconfigure(config) } else { rt.loop.execute { rt.reconfigure(config) } }
            current = config
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(current)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        respond(context, .ok, json: json, keepAlive: keepAlive)
    }


    // MARK: Responses

    /// An error answer in OpenAI's body (as vLLM sends it), or Anthropic's for the Messages API.
    func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, error: String, keepAlive: Bool, retryAfter: Int? = nil,
                 shape: ErrorShape = .openAI) {
        respond(context, status, json: ErrorBody.json(status: Int(status.code), message: error, shape: shape), keepAlive: keepAlive, retryAfter: retryAfter)
    }

    func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, json: String, keepAlive: Bool, retryAfter: Int? = nil) {
        respond(context, status, text: json, contentType: "application/json", keepAlive: keepAlive, retryAfter: retryAfter)
    }

    func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, text: String, contentType: String, keepAlive: Bool, retryAfter: Int? = nil) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        if let r = retryAfter { headers.add(name: "Retry-After", value: String(r)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buf = context.channel.allocator.buffer(capacity: text.utf8.count)
        buf.writeString(text)
        context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { let ctx = NIOLoopBound(context, eventLoop: context.eventLoop); done.whenComplete { _ in ctx.value.close(promise: nil) } }
    }
}

/// Nanoseconds as milliseconds with 3 decimals, for JSON.
func ms(_ nanos: UInt64) -> String { Format.number(Double(nanos) / 1e6, digits: 3) }
