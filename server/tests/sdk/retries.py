"""The official `openai` SDK with its default retries against a gateway whose provider fails.

Reads BASE, TOKEN and MODEL (a fake-provider model name with a failure directive); makes one
call with the SDK's default `max_retries` and prints what the SDK raised and how long it took.
"""

import json
import os
import time

import openai

client = openai.OpenAI(base_url=os.environ["BASE"], api_key=os.environ["TOKEN"], timeout=60)
started = time.monotonic()
try:
    client.chat.completions.create(
        model=os.environ["MODEL"], messages=[{"role": "user", "content": "hi"}]
    )
    out = {"type": None}
except openai.APIError as e:
    out = {
        "type": type(e).__name__,
        "status": getattr(e, "status_code", None),
        "code": getattr(e, "code", None),
    }
out["max_retries"] = client.max_retries
out["seconds"] = round(time.monotonic() - started, 2)
print(json.dumps(out))
