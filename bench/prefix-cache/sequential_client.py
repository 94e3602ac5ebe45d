"""Scores eight responses to one long conversation through /get_reward, one request each, one after another
(a trainer scoring samples as they come), and prints the total time, the first and the later requests'
latencies, the server's token counters, and the rewards (to compare runs).

Usage: python3 sequential_client.py PORT HELPSTEER2_JSONL
The conversation: the first three rows' prompts and responses as earlier turns, then the fourth row's
prompt, in Qwen chat markup; each row's response (first 400 characters) is one sample.
"""
import json
import sys
import time
import urllib.request

port, rows_path = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(rows_path) if line.strip()]
context = ""
for row in rows[:3]:
    context += f"<|im_start|>user\n{row['prompt']}<|im_end|>\n<|im_start|>assistant\n{row['response']}<|im_end|>\n"
context += f"<|im_start|>user\n{rows[3]['prompt']}<|im_end|>\n<|im_start|>assistant\n"

seconds, rewards = [], []
for row in rows[:8]:
    body = json.dumps({"query": [context + row["response"][:400] + "<|im_end|>"]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/get_reward", body, {"Content-Type": "application/json"})
    start = time.time()
    answer = json.load(urllib.request.urlopen(request))
    seconds.append(time.time() - start)
    rewards.append(answer["rewards"][0])

metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
counters = [line for line in metrics.splitlines()
            if line.startswith(("arbiter_tokens_total", "arbiter_computed_tokens_total"))]
later = sorted(seconds[1:])
print(f"total {sum(seconds):.2f} s; first {seconds[0]:.2f} s, later median {later[len(later) // 2]:.2f} s; "
      + "; ".join(counters))
print(json.dumps(rewards))
