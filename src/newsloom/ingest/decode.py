"""Content-Encoding decoders with bounded output: gzip, deflate and brotli bodies decoded in pieces.

The fetcher reads bodies raw and feeds them here chunk by chunk, so its size limit counts DECOMPRESSED bytes
and is checked at least every ``DECODE_CHUNK`` bytes of output: a 10 KB gzip or brotli bomb stops at the
limit instead of inflating in memory first.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Protocol

import brotli

from newsloom.errors import FetchError

__all__ = ["ACCEPT_ENCODING", "DECODE_CHUNK", "DECODE_ERRORS", "Decoder", "decoder_for"]

# Only encodings decoded below with a bounded output; zstd is not advertised because it is not decoded here.
ACCEPT_ENCODING = "gzip, deflate, br"
# Decoders hand out at most this many bytes at a time, so the size limit is checked at least every 64 KiB
# of decompressed output however small the compressed input was.
DECODE_CHUNK = 64 * 1024
# Stacked encodings ("gzip, br") are legal but rare; more than this is an attack, not a server.
MAX_STACKED_ENCODINGS = 3
# What a corrupt compressed body raises while being decoded.
DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, brotli.error)


class Decoder(Protocol):
    name: str

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    name = "identity"

    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), DECODE_CHUNK):
            yield data[start : start + DECODE_CHUNK]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (several members allowed) or deflate (zlib-wrapped or raw, as servers send both)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name == "gzip"
        self._decomp: Any = None  # zlib.decompressobj once the format is known
        self._head = b""
        self._passthrough = False
        self._done = False

    def _start(self, data: bytes) -> None:
        if self._gzip:
            if not data.startswith(b"\x1f\x8b"):
                self._passthrough = True  # labelled gzip but sent plain: a common server mistake
            self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            cmf, flg = data[0], data[1]
            is_zlib = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._decomp = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._decomp is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._start(data)
        if self._passthrough:
            yield from _Identity().feed(data)
            return
        pending = data
        while not self._done:
            if self._decomp.eof:
                if not pending:
                    return
                if not (self._gzip and pending.startswith(b"\x1f")):
                    self._done = True  # trailing bytes after the stream are ignored, as browsers do
                    return
                self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
            out = self._decomp.decompress(pending, DECODE_CHUNK)
            if out:
                yield out
            pending = self._decomp.unused_data if self._decomp.eof else self._decomp.unconsumed_tail
            if not pending and (self._decomp.eof or len(out) < DECODE_CHUNK):
                return

    def finish(self) -> Iterator[bytes]:
        if self._decomp is None:
            if self._head:  # a one-byte body: too short to be compressed
                yield self._head
            return
        if not self._passthrough and not self._done and not self._decomp.eof:
            rest = self._decomp.flush()  # a truncated stream: keep what decoded, as browsers do
            if rest:
                yield from _Identity().feed(rest)


class _Brotli:
    name = "br"

    def __init__(self) -> None:
        self._decomp = brotli.Decompressor()
        # brotli >= 1.2 can cap each call's output; older versions decode a whole input chunk at once
        self._bounded = hasattr(self._decomp, "can_accept_more_data")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._bounded:
            yield from _Identity().feed(self._decomp.process(data))
            return
        out = self._decomp.process(data, output_buffer_limit=DECODE_CHUNK)
        if out:
            yield out
        while not self._decomp.can_accept_more_data():
            out = self._decomp.process(b"", output_buffer_limit=DECODE_CHUNK)
            if not out:
                return
            yield out

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Decoders applied in reverse order of the Content-Encoding list, each bounded."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders
        self.name = ", ".join(d.name for d in decoders)

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((data,))
        for decoder in self._decoders:
            pieces = _pipe(decoder, pieces)
        return pieces

    def finish(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            pieces = decoder.finish()
            for later in self._decoders[index + 1 :]:
                pieces = _pipe(later, pieces)
            yield from pieces


def _pipe(decoder: Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


def decoder_for(content_encoding: str | None, url: str) -> Decoder:
    """The decoder for a Content-Encoding header value; ``FetchError`` (naming ``url``) when it is not one we decode."""
    names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
    names = [n for n in names if n != "identity"]
    if len(names) > MAX_STACKED_ENCODINGS:
        raise FetchError(url, f"too many stacked content encodings ({len(names)})")
    decoders: list[Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_Zlib("gzip"))
        elif name == "deflate":
            decoders.append(_Zlib("deflate"))
        elif name == "br":
            decoders.append(_Brotli())
        else:
            raise FetchError(url, f"unsupported content encoding {name[:40]!r}")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
