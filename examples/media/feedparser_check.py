"""feedparser, a reader's parser (not topicfeed's writer), reading the lead
images and the podcast file of examples/media back from the served feeds.

    python3 examples/media/feedparser_check.py BASE_URL MEDIA_URL
"""
import sys

import feedparser

base, media = sys.argv[1], sys.argv[2]
for fmt in ("rss", "atom"):
    d = feedparser.parse(f"{base}/feeds/climate.{fmt}")
    assert not d.bozo, (fmt, d.bozo_exception)
    by_title = {e.title: e for e in d.entries}
    cranes = by_title["Harbour cranes get a solar roof"]
    episode = by_title["Episode 14: climate plans for the port"]
    enclosures = lambda e: [(x.get("href"), x.get("type"), x.get("length")) for x in e.get("enclosures", [])]
    pictures = [m.get("url") for m in cranes.get("media_content", [])]
    pictures += [t.get("url") for t in cranes.get("media_thumbnail", [])]
    print(f"{fmt}: story pictures {pictures}, enclosures {enclosures(cranes)}")
    print(f"{fmt}: episode enclosures {enclosures(episode)}")
    assert (f"{media}/lead.png", "image/png") in [(h, t) for h, t, _ in enclosures(cranes)]
    assert (f"{media}/ep14.mp3", "audio/mpeg", "1000") in enclosures(episode)
    if fmt == "rss":
        assert f"{media}/lead.png" in pictures, pictures
    assert f'src="{media}/lead.png"' in cranes.content[0].value
print("PASS feedparser reads the pictures and the podcast file back in RSS and Atom")
