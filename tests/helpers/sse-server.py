#!/usr/bin/env python3
"""sse-server.py - a Server-Sent-Events server for streamkit's tests.

Usage:
  sse-server.py [--host 127.0.0.1] [--port 0] [--tls CERT KEY]
                (--events FILE | --fast FILE [--repeat N]) [--connections SPEC]
                [--heartbeat S] [--retry-after S] [--ignore-last-event-id]
                [--eol lf|crlf|cr|mixed] [--bom] [--chunk byte|N|split-utf8]
                [--write-delay S] [--gzip] [--log FILE|-]

Python 3.11 standard library only. The bats suites and the demo start it in
the background, read the first line of its stdout to learn its URL and stop
it by pid.

Starting and stopping
  Once listening, the server prints exactly one line, http://HOST:PORT (or
  https://HOST:PORT with --tls; an IPv6 HOST is bracketed), flushes it, and
  points its stdout at /dev/null, so nothing else is ever written there and a
  reader of a pipe sees end of file after the line. --port 0 (the default)
  picks a free port. SIGTERM (or SIGINT) ends it at once with status 0 (130
  for SIGINT), open connections included. Start-up errors (a missing file, a
  bad SPEC, a port in use) exit 2 with a message on stderr.

Requests
  Any path serves the stream, to GET; HEAD gets the same status and headers
  and no body. Other methods get 501. Every response closes its connection,
  so each request arrives on a connection of its own.

--events FILE: the stream, one JSON object a line (NDJSON)
  Keys, all optional, are composed into field lines in the order they appear
  in the object, and the event ends with a blank line:
    "id": "X"       id: X           (a number is written as its digits)
    "event": "X"    event: X
    "data": "X"     data: X         one data: line per "\\n"-separated line;
                                    a value that is not a string is written
                                    as compact JSON
    "retry": N      retry: N        (a string is written as it is)
    "comment": "X"  : X             one comment line per line
    "raw": "X"      X, verbatim, INSTEAD of composing anything: no line ending
                    or blank line is added. It may hold any bytes: the string
                    is encoded as latin-1 when all its code points are below
                    256 (so "\\u00ff" is the byte 0xff), else as UTF-8. An
                    "id" beside "raw" is not written; it only names the
                    event's position for resuming (see below).
  A null value is as if the key were absent ("id": null writes no id line).
  An empty value writes the field name and a colon, no space: "id": "" writes
  "id:", "data": "" writes "data:", "comment": "" writes ":". Lone surrogates
  ("\\ud800") are written as their 3-byte (invalid) UTF-8 forms. Unknown keys,
  lines that are not JSON objects and blank lines are skipped, the first two
  with a warning on stderr; an unparsable last line with no newline is taken
  to be half-written and skipped quietly.
  The file is read again for every connection, so lines appended while the
  server runs are served to the connections that come after.

--fast FILE [--repeat N]: a pre-rendered stream, for benchmarks
  The file holds the exact bytes to send (N times over, for all and
  all-close: a long stream from a small file); they are sent as fast as
  possible (a memory map, written in slices of 4 MiB). Last-Event-ID is
  ignored. For the N forms of SPEC an event ends at a blank line (any line
  endings).

--eol lf|crlf|cr|mixed
  The line ending of composed lines (default lf); mixed cycles lf, cr, crlf,
  line by line (the blank lines and heartbeats included), from lf at the
  start of each connection; in that order, because a CR ending followed by
  an empty line ended by LF would read as one CRLF. Raw events and --fast streams are untouched.

--bom
  Write a UTF-8 byte order mark (EF BB BF) at the start of each stream body.

Resuming (--events only)
  When the request has a Last-Event-ID header and --ignore-last-event-id is
  not given, the stream starts after the LAST event of the file whose id is
  byte for byte the header's value (the bytes after the colon and any spaces
  or tabs that follow it); when no event has that id it starts at the
  beginning. Events without an id still hold positions in the file.

--connections SPEC
  Comma-separated items; item k applies to the k-th connection (counted from
  1 across the server's life, in the order the requests arrive, HEAD
  included; a connection that never sends a request, such as a failed TLS
  handshake or a port probe, is not counted) and the last item applies to
  every connection after it. The default is "all". The items:
    all           send every (remaining) event, then keep the connection open,
                  writing heartbeats if --heartbeat is given, until the client
                  goes away or the server ends
    all-close     send every remaining event, then end the body cleanly (the
                  final empty chunk) and close
    N             send N events (counted from the resume point), then end
                  cleanly and close; fewer if the stream has fewer
    N-mid         send N events and the first half of event N+1's bytes,
                  then close without ending the body (a drop mid-event)
    N-reset       send N events, wait until the client's kernel has
                  acknowledged them, then abort with a TCP RST (SO_LINGER 0)
    N-silent      send N events, then send nothing at all, heartbeats
                  neither, until the client goes away or the server ends
    status:CODE   answer status CODE (200-599) with a short text/plain body
                  (none for 204, 205 and 304) and close; 429 and 503 carry
                  Retry-After: S when --retry-after S is given (S is written
                  as given); 301, 302, 303, 307 and 308 carry a Location that
                  is the request's own path
    ctype:TYPE    answer 200 with Content-Type: TYPE (no Content-Type at all
                  for "ctype:") and a small body, "data: not an event
                  stream" and a blank line, then close
  Example: "2-mid,status:503,all" - the first connection gets two events and
  half of the third, the second a 503, the rest the whole stream.

Stream responses
  200 with Content-Type: text/event-stream; charset=utf-8, Cache-Control:
  no-cache and Connection: close; the body is chunked for HTTP/1.1 requests
  and plain (ended by closing) for HTTP/1.0 ones. With --gzip, a request
  whose Accept-Encoding mentions gzip gets Content-Encoding: gzip and a gzip
  stream with a sync flush (Z_SYNC_FLUSH) after every event (or batch of
  events gathered into one write, below), every heartbeat and the half event
  of N-mid, so the client can decode each as soon as it arrives.

--heartbeat S
  While idle in the "all" item, write the comment line ": heartbeat" every S
  seconds (a fraction allowed).

--chunk byte|N|split-utf8, --write-delay S
  How the body's bytes (after gzip, if any) are cut into writes; each write
  is one HTTP chunk and the socket has TCP_NODELAY set:
    (default)     one write per event; with no --write-delay the events are
                  gathered into writes of up to 256 KiB instead
    byte          one byte per write
    N             writes of N bytes, cut without regard to events
    split-utf8    each event in two writes, cut just after the first byte of
                  its first multi-byte UTF-8 sequence when it has one, else in
                  the middle
  --write-delay S sleeps S seconds (a fraction allowed) between writes.

--log FILE|-
  For each request, append "REQUEST <method> <path> <http-version>" (the
  path as sent: an absolute URL from a client talking to a proxy), then each
  header line exactly as received, then a blank line, flushed at once.
  "-" means stderr. Unexpected errors (bugs) are reported there too, or on
  stderr without --log; a client that goes away is not an error and is
  never reported.

--tls CERT KEY
  Serve HTTPS with that certificate chain and key (PEM files).
"""

