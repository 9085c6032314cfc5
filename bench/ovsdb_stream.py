"""bench/ovsdb_stream.py: the region database's Region.cfg and
Host_Status rows as a stream of timestamped updates (stdlib only).

One plain OVSDB JSON-RPC "monitor" on a unix socket (answering the
server's echo requests); each update is yielded with the time its bytes
arrived, so that a benchmark can tell when a cfg was committed and when
each host acknowledged it.  Used by db_changes.py (bench-db) and
scale_driver.py (bench-scale).
"""
import json
import socket


def region_updates(sock_path, now):
    """Yields (t, update) for the monitor's reply and every update: the
    table-updates object {"Region": {...}, "Host_Status": {...}}, 't' from
    now() when its bytes arrived.  Returns when the server closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    req = {"id": "mon", "method": "monitor",
           "params": ["OVS_VPC_Region", None,
                      {"Region": {"columns": ["cfg"]},
                       "Host_Status": {"columns": ["host", "applied_cfg"]}}]}
    s.sendall(json.dumps(req).encode())
    dec = json.JSONDecoder()
    buf = ""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return
        t = now()
        buf += chunk.decode()
        while True:
            buf = buf.lstrip()
            if not buf:
                break
            try:
                msg, end = dec.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            if msg.get("method") == "echo":
                s.sendall(json.dumps({"id": msg["id"], "result":
                                      msg["params"], "error": None}).encode())
                continue
            upd = msg.get("result") if msg.get("id") == "mon" else (
                msg["params"][1] if msg.get("method") == "update" else None)
            if upd:
                yield t, upd
