# bench/loadgen.py: the request/reply loops the bench clients share
# (bench/dhcp_client.py, bench/dns_client.py), imported from the bench
# directory.  Each returns the dict the client prints as one JSON line.
import select, time

def windowed(sock, n, window, send, recv, timeout=1.0):
    """Sends N requests with up to WINDOW outstanding: send(i) sends request
    number i and returns its key; recv(), called when SOCK is readable,
    returns the key of the reply it read (or None).  A request without a
    reply within TIMEOUT seconds is lost.  Returns sent, answered, lost,
    window, seconds, rate (answers per second), p50_ms and p99_ms (of the
    answered requests)."""
    pending, lat, lost, nxt = {}, [], 0, 0
    t0 = time.time()
    while nxt < n or pending:
        while nxt < n and len(pending) < window:
            t = time.time()
            pending[send(nxt)] = t
            nxt += 1
        now = time.time()
        for key, t in list(pending.items()):
            if now - t > timeout:
                del pending[key]
                lost += 1
        if select.select([sock], [], [], 0.05)[0]:
            key = recv()
            if key in pending:
                lat.append((time.time() - pending.pop(key)) * 1000)
    secs = time.time() - t0
    lat.sort()
    q = lambda p: (round(lat[min(len(lat) - 1, int(p * len(lat)))], 3)
                   if lat else None)
    return {"sent": n, "answered": len(lat), "lost": lost,
            "window": window, "seconds": round(secs, 3),
            "rate": round(len(lat) / secs, 1) if secs else 0,
            "p50_ms": q(0.50), "p99_ms": q(0.99)}

def flood(sock, seconds, send, recv):
    """Sends as fast as it can for SECONDS, 64 requests at a time, reading
    whatever came back in between: send(i) sends request number i and
    returns whether it went out; recv(), called while SOCK is readable,
    returns whether the reply it read counts (None: stop reading).  Returns
    flood_sent, flood_answered and seconds."""
    end, sent, got, i = time.time() + seconds, 0, 0, 0
    while time.time() < end:
        for _ in range(64):
            sent += bool(send(i))
            i += 1
        while select.select([sock], [], [], 0)[0]:
            r = recv()
            if r is None:
                break
            got += bool(r)
    return {"flood_sent": sent, "flood_answered": got, "seconds": seconds}