import argparse
import errno
import fcntl
import json
import mmap
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import termios
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROG = "sse-server.py"
BOM = b"\xef\xbb\xbf"
BATCH_BYTES = 256 * 1024          # default writes gather events up to this
FAST_SLICE = 4 * 1024 * 1024      # --fast writes
EOLS = {"lf": [b"\n"], "crlf": [b"\r\n"], "cr": [b"\r"],
        "mixed": [b"\n", b"\r", b"\r\n"]}   # never CR then LF: that reads as one CRLF
REDIRECTS = (301, 302, 303, 307, 308)
NO_BODY = (204, 205, 304)
CTYPE_BODY = b"data: not an event stream\n\n"

# A line ending, as the event stream format knows them, and a blank line
# after one: where an event of a --fast file ends.
_EOL = rb"(?:\r\n|\r(?!\n)|\n)"
EVENT_END = re.compile(_EOL + _EOL)
# The first byte of a multi-byte UTF-8 sequence, with a continuation byte.
UTF8_LEAD = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def warn(message):
    """A message for the person running the tests, on stderr."""
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def is_disconnect(exc):
    """Whether an exception only says that the client went away."""
    if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
        return True
    return isinstance(exc, OSError) and exc.errno in (
        errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN,
        errno.EBADF)


# --- The connection SPEC ---------------------------------------------------

