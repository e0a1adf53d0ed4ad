import CicadaCore
import CicadaEngine
import NIOCore
import NIOHTTP1

/// `GET /v1/models`, `GET /v1/models/{id}` and `GET /version`: what LLM benchmarkers and
/// gateways ask first, to learn the model's name (vLLM's answers; see ``ModelsBody``).
extension EngineHTTPHandler {
    /// The context length reported as `max_model_len`. The engine enforces none: this is the
    /// largest `max_tokens` it accepts.
    static let maxModelLen = EngineRequest.maxTokensLimit

    func models(_ context: ChannelHandlerContext, _ request: EngineRequest, keepAlive: Bool) {
        let model = server.config.model
        switch request {
        case .models:
            respond(context, .ok, json: ModelsBody.list(ids: [model], created: server.createdAt, maxModelLen: Self.maxModelLen), keepAlive: keepAlive)
        case .model(let id):
            guard id == model else { return respond(context, .notFound, error: ModelsBody.unknownModel(id), keepAlive: keepAlive) }
            respond(context, .ok, json: ModelsBody.model(id: model, created: server.createdAt, maxModelLen: Self.maxModelLen), keepAlive: keepAlive)
        default:
            respond(context, .ok, json: ModelsBody.version(CicadaVersion.current), keepAlive: keepAlive)
        }
    }
}
