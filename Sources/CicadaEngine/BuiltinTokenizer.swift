import CicadaCore

/// The tokenizer shipped for the engine's default model: `cicada-tiny`, a byte-level BPE of
/// 8,192 entries trained by scripts/make-tokenizer.py and kept in models/cicada-tiny/ (where a
/// client such as AIPerf or transformers' `AutoTokenizer` loads it offline).
///
/// Its `tokenizer.json` is compiled into the binary (`BuiltinTokenizer+JSON.swift`, written by
/// the same script), so the single static binary needs no resource folder next to it and a
/// client counting with the folder agrees with the engine token for token.
public enum BuiltinTokenizer {
    /// The tokenizer's name, as the folder in models/ is called.
    public static let name = "cicada-tiny"

    /// The embedded `tokenizer.json`, parsed once; nil only if the embedded bytes were damaged
    /// (a test loads them, so a release never ships that).
    public static let tokenizer: BPETokenizer? = try? BPETokenizer(json: Array(json.utf8))
}
