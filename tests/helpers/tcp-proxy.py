#!/usr/bin/env python3
"""tcp-proxy.py PORT - a TCP proxy on 127.0.0.1 to 127.0.0.1:PORT that can be
taken down and brought back, as a server that restarts looks to its
clients: SIGUSR1 resets every connection and closes the listening socket
(new connections are refused), SIGUSR2 listens again on the same port.
Prints its port first; SIGTERM ends it. Python 3 standard library only."""
import selectors
import signal
import socket
import struct
import sys

target = ("127.0.0.1", int(sys.argv[1]))
sel = selectors.DefaultSelector()
pairs = {}            # socket -> its other end
listener = None
port = 0
down_asked = up_asked = False


def listen():
    global listener, port
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    port = listener.getsockname()[1]
    sel.register(listener, selectors.EVENT_READ)


def close(s, reset=False):
    other = pairs.pop(s, None)
    for x in (s, other):
        if x is None or x.fileno() < 0:
            continue
        pairs.pop(x, None)
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        if reset:
            # SO_LINGER 0: a reset, as a process that died leaves
            x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        x.close()


def down():
    global listener
    for s in list(pairs):
        close(s, reset=True)
    if listener is not None:
        sel.unregister(listener)
        listener.close()
        listener = None


def on_signal(signum, frame):
    global down_asked, up_asked
    if signum == signal.SIGUSR1:
        down_asked = True
    else:
        up_asked = True


signal.signal(signal.SIGUSR1, on_signal)
signal.signal(signal.SIGUSR2, on_signal)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
listen()
print(port, flush=True)
while True:
    if down_asked:
        down_asked = False
        down()
    if up_asked:
        up_asked = False
        if listener is None:
            listen()
    for key, _ in sel.select(timeout=0.05):
        s = key.fileobj
        if s is listener:
            c, _ = listener.accept()
            try:
                u = socket.create_connection(target)
            except OSError:
                c.close()
                continue
            pairs[c], pairs[u] = u, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(u, selectors.EVENT_READ)
            continue
        if s not in pairs:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            close(s)
            continue
        try:
            pairs[s].sendall(data)
        except OSError:
            close(s)