class Item:
    """One item of --connections: what a connection gets.

    kind is "all", "close" (all-close and N), "mid", "reset", "silent",
    "status" or "ctype"; count is the number of events to send (None for
    all of them); code and ctype belong to status: and ctype:.
    """

    def __init__(self, kind, count=None, code=None, ctype=None):
        self.kind, self.count, self.code, self.ctype = kind, count, code, ctype


def parse_item(text):
    """An Item from one comma-separated piece of SPEC; ValueError if bad."""
    if text == "all":
        return Item("all")
    if text == "all-close":
        return Item("close")
    m = re.fullmatch(r"(\d+)(?:-(mid|reset|silent))?", text)
    if m:
        return Item(m.group(2) or "close", count=int(m.group(1)))
    m = re.fullmatch(r"status:(\d{3})", text)
    if m and 200 <= int(m.group(1)) <= 599:
        return Item("status", code=int(m.group(1)))
    if text.startswith("ctype:"):
        return Item("ctype", ctype=text[len("ctype:"):])
    raise ValueError(f"bad item {text!r}")


def parse_spec(text):
    """--connections: a non-empty list of Items."""
    try:
        return [parse_item(piece.strip()) for piece in text.split(",")]
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"{e} (items: all, all-close, N, N-mid, N-reset, N-silent, "
            f"status:CODE, ctype:TYPE)") from None


# --- The events file --------------------------------------------------------

class Eol:
    """The line endings of one connection's composed lines, in turn."""

    def __init__(self, name):
        self.endings, self.turn = EOLS[name], 0
        # The one ending of every --eol but mixed, for a faster render().
        self.fixed = self.endings[0] if len(self.endings) == 1 else None

    def next(self):
        ending = self.endings[self.turn % len(self.endings)]
        self.turn += 1
        return ending


class Event:
    """One event of the events file: its id as bytes (None without one), and
    either its composed lines (bytes, without line endings) or raw bytes."""

    __slots__ = ("ident", "lines", "raw")

    def __init__(self, ident, lines, raw):
        self.ident, self.lines, self.raw = ident, lines, raw

    def render(self, eol):
        """The event's bytes on the wire, taking line endings from eol."""
        if self.raw is not None:
            return self.raw
        if eol.fixed is not None:
            if not self.lines:
                return eol.fixed
            return eol.fixed.join(self.lines) + eol.fixed + eol.fixed
        out = [line + eol.next() for line in self.lines]
        out.append(eol.next())
        return b"".join(out)


def utf8(text):
    """UTF-8, lone surrogates included (as invalid 3-byte forms)."""
    return text.encode("utf-8", "surrogatepass")


def field(name, value):
    """A field line: "name: value", or "name:" when value is empty."""
    return utf8(f"{name}: {value}" if value else f"{name}:")


JSON = json.JSONDecoder()


def parse_json(line):
    """One line of the events file (bytes) decoded; ValueError if it is not
    one JSON value. (JSONDecoder.raw_decode on text is json.loads without
    its per-call overhead, which is most of the cost of 100,000 lines.)"""
    text = line.decode("utf-8").strip(" \t\r")
    value, end = JSON.raw_decode(text)
    if end != len(text):
        raise ValueError(f"extra data at column {end + 1}")
    return value


