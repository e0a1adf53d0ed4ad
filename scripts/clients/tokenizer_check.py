"""Counts tokens with Hugging Face's `tokenizers` package and, given an engine, reads back what
the engine says it generated, as one JSON object on stdout (TokenizerParityTests checks it).

    .venv-clients/bin/python scripts/clients/tokenizer_check.py TOKENIZER_JSON [BASE_URL] < texts.json

stdin: a JSON list of texts. Output: {"tokenizers": version, "counts": [tokens of each text,
no special tokens added]}, and with BASE_URL, "engine": per prompt, what the official `openai`
package read from a streamed chat completion and a completion (the text it got, that text
counted by `tokenizers`, the usage the engine reported, the number of content chunks).
"""
import json
import sys

import tokenizers

tok = tokenizers.Tokenizer.from_file(sys.argv[1])
texts = json.load(sys.stdin)
count = lambda t: len(tok.encode(t, add_special_tokens=False).ids)
out = {"tokenizers": tokenizers.__version__, "counts": [count(t) for t in texts]}

if len(sys.argv) > 2:
    import openai

    client = openai.OpenAI(base_url=sys.argv[2].rstrip("/") + "/v1", api_key="not-needed", max_retries=0, timeout=60)
    model = client.models.list().data[0].id
    engine = []
    for i, prompt in enumerate(texts[:6]):
        max_tokens = [1, 2, 7, 33, 128, 300][i]
        text, chunks, usage = "", 0, None
        for ev in client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                                                 stream=True, stream_options={"include_usage": True}):
            if ev.choices and ev.choices[0].delta.content:
                text += ev.choices[0].delta.content
                chunks += 1
            if ev.usage is not None:
                usage = ev.usage.model_dump()
        c = client.completions.create(model=model, prompt=prompt, max_tokens=max_tokens)
        engine.append({"prompt": prompt, "max_tokens": max_tokens, "chat_text": text, "chat_chunks": chunks, "chat_usage": usage,
                       "chat_text_tokens": count(text), "chat_prompt_tokens": count(prompt + "\n"),
                       "completion_text_tokens": count(c.choices[0].text), "completion_usage": c.usage.model_dump(),
                       "completion_prompt_tokens": count(prompt)})
    out["engine"] = engine

print(json.dumps(out, ensure_ascii=False))
