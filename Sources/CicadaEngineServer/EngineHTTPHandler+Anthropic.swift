import CicadaCore
import CicadaEngine
import Foundation
import NIOCore
import NIOHTTP1

/// `POST /v1/messages`: Anthropic's Messages API over the same modelled device as the OpenAI
/// endpoints. Not streamed: one message (``AnthropicBody/message(id:model:text:inputTokens:cachedTokens:outputTokens:)``),
/// answered from the result cache when it can be. Streamed: `message_start`,
/// `content_block_start` and a `ping` with the first token, a `content_block_delta` per token
/// paced by the modelled decode steps, then `content_block_stop`, `message_delta` (stop reason,
/// usage) and `message_stop`. Errors are in Anthropic's shape, before the stream (an HTTP
/// status) or inside it (`event: error`).
extension EngineHTTPHandler {
    func anthropic(_ context: ChannelHandlerContext, _ r: EngineRequest.MessagesRequest, keepAlive: Bool) {
        let (input, maxTokens, model) = (r.input, r.maxTokens, r.model)
        let inputTokens = server.config.tokenizer.count(input)
        let id = "msg_\(String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 16))"
        let channelLoop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // Withdrawn from the queue if the client closes first (as the OpenAI endpoints' requests).
        let ticket = JobTicket()

        if !r.stream {
            let cacheKey = CacheKey.request(endpoint: "messages", model: model, input: input, parameters: r.parameters)
            var job = Job(inputTokens: inputTokens, outputTokens: maxTokens, input: input, cacheKey: cacheKey, done: { outcome in
                channelLoop.execute {
                    let (handler, ctx) = bound.value
                    handler.answered(ticket)
                    switch outcome {
                    case .success(let output, _, let cached, _, _, let inTok, let outTok):
                        let json = AnthropicBody.message(id: id, model: model, text: output, inputTokens: inTok,
                                                         cachedTokens: cached ? inTok : 0, outputTokens: outTok)
                        handler.respond(ctx, .ok, json: json, keepAlive: keepAlive)
                    case .failure(let status, let message, let retry):
                        handler.respond(ctx, HTTPResponseStatus(statusCode: status), error: message, keepAlive: keepAlive, retryAfter: retry, shape: .anthropic)
                    }
                }
            }, token: nil)
            job.ticket = ticket
            job.l2Key = server.config.l2?.key(endpoint: "messages", model: model, input: input, parameters: r.parameters)
            return submit(job)
        }

        let words = server.config.tokenizer.answer(for: input, tokens: maxTokens)
        let state = StreamState()
        let delta: @Sendable (Int) -> String = { k in AnthropicBody.textDelta(words[k]) }
        var job = Job(inputTokens: inputTokens, outputTokens: maxTokens, input: input, cacheKey: nil, done: { outcome in
            channelLoop.execute {
                let (handler, ctx) = bound.value
                handler.answered(ticket)
                switch outcome {
                case .success(_, _, _, _, _, let inTok, let outTok):
                    handler.startMessageStreamIfNeeded(ctx, state, id: id, model: model, inputTokens: inTok)
                    while state.sent < outTok { handler.writeChunk(ctx, delta(state.sent)); state.sent += 1 }
                    handler.writeChunk(ctx, AnthropicBody.streamEnd(inputTokens: inTok, outputTokens: outTok))
                    state.finished = true
                    handler.endStream(ctx, keepAlive: keepAlive)
                case .failure(let status, let message, let retry):
                    if state.started {
                        // Headers already went out with 200: report the error inside the stream.
                        handler.writeChunk(ctx, AnthropicBody.streamError(status: status, message: message))
                        handler.endStream(ctx, keepAlive: keepAlive)
                    } else {
                        handler.respond(ctx, HTTPResponseStatus(statusCode: status), error: message, keepAlive: keepAlive, retryAfter: retry, shape: .anthropic)
                    }
                }
            }
        }, token: { k in
            channelLoop.execute {
                let (handler, ctx) = bound.value
                guard !state.finished, k == state.sent else { return }
                handler.startMessageStreamIfNeeded(ctx, state, id: id, model: model, inputTokens: inputTokens)
                handler.writeChunk(ctx, delta(k))
                state.sent += 1
            }
        })
        job.ticket = ticket
        submit(job)
    }

    /// The response head and the events before the first token, once per stream.
    func startMessageStreamIfNeeded(_ context: ChannelHandlerContext, _ state: StreamState, id: String, model: String, inputTokens: Int) {
        guard !state.started else { return }
        state.started = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        writeChunk(context, AnthropicBody.streamStart(id: id, model: model, inputTokens: inputTokens))
    }
}