def make_event(obj, path, number):
    """An Event from line number of the events file, decoded."""
    ident, lines, raw = None, [], None
    for key, value in obj.items():
        if value is None:
            continue
        if key in ("id", "retry") and isinstance(value, int) \
                and not isinstance(value, bool):
            value = str(value)
        if key == "data" and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False,
                               separators=(",", ":"))
        if key not in ("id", "event", "data", "retry", "comment", "raw"):
            warn(f"{path}:{number}: unknown key {key!r} ignored")
        elif not isinstance(value, str):
            warn(f"{path}:{number}: {key!r} is not a string; ignored")
        elif key == "raw":
            if all(ord(c) < 256 for c in value):
                raw = value.encode("latin-1")
            else:
                raw = utf8(value)
        elif key == "id":
            ident = utf8(value)
            lines.append(field("id", value))
        elif key in ("data", "comment"):
            name = "" if key == "comment" else key
            lines.extend(field(name, part) for part in value.split("\n"))
        else:
            lines.append(field(key, value))
    return Event(ident, lines, raw)


class Snapshot:
    """One reading of the events file, parsed.

    events: the Events in order; after: for each id, the index just after its
    last event; rendered: each event's bytes, when the line endings do not
    depend on the position (every --eol but mixed).
    """

    def __init__(self, content, path, eol_name):
        self.events, self.after = [], {}
        lines = content.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = parse_json(line)
            except ValueError as e:
                if number < len(lines):  # else: still being written
                    warn(f"{path}:{number}: not JSON ({e}); line skipped")
                continue
            if not isinstance(obj, dict):
                warn(f"{path}:{number}: not a JSON object; line skipped")
                continue
            event = make_event(obj, path, number)
            if event.ident is not None:
                self.after[event.ident] = len(self.events) + 1
            self.events.append(event)
        self.rendered = None
        if eol_name != "mixed":
            eol = Eol(eol_name)
            self.rendered = [e.render(eol) for e in self.events]


