"""Drives an OpenAI-compatible server with the official `openai` package and prints what the
client read back, as one JSON object on stdout (ClientCompatTests checks it).

    .venv-clients/bin/python scripts/clients/openai_check.py http://127.0.0.1:8000

Every call the package's users make first: models.list() to discover the model name,
models.retrieve() (and its NotFoundError), completions and chat completions, streamed and not,
with stream_options.include_usage, and a refused request's BadRequestError.
"""
import json
import sys

import openai

base = sys.argv[1].rstrip("/")
client = openai.OpenAI(base_url=base + "/v1", api_key="not-needed", max_retries=0, timeout=60)
out = {"client": "openai " + openai.__version__}

models = client.models.list()
out["models"] = [m.id for m in models.data]
model = out["models"][0]
first = models.data[0]
out["model_fields"] = {"object": first.object, "owned_by": first.owned_by, "created": first.created}
out["retrieved"] = client.models.retrieve(model).id
try:
    client.models.retrieve("no-such-model")
    out["missing_model"] = "no error"
except openai.NotFoundError as e:
    out["missing_model"] = {"status": e.status_code, "type": e.type, "code": e.code, "message": e.body.get("message") if isinstance(e.body, dict) else None}


def usage(u):
    d = u.model_dump() if u is not None else None
    return d


prompt = "say hello to the load tester"
c = client.completions.create(model=model, prompt=prompt, max_tokens=5)
out["completion"] = {"text": c.choices[0].text, "finish_reason": c.choices[0].finish_reason, "usage": usage(c.usage), "model": c.model}
again = client.completions.create(model=model, prompt=prompt, max_tokens=5)
out["completion_again"] = {"text": again.choices[0].text, "usage": usage(again.usage)}

ch = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi there"}], max_tokens=6)
out["chat"] = {"content": ch.choices[0].message.content, "role": ch.choices[0].message.role,
               "finish_reason": ch.choices[0].finish_reason, "usage": usage(ch.usage)}

text, content_chunks, stream_usage, finish = "", 0, None, None
for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "stream please"}],
                                            max_tokens=7, stream=True, stream_options={"include_usage": True}):
    if chunk.choices:
        delta = chunk.choices[0].delta.content or ""
        if delta:
            content_chunks += 1
        text += delta
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage is not None:
        stream_usage = usage(chunk.usage)
out["chat_stream"] = {"text": text, "content_chunks": content_chunks, "finish_reason": finish, "usage": stream_usage}

text, pieces, stream_usage = "", 0, None
for chunk in client.completions.create(model=model, prompt="stream a completion", max_tokens=4, stream=True,
                                       stream_options={"include_usage": True}):
    if chunk.choices and chunk.choices[0].text:
        pieces += 1
        text += chunk.choices[0].text
    if chunk.usage is not None:
        stream_usage = usage(chunk.usage)
out["completion_stream"] = {"text": text, "pieces": pieces, "usage": stream_usage}

try:
    client.completions.create(model=model, prompt="x", max_tokens=0)
    out["bad_request"] = "no error"
except openai.BadRequestError as e:
    out["bad_request"] = {"status": e.status_code, "type": e.type, "code": e.code, "param": e.param,
                          "message": e.body.get("message") if isinstance(e.body, dict) else None}

print(json.dumps(out))
