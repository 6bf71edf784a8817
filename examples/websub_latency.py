"""WebSub delivery latency: ingest an article through the API, time until
the hub's push reaches a subscriber on loopback.

    topicfeed serve --websub-allow-private --api-token TOKEN --no-sources &
    python3 examples/websub_latency.py http://127.0.0.1:8080 TOKEN [ROUNDS]

Prints each round's latency (API answered -> push received) and the median.
"""
import http.server
import json
import queue
import random
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

base, token = sys.argv[1].rstrip("/"), sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
pushes: "queue.Queue[tuple[float, bytes]]" = queue.Queue()
verified = threading.Event()


class Subscriber(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        challenge = q.get("hub.challenge", [""])[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(challenge)))
        self.end_headers()
        self.wfile.write(challenge)
        verified.set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        pushes.put((time.monotonic(), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
threading.Thread(target=server.serve_forever, daemon=True).start()
callback = f"http://127.0.0.1:{server.server_port}/cb"
topic = f"{base}/feeds/all.json"
form = urllib.parse.urlencode(
    {"hub.mode": "subscribe", "hub.callback": callback, "hub.topic": topic}
).encode()
req = urllib.request.Request(f"{base}/websub", data=form,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
assert urllib.request.urlopen(req).status == 202
assert verified.wait(10), "the hub never verified"
time.sleep(0.5)

# Each round's story must be new, not a near-copy of the last (which the
# store merges into it, keeping the first copy's link).
WORDS = ("harbour ferry council island timetable crossing summer winter port quay "
         "residents operator vote budget fares pier engine crew schedule weather tide "
         "route boat passengers season tourism fishing cargo bridge road bus train "
         "school market festival library museum hospital clinic farm river coast "
         "beach cliff lighthouse storm wind rain snow fog harvest orchard vineyard").split()
rng = random.Random(time.time_ns())

def story_text(i):
    sentences = []
    for _ in range(6):
        words = rng.sample(WORDS, 12)
        sentences.append(f"Round {i}: " + " ".join(words).capitalize() + ".")
    return " ".join(sentences[:3]) + "\n\n" + " ".join(sentences[3:])

latencies = []
for i in range(rounds):
    link = f"https://ledger.example/latency/{time.time_ns()}"
    article = json.dumps({
        "title": f"Harbour council votes on ferry timetable ({i + 1})",
        "url": link,
        "content": story_text(i),
    }).encode()
    req = urllib.request.Request(f"{base}/api/articles", data=article, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    urllib.request.urlopen(req).read()
    sent = time.monotonic()
    while True:
        at, body = pushes.get(timeout=10)
        if link.encode() in body:
            break
    latencies.append((at - sent) * 1000)
    print(f"round {i + 1}: {latencies[-1]:.0f} ms")
    time.sleep(0.3)
print(f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms over {rounds} pushes")
