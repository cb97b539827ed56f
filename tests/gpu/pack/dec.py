"""Decompress a zstd stream from stdin to stdout; a stream cut short ends quietly (unpack.sh)."""

import sys

import zstandard

reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(
    sys.stdin.buffer, read_across_frames=True
)
try:
    while True:
        block = reader.read(1 << 20)
        if not block:
            break
        sys.stdout.buffer.write(block)
except zstandard.ZstdError as e:
    print("dec: stream ends early:", e, file=sys.stderr)
