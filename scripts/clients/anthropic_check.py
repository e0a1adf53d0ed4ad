"""Drives an Anthropic Messages API server with the official `anthropic` package and prints what
the client read back, as one JSON object on stdout (ClientCompatTests checks it).

    .venv-clients/bin/python scripts/clients/anthropic_check.py http://127.0.0.1:8000

models.list(), messages.create() streamed (the messages.stream() helper and stream=True's raw
events) and not, the usage read back, and a refused request's BadRequestError.
"""
import json
import sys

import anthropic

base = sys.argv[1].rstrip("/")
client = anthropic.Anthropic(base_url=base, api_key="not-needed", max_retries=0, timeout=60)
out = {"client": "anthropic " + anthropic.__version__}

models = client.models.list()
out["models"] = [m.id for m in models.data]
model = out["models"][0]
out["model_fields"] = {"type": models.data[0].type, "display_name": models.data[0].display_name,
                       "created_at": models.data[0].created_at.isoformat()}

messages = [{"role": "user", "content": "hello from the load tester"}]
m = client.messages.create(model=model, max_tokens=8, messages=messages)
out["message"] = {"type": m.type, "role": m.role, "model": m.model, "text": "".join(b.text for b in m.content if b.type == "text"),
                  "stop_reason": m.stop_reason, "usage": m.usage.model_dump()}
again = client.messages.create(model=model, max_tokens=8, messages=messages)
out["message_again"] = {"text": "".join(b.text for b in again.content if b.type == "text"), "usage": again.usage.model_dump()}

with client.messages.stream(model=model, max_tokens=9, system="be brief",
                            messages=[{"role": "user", "content": [{"type": "text", "text": "stream please"}]}]) as stream:
    pieces = [t for t in stream.text_stream]
    final = stream.get_final_message()
out["stream_helper"] = {"text": "".join(pieces), "pieces": len([p for p in pieces if p]), "stop_reason": final.stop_reason,
                        "usage": final.usage.model_dump(), "final_text": "".join(b.text for b in final.content if b.type == "text")}

types, deltas, output_tokens, input_tokens = [], 0, None, None
for event in client.messages.create(model=model, max_tokens=5, messages=messages, stream=True):
    types.append(event.type)
    if event.type == "content_block_delta" and event.delta.type == "text_delta":
        deltas += 1
    if event.type == "message_start":
        input_tokens = event.message.usage.input_tokens
    if event.type == "message_delta":
        output_tokens = event.usage.output_tokens
out["raw_stream"] = {"types": types, "text_deltas": deltas, "input_tokens": input_tokens, "output_tokens": output_tokens}

try:
    client.messages.create(model=model, max_tokens=0, messages=messages)
    out["bad_request"] = "no error"
except anthropic.BadRequestError as e:
    out["bad_request"] = {"status": e.status_code, "body": e.body}

print(json.dumps(out))
