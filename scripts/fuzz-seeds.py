#!/usr/bin/env python3
"""Fuzz seeds far larger than a real vendor answer, made from the adapters' fixtures.

Usage: scripts/fuzz-seeds.py OUT_DIR SELECTOR FIXTURE...

For each fixture (a JSON answer) it writes, behind the endpoint SELECTOR byte and a 200:
  many  - its longest array grown to thousands of items (about 4 MiB);
  long  - its longest string made 3 MiB of mixed ASCII, CJK and escapes;
  deep  - its longest array's first item nested 120 levels deep (within the JSON parser's
          limit) and 50,000 levels deep (past it);
  same  - for a transcript (a top-level array of sentences): thousands of sentences (about
          4 MiB) sharing one `order`.
Every seed stays under the 8 MiB `-max_len` that scripts/fuzz.sh gives libFuzzer.
"""

import json
import os
import sys

TARGET_BYTES = 4 << 20
MAX_BYTES = 7 << 20


def walk(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, path + (index,))


def replace(value, path, new):
    if not path:
        return new
    copy = value.copy()
    copy[path[0]] = replace(value[path[0]], path[1:], new)
    return copy


def longest(value, kind):
    found = [(len(v), p) for p, v in walk(value) if isinstance(v, kind)]
    return max(found, key=lambda f: f[0])[1] if found else None


def encode(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def many(value):
    path = longest(value, list)
    if path is None:
        return None
    items = [item for p, item in walk(value) if p == path][0]
    if not items:
        return None
    size = max(1, len(encode(items)) // len(items))
    count = max(2000, min(200_000, TARGET_BYTES // size))
    return replace(value, path, [items[i % len(items)] for i in range(count)])


def long(value):
    path = longest(value, str)
    if path is None:
        return None
    piece = 'abc 客户还在吗？ "quoted" \\ \t\n\u00e9\U0001f600 '
    return replace(value, path, piece * ((3 << 20) // len(piece.encode())))


def deep(value, depth):
    path = longest(value, list)
    if path is None:
        return None
    items = [item for p, item in walk(value) if p == path][0]
    inner = json.dumps(items[0] if items else None)
    wrapped = '[{"a":' * (depth // 2) + inner + "}]" * (depth // 2)
    marker = "\u0000deep\u0000"
    text = json.dumps(replace(value, path, marker))
    return text.replace(json.dumps(marker), wrapped, 1).encode()


def same_order(value):
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return None
    sentence = dict(value[0], order=0)
    return [sentence] * max(2000, TARGET_BYTES // len(encode(sentence)))


def main():
    out, selector, fixtures = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    for fixture in fixtures:
        with open(fixture, encoding="utf-8") as file:
            value = json.load(file)
        seeds = {
            "many": many(value),
            "long": long(value),
            "deep120": deep(value, 120),
            "deep50000": deep(value, 50_000),
            "same": same_order(value),
        }
        name = os.path.basename(fixture)
        for variant, seed in seeds.items():
            if seed is None:
                continue
            body = seed if isinstance(seed, bytes) else encode(seed)
            if len(body) > MAX_BYTES:
                sys.exit(f"fuzz-seeds: {variant} of {fixture} is {len(body)} bytes")
            path = os.path.join(out, f"big-{variant}-{selector}-{name}")
            with open(path, "wb") as file:
                file.write(bytes([selector, 0]) + body)


if __name__ == "__main__":
    main()
