import CicadaEngine
import CicadaSession
import Foundation
import Testing
@testable import cicada

/// `cicada serve --tokenizer` (and `CICADA_TOKENIZER`): the built-in, the approximation, a file
/// or a model folder, and a clear error for anything else.
@Suite struct ServeTokenizerFlagTests {
    static let folder = ClientVenv.repoRoot + "/models/cicada-tiny"

    @Test func namesTheBuiltInOrTheApproximation() throws {
        #expect(try Serve.tokenizer("cicada-tiny").name == "cicada-tiny")
        #expect(try Serve.tokenizer("builtin").isExact)
        #expect(try !Serve.tokenizer("approximate").isExact)
        #expect(try Serve.parse(["--tokenizer", "approximate"]).tokenizer == "approximate")
    }

    @Test func readsAFileOrAFolderHoldingOne() throws {
        let fromFolder = try Serve.tokenizer(Self.folder)
        #expect(fromFolder.name == Self.folder + "/tokenizer.json" && fromFolder.isExact)
        let fromFile = try Serve.tokenizer(Self.folder + "/tokenizer.json")
        let text = "今天的天气很好 and a little English"
        #expect(fromFile.count(text) == EngineTokenizer.builtin.count(text))
    }

    @Test func refusesWhatItCannotRead() throws {
        #expect(throws: SessionError.usage("error: --tokenizer: /no/such/file.json: no such file or folder (or 'cicada-tiny', 'approximate')")) {
            try Serve.tokenizer("/no/such/file.json")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-tok-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("tokenizer.json")
        try Data(#"{"model":{"type":"WordPiece","vocab":{}},"pre_tokenizer":{"type":"ByteLevel"}}"#.utf8).write(to: bad)
        #expect(throws: SessionError.usage("error: --tokenizer: \(bad.path): model.type is not BPE (only byte-level BPE tokenizers are supported)")) {
            try Serve.tokenizer(dir.path)
        }
    }
}
