#!/usr/bin/env python3
"""tests/netns/churn.py: short TCP connections, many of them (stdlib only).

  server ADDR PORT
      Accepts, sends one byte, closes (the server closes first, so the
      server side keeps TIME_WAIT, as a web server does).  Runs until
      killed.
  client ADDR PORT COUNT CONCURRENCY TIMEOUT MAX_FAILURES DEADLINE
      Opens COUNT connections, CONCURRENCY at a time (non-blocking, one
      epoll loop): connect, read until EOF, close.  A connection fails if
      it is not done within TIMEOUT seconds (SYN and retransmissions lost:
      "timeout"), is refused or reset, or ends without the server's byte.
      Stops early after MAX_FAILURES failures or DEADLINE seconds, so that
      a broken path fails the test instead of hanging it.  Prints
      "connections=N ok=K timeouts=T errors=E secs=S cps=R stopped=WHY"
      and exits 0 if all COUNT succeeded, 1 otherwise.
"""
import errno
import os
import select
import socket
import sys
import time


def server(a):
    addr, port = a[0], int(a[1])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4096)
    while True:
        c, _ = ls.accept()
        try:
            c.send(b"x")
        except OSError:
            pass
        c.close()


def client(a):
    addr, port = a[0], int(a[1])
    count, conc = int(a[2]), int(a[3])
    timeout, max_fail, deadline = float(a[4]), int(a[5]), float(a[6])
    ep = select.epoll()
    live = {}           # fd -> [socket, started, got_byte]
    started = ok = timeouts = errors = 0
    t0 = time.monotonic()
    stopped = "done"

    def finish(fd, good, timed_out=False):
        nonlocal ok, timeouts, errors
        s = live.pop(fd)[0]
        ep.unregister(fd)
        s.close()
        if good:
            ok += 1
        elif timed_out:
            timeouts += 1
        else:
            errors += 1

    while True:
        now = time.monotonic()
        if timeouts + errors >= max_fail:
            stopped = "max-failures"
            break
        if now - t0 > deadline:
            stopped = "deadline"
            break
        while started < count and len(live) < conc:
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((addr, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                errors += 1
                started += 1
                continue
            live[s.fileno()] = [s, now, False]
            ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT)
            started += 1
        if not live:
            break
        for fd, ev in ep.poll(0.05):
            ent = live.get(fd)
            if ent is None:
                continue
            s = ent[0]
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                finish(fd, False, err == errno.ETIMEDOUT)
                continue
            if ev & select.EPOLLOUT:
                ep.modify(fd, select.EPOLLIN)
            if ev & (select.EPOLLIN | select.EPOLLHUP):
                try:
                    data = s.recv(64)
                except BlockingIOError:
                    continue
                except OSError:
                    finish(fd, False)
                    continue
                if data:
                    ent[2] = True
                else:
                    finish(fd, ent[2])
        now = time.monotonic()
        for fd in [fd for fd, e in live.items() if now - e[1] > timeout]:
            finish(fd, False, True)
    for fd in list(live):
        finish(fd, False, True)
    el = time.monotonic() - t0
    n = ok + timeouts + errors
    print("connections=%d ok=%d timeouts=%d errors=%d secs=%.1f cps=%.0f "
          "stopped=%s" % (n, ok, timeouts, errors, el, n / el, stopped))
    sys.stdout.flush()
    os._exit(0 if ok == count else 1)


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2:])