class EventsSource:
    """--events FILE: read again for every connection, parsed again only
    when its content has changed."""

    def __init__(self, path, eol_name):
        self.path, self.eol_name = path, eol_name
        self.lock = threading.Lock()
        self.content, self.snapshot = None, None

    def load(self):
        with open(self.path, "rb") as f:
            content = f.read()
        with self.lock:
            if content != self.content:
                self.snapshot = Snapshot(content, self.path, self.eol_name)
                self.content = content
            return self.snapshot

    def prepare(self, last_id, item, eol):
        """(units, partial) for one connection: the events to send, as a list
        of bytes, and for N-mid the first half of the next event (or None)."""
        snap = self.load()
        start = 0 if last_id is None else snap.after.get(last_id, 0)
        stop = len(snap.events) if item.count is None \
            else min(len(snap.events), start + item.count)
        if snap.rendered is not None:
            units = snap.rendered[start:stop]
            render_next = (lambda: snap.rendered[stop])
        else:
            units = [e.render(eol) for e in snap.events[start:stop]]
            render_next = (lambda: snap.events[stop].render(eol))
        partial = None
        if item.kind == "mid" and stop < len(snap.events):
            event = render_next()
            partial = event[:len(event) // 2]
        return units, partial


class FastSource:
    """--fast FILE: the stream's exact bytes, memory-mapped per connection."""

    def __init__(self, path, repeat=1):
        self.path, self.repeat = path, repeat

    def prepare(self, last_id, item, eol):
        """(units, partial) as EventsSource.prepare, units being slices of
        the mapped file."""
        with open(self.path, "rb") as f:
            if os.fstat(f.fileno()).st_size:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            else:
                data = b""
        view = memoryview(data)
        size, partial = len(view), None
        end = size
        if item.count is not None:
            ends = [0]  # ends[k]: where event k ends (k counted from 1)
            for m in EVENT_END.finditer(data):
                ends.append(m.end())
                if len(ends) > item.count + 1:
                    break
            if item.count < len(ends):
                end = ends[item.count]
            if item.kind == "mid" and end < size:
                after = ends[item.count + 1] \
                    if item.count + 1 < len(ends) else size
                partial = view[end:end + (after - end) // 2]
        # --repeat: a whole stream sent that many times (all and all-close)
        times = self.repeat if item.count is None else 1
        units = (view[i:min(i + FAST_SLICE, end)]
                 for _ in range(times) for i in range(0, end, FAST_SLICE))
        return units, partial


# --- Writing a body ----------------------------------------------------------

def gathered(units, limit):
    """Units gathered into pieces of up to limit bytes (bigger units alone)."""
    pending, size = [], 0
    for unit in units:
        if pending and size + len(unit) > limit:
            yield b"".join(pending)
            pending, size = [], 0
        if len(unit) >= limit:
            yield unit
        else:
            pending.append(unit)
            size += len(unit)
    if pending:
        yield b"".join(pending)


def split_utf8(data):
    """data in two: inside its first multi-byte UTF-8 sequence, or halved."""
    m = UTF8_LEAD.search(data)
    cut = m.start() + 1 if m else len(data) // 2
    return data[:cut], data[cut:]


class BodyWriter:
    """Writes a response body: gzip, the --chunk pattern, --write-delay, and
    chunked framing (for HTTP/1.1) of every write."""

    def __init__(self, sock, chunked, gzip, chunk, delay):
        self.sock, self.chunked, self.chunk, self.delay = \
            sock, chunked, chunk, delay
        self.gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip else None
        self.wrote = False

    def send(self, units):
        """Write units (bytes-like: events, or slices of a --fast file)."""
        if self.chunk is None and not self.delay:
            units = gathered(units, BATCH_BYTES)
        if self.gzip:
            units = (self.gzip.compress(u) + self.gzip.flush(zlib.Z_SYNC_FLUSH)
                     for u in units)
        if isinstance(self.chunk, int):
            data = b"".join(units)
            pieces = (data[i:i + self.chunk]
                      for i in range(0, len(data), self.chunk))
        elif self.chunk == "split-utf8":
            pieces = (half for u in units for half in split_utf8(u))
        else:
            pieces = units
        for piece in pieces:
            self._write(piece)

    def end(self):
        """End the body cleanly: the gzip trailer, the final empty chunk."""
        if self.gzip:
            self._write(self.gzip.flush(zlib.Z_FINISH))
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")

    def _write(self, piece):
        if not piece:
            return  # an empty chunk would end the body
        if self.wrote and self.delay:
            time.sleep(self.delay)
        self.wrote = True
        if not self.chunked:
            self.sock.sendall(piece)
        elif len(piece) < 65536:
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        else:
            self.sock.sendall(b"%x\r\n" % len(piece))
            self.sock.sendall(piece)
            self.sock.sendall(b"\r\n")


# --- Ending a connection -----------------------------------------------------

def unsent_bytes(sock):
    """Bytes of sock's send queue not yet acknowledged by the peer."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def drain(sock, seconds):
    """Read and drop what the client sends until it closes, for at most
    seconds: a close with unread data would turn into a RST."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(65536):
                return
    except (OSError, ValueError):
        pass


def client_gone(sock):
    """After sock turned readable: whether the client closed its end
    (anything it sends is read and ignored)."""
    try:
        return not sock.recv(65536)
    except ssl.SSLWantReadError:
        return False
    except (OSError, ValueError):
        return True


# --- HTTP ---------------------------------------------------------------------

class LineRecorder:
    """A file wrapper keeping the lines read through it: the header lines,
    exactly as received, for --log."""

    def __init__(self, fp):
        self.fp, self.lines = fp, []

    def readline(self, *args):
        line = self.fp.readline(*args)
        self.lines.append(line)
        return line


class Handler(BaseHTTPRequestHandler):
    """One connection, hence one request (every response closes)."""

    protocol_version = "HTTP/1.1"
    server_version = "sse-server"

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def parse_request(self):
        recorder = LineRecorder(self.rfile)
        self.rfile = recorder
        try:
            ok = super().parse_request()
        finally:
            self.rfile = recorder.fp
        if ok:
            headers = [line.rstrip(b"\r\n") for line in recorder.lines]
            self.server.log_request_lines(
                self.command, self.path, self.request_version,
                [h for h in headers if h])
        return ok

    def log_message(self, format, *args):
        pass  # no access log on stderr; --log has the requests

    def do_GET(self):
        self.respond(body=True)

    def do_HEAD(self):
        self.respond(body=False)

    def respond(self, body):
        """Answer the request as the connection's SPEC item says."""
        server = self.server
        item = server.next_item()
        self.close_connection = True
        if item.kind == "status":
            return self.send_simple(item.code, body)
        if item.kind == "ctype":
            return self.send_simple(200, body, ctype=item.ctype)
        last_id = self.headers.get("Last-Event-ID")
        if last_id is not None and not server.options.ignore_last_event_id:
            last_id = last_id.encode("latin-1")  # as received: bytes
        else:
            last_id = None
        eol = Eol(server.options.eol)
        try:
            units, partial = server.source.prepare(last_id, item, eol)
        except OSError as e:
            warn(f"cannot read {e.filename}: {e.strerror}")
            return self.send_simple(500, body)
        gzip = server.options.gzip and \
            "gzip" in self.headers.get("Accept-Encoding", "").lower()
        chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        if not body:
            return self.close_cleanly()
        writer = BodyWriter(self.connection, chunked, gzip,
                            server.options.chunk, server.options.write_delay)
        if server.options.bom:
            writer.send([BOM])
        writer.send(units)
        if item.kind == "all":
            self.wait_for_client(writer, server.options.heartbeat, eol)
        elif item.kind == "silent":
            self.wait_for_client(None, None, None)
        elif item.kind == "mid":
            if partial:
                writer.send([partial])
            self.close_abruptly()
        elif item.kind == "reset":
            self.close_with_reset()
        else:
            writer.end()
            self.close_cleanly()

    def send_simple(self, code, body, ctype=None):
        """A status: or ctype: answer (or a 500): a small body, then close."""
        if ctype is not None:
            content = CTYPE_BODY
        elif code in NO_BODY:
            content, ctype = b"", None
        else:
            phrase = self.responses.get(code, ("",))[0]
            content = f"{code} {phrase}\n".encode()
            ctype = "text/plain; charset=utf-8"
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        retry_after = self.server.options.retry_after
        if code in (429, 503) and retry_after is not None:
            self.send_header("Retry-After", retry_after)
        if code in REDIRECTS:
            self.send_header("Location", self.path)
        if code not in NO_BODY:
            self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body and content:
            self.wfile.write(content)
        self.close_cleanly()

    def wait_for_client(self, writer, heartbeat, eol):
        """Keep the connection open until the client closes it, writing a
        heartbeat every heartbeat seconds when asked to."""
        sock = self.connection
        poller = select.poll()  # not select(): any descriptor number
        poller.register(sock, select.POLLIN)
        due = time.monotonic() + heartbeat if heartbeat else None
        while True:
            timeout = None if due is None \
                else max(0, int((due - time.monotonic()) * 1000))
            if poller.poll(timeout):  # readable, closed or failed
                if client_gone(sock):
                    return
            elif due is not None:
                writer.send([b": heartbeat" + eol.next()])
                due = time.monotonic() + heartbeat

    def close_cleanly(self):
        """The end of a complete response: close_notify (TLS), then FIN."""
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.settimeout(1)
                sock.unwrap()
            except (OSError, ValueError):
                pass
        self.close_abruptly()

    def close_abruptly(self):
        """FIN, without ending the body (nor TLS), then wait for the client
        to close its end."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            return
        drain(self.connection, 2)

    def close_with_reset(self):
        """Abort with a RST once what was sent has reached the client: a RST
        discards the send queue, not what the client's kernel holds."""
        sock = self.connection
        deadline = time.monotonic() + 5
        try:
            while unsent_bytes(sock) and time.monotonic() < deadline:
                time.sleep(0.002)
        except OSError:
            pass
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        os.close(sock.detach())


class Server(ThreadingHTTPServer):
    """The listening server: the options, the SPEC, the connection count,
    the source of the stream, the log."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, options, source):
        self.options = options
        self.items = options.connections
        self.count, self.count_lock = 0, threading.Lock()
        self.log_lock = threading.Lock()
        self.log = None
        if options.log == "-":
            self.log = sys.stderr.buffer
        elif options.log:
            self.log = open(options.log, "ab")
        self.source = source
        self.tls = None
        if options.tls:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(*options.tls)
        if ":" in options.host:
            self.address_family = socket.AF_INET6
        super().__init__((options.host, options.port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind would look the host's name up in the DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def next_item(self):
        """The SPEC item of the next connection (thread-safe)."""
        with self.count_lock:
            n = self.count
            self.count += 1
        return self.items[min(n, len(self.items) - 1)]

    def finish_request(self, request, client_address):
        """Serve one accepted connection, in its thread; with --tls, the
        handshake happens here rather than in the accepting thread."""
        if self.tls is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(10)
            request = self.tls.wrap_socket(request, server_side=True)
            request.settimeout(None)
        except (OSError, ValueError):
            return  # a failed handshake: not a request, not counted
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            request.close()  # the plain socket was detached by wrap_socket

    def handle_error(self, request, client_address):
        """An exception out of a handler: quiet when the client went away,
        else a traceback in the log (or on stderr)."""
        if is_disconnect(sys.exc_info()[1]):
            return
        self.write_log(f"{PROG}: error serving {client_address}:\n"
                       f"{traceback.format_exc()}".encode(), sys.stderr.buffer)

    def log_request_lines(self, method, path, version, header_lines):
        """--log: the request line, its header lines, a blank line."""
        if self.log is None:
            return
        text = f"REQUEST {method} {path} {version}\n".encode("latin-1")
        text += b"".join(line + b"\n" for line in header_lines) + b"\n"
        self.write_log(text)

    def write_log(self, data, fallback=None):
        stream = self.log or fallback
        if stream is None:
            return
        with self.log_lock:
            stream.write(data)
            stream.flush()


# --- Command line ----------------------------------------------------------------

def chunk_type(text):
    if text in ("byte", "split-utf8"):
        return 1 if text == "byte" else text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError("byte, split-utf8 or a positive number")


def seconds(text, positive=False):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0 or (positive and value == 0):
        raise argparse.ArgumentTypeError(f"bad number of seconds {text!r}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG, description="A Server-Sent-Events server for tests "
        "(see the docstring at the top of this file).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", metavar="FILE")
    source.add_argument("--fast", metavar="FILE")
    p.add_argument("--repeat", metavar="N", type=int, default=1)
    p.add_argument("--connections", metavar="SPEC", type=parse_spec,
                   default=parse_spec("all"))
    p.add_argument("--heartbeat", metavar="S",
                   type=lambda s: seconds(s, positive=True))
    p.add_argument("--retry-after", metavar="S")
    p.add_argument("--ignore-last-event-id", action="store_true")
    p.add_argument("--eol", choices=EOLS, default="lf")
    p.add_argument("--bom", action="store_true")
    p.add_argument("--chunk", type=chunk_type,
                   metavar="byte|N|split-utf8")
    p.add_argument("--write-delay", metavar="S", type=seconds, default=0.0)
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--log", metavar="FILE|-")
    options = p.parse_args(argv)
    path = options.events or options.fast
    if not os.path.isfile(path):
        p.error(f"no such file: {path}")
    return p, options


class Stop(Exception):
    """Raised in the main thread by SIGTERM and SIGINT."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def stop(signum, frame):
    raise Stop(130 if signum == signal.SIGINT else 0)


def main(argv=None):
    parser, options = parse_args(argv)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    try:
        if options.events:
            source = EventsSource(options.events, options.eol)
            source.load()  # its warnings now rather than at a connection
        else:
            source = FastSource(options.fast, options.repeat)
        try:
            server = Server(options, source)
        except OSError as e:  # the address, --tls files, --log FILE
            parser.error(f"cannot start: {e}")
        host = f"[{options.host}]" if ":" in options.host else options.host
        scheme = "https" if options.tls else "http"
        try:
            print(f"{scheme}://{host}:{server.server_address[1]}", flush=True)
        except OSError:
            pass  # nobody reads stdout: serve anyway
        # Nothing else goes to stdout, and a pipe's reader sees its end now.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        server.serve_forever()
    except Stop as s:
        status = s.status
    # Connection threads may be blocked in writes or waits: leave at once.
    os._exit(status)


if __name__ == "__main__":
    main()
