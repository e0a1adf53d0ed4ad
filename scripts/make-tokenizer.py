#!/usr/bin/env python3
"""Trains models/cicada-tiny: the small byte-level BPE tokenizer the embedded engine counts with.

Nothing can be downloaded at run time and no model hub is reachable, so the default model's
tokenizer is trained here, with Hugging Face's `tokenizers` (pinned in
scripts/client-requirements.txt), on text the project ships, as it was at commit CORPUS_COMMIT (below): README.md
and the other top-level *.md, docs/*.md, the scenarios and their prompts, the Swift sources of
CicadaCore and CicadaEngine, scripts/*.sh; and scripts/tokenizer-corpus/ from the tree
(multilingual and code text written for it). GPT-2's byte-level
pre-tokenizer (its regex, no prefix space), 8192 entries, one special token <|endoftext|>.

It writes:
  models/cicada-tiny/tokenizer.json          (compact JSON; loads with tokenizers and transformers)
  models/cicada-tiny/tokenizer_config.json   (tokenizer_class PreTrainedTokenizerFast)
  models/cicada-tiny/special_tokens_map.json
  models/cicada-tiny/config.json             (model_type gpt2, so AutoConfig-first loaders work offline)
  models/cicada-tiny/CORPUS.sha256           (the files trained on and their hashes)
  Sources/CicadaEngine/BuiltinTokenizer+JSON.swift (the same tokenizer.json, embedded in the binary)

Training is deterministic for a given corpus, and the corpus is pinned, so a rerun gives the same
bytes (`--check` says whether it does). To train on newer text, move CORPUS_COMMIT on purpose
and commit the outputs together.

    .venv-clients/bin/python scripts/make-tokenizer.py          # train and write
    .venv-clients/bin/python scripts/make-tokenizer.py --check  # exit 1 if the outputs differ
"""
import glob
import fnmatch
import hashlib
import re
import subprocess
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "cicada-tiny")
SWIFT = os.path.join(ROOT, "Sources", "CicadaEngine", "BuiltinTokenizer+JSON.swift")
VOCAB_SIZE = 8192
# Longest token, in characters of the byte alphabet (a CJK character is 3): no whole sentences.
MAX_TOKEN_LENGTH = 16
SPECIAL = "<|endoftext|>"
# How often the hand-written multilingual text is read (more would make its sentences single tokens).
MULTILINGUAL_REPEAT = 1


# The project's text is read as it was at this commit (git show), so later edits to the docs or
# sources do not change what the script makes; scripts/tokenizer-corpus/ is read from the tree.
CORPUS_COMMIT = "af8392b5169e597a7560d9096caa366b362696b0"
PATTERNS = ["*.md", "docs/*.md", "scenarios/*.yaml", "scenarios/prompts/*", "Sources/CicadaCore/*.swift",
            "Sources/CicadaEngine/*.swift", "scripts/*.sh"]


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True).stdout


def corpus_files():
    """(name, bytes) of every corpus file, in a fixed order."""
    listed = git("ls-tree", "-r", "--name-only", CORPUS_COMMIT).decode().splitlines()
    files = []
    for p in PATTERNS:
        # fnmatch's * also matches "/": a pattern names files of its own folder only.
        for name in sorted(n for n in listed if fnmatch.fnmatch(n, p) and n.count("/") == p.count("/")):
            files.append((f"{CORPUS_COMMIT[:12]}:{name}", git("show", f"{CORPUS_COMMIT}:{name}")))
    for f in sorted(glob.glob(os.path.join(ROOT, "scripts", "tokenizer-corpus", "*.txt"))):
        files.append((os.path.relpath(f, ROOT), open(f, "rb").read()))
    return files


def corpus_lines(files):
    # The words the synthetic prompt generator and the engine's old filler drew from.
    words = ("the model serves tokens under load with batching and cache latency matters prefix shared "
             "block reply user query context window answers from a modelled device queue throughput "
             "memory prefill decode step kernel stream")
    lines = [words] * 4
    for name, data in files:
        text = data.decode("utf-8")
        n = MULTILINGUAL_REPEAT if "tokenizer-corpus" in name else 1
        for _ in range(n):
            lines += text.splitlines()
    return lines


def train(lines):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=[SPECIAL], max_token_length=MAX_TOKEN_LENGTH,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer, length=len(lines))
    return tok


def outputs(tok, files):
    doc = json.loads(tok.to_str())
    compact = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    # A Swift raw string whose delimiter has more #s than any run of #s in the JSON ("###" is a token).
    hashes = "#" * (1 + max([0] + [len(m) for m in re.findall("#+", compact)]))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 131072,
        "bos_token": SPECIAL, "eos_token": SPECIAL, "unk_token": SPECIAL,
        "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
    }
    special = {"bos_token": SPECIAL, "eos_token": SPECIAL, "unk_token": SPECIAL}
    model_config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": tok.get_vocab_size(),
                    "bos_token_id": tok.token_to_id(SPECIAL), "eos_token_id": tok.token_to_id(SPECIAL)}
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
    swift = (
        "// Generated by scripts/make-tokenizer.py from models/cicada-tiny/tokenizer.json: do not edit.\n"
        "// The same bytes as that file, so the static binary needs no resource folder.\n\n"
        "extension BuiltinTokenizer {\n"
        "    /// models/cicada-tiny/tokenizer.json, byte for byte.\n"
        f"    static let json: String = {hashes}\"{compact}\"{hashes}\n"
        "}\n"
    )
    dump = lambda o: json.dumps(o, indent=2, ensure_ascii=False) + "\n"
    return {
        os.path.join(OUT, "tokenizer.json"): compact,
        os.path.join(OUT, "tokenizer_config.json"): dump(config),
        os.path.join(OUT, "special_tokens_map.json"): dump(special),
        os.path.join(OUT, "config.json"): dump(model_config),
        os.path.join(OUT, "CORPUS.sha256"): manifest,
        SWIFT: swift,
    }


def main():
    check = "--check" in sys.argv[1:]
    files = corpus_files()
    tok = train(corpus_lines(files))
    differ = []
    for path, text in outputs(tok, files).items():
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            differ.append(os.path.relpath(path, ROOT))
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    size = len(outputs(tok, files)[os.path.join(OUT, "tokenizer.json")].encode())
    print(f"make-tokenizer: {tok.get_vocab_size()} tokens, tokenizer.json {size} bytes, {len(files)} corpus files")
    if check:
        if differ:
            print("make-tokenizer: differs from the committed files: " + ", ".join(differ), file=sys.stderr)
            sys.exit(1)
        print("make-tokenizer: the committed files are what the corpus gives")
    elif differ:
        print("make-tokenizer: wrote " + ", ".join(differ))


if __name__ == "__main__":
    main()
