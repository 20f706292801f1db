"""Drives the gateway with the official `openai` Python SDK, as an API client would.

Reads BASE (the gateway's OpenAI-compatible base URL for one provider), TOKEN (a Data Modeller
API token) and prints one JSON object with what the SDK saw, for the Rust test to check.
"""

import json
import os

import openai

base, token = os.environ["BASE"], os.environ["TOKEN"]
client = openai.OpenAI(base_url=base, api_key=token, max_retries=0, timeout=30)
messages = [
    {"role": "system", "content": "answer in JSON"},
    {"role": "user", "content": "a lending library"},
]
out = {"sdk_version": openai.__version__}


def error_facts(e):
    return {
        "type": type(e).__name__,
        "status": getattr(e, "status_code", None),
        "code": getattr(e, "code", None),
        "message": str(getattr(e, "message", e)),
    }


reply = client.chat.completions.create(model="fake-model", messages=messages)
out["text"] = reply.choices[0].message.content
out["finish_reason"] = reply.choices[0].finish_reason
out["total_tokens"] = reply.usage.total_tokens if reply.usage else None

parts, usage, chunks = [], None, 0
stream = client.chat.completions.create(
    model="fake-model",
    messages=messages,
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    chunks += 1
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage.total_tokens
out["stream_text"] = "".join(parts)
out["stream_chunks"] = chunks
out["stream_total_tokens"] = usage

# A stream without include_usage: no usage chunk reaches the client.
plain_usage = []
for chunk in client.chat.completions.create(model="fake-model", messages=messages, stream=True):
    plain_usage.append(chunk.usage)
out["plain_stream_usage_chunks"] = sum(1 for u in plain_usage if u is not None)

out["models"] = [m.id for m in client.models.list()]

try:
    openai.OpenAI(base_url=base, api_key="dm_wrong", max_retries=0).chat.completions.create(
        model="fake-model", messages=messages
    )
    out["bad_token"] = None
except openai.APIError as e:
    out["bad_token"] = error_facts(e)

try:
    client.chat.completions.create(model="fake-model?status=401", messages=messages)
    out["provider_auth"] = None
except openai.APIError as e:
    out["provider_auth"] = error_facts(e)

try:
    text = []
    for chunk in client.chat.completions.create(
        model="fake-model?cut_after=3", messages=messages, stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
    out["cut_stream"] = None
except openai.APIError as e:
    out["cut_stream"] = error_facts(e)

print(json.dumps(out))
