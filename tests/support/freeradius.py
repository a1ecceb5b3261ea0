"""A real FreeRADIUS (Debian's ``freeradius``) on a free local port, its detail module
writing accounting records into a loader spool directory; ``radclient`` sends them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from tests.support.services import ServiceMissing, wait_for

SECRET = "testing123"

CONFIG = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {base}
sbindir = /usr/sbin
logdir = {base}/log
raddbdir = {base}
radacctdir = {spool}
name = freeradius
confdir = ${{raddbdir}}
modconfdir = ${{confdir}}/mods-config
run_dir = {base}/run
db_dir = ${{raddbdir}}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/radiusd.pid
max_request_time = 30
cleanup_delay = 0
max_requests = 1024
hostname_lookups = no
log {{
\tdestination = stderr
}}
security {{
\tallow_core_dumps = no
}}
thread pool {{
\tstart_servers = 1
\tmax_servers = 1
\tmin_spare_servers = 1
\tmax_spare_servers = 1
}}
client localhost {{
\tipaddr = 127.0.0.1
\tsecret = {secret}
}}
modules {{
\tdetail {{
\t\tfilename = ${{radacctdir}}/detail
\t\theader = "%t"
\t\tpermissions = 0600
\t\tlocking = no
\t}}
}}
server default {{
\tlisten {{
\t\ttype = acct
\t\tipaddr = 127.0.0.1
\t\tport = {port}
\t}}
\tpreacct {{
\t}}
\taccounting {{
\t\tdetail
\t}}
}}
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FreeRadius:
    def __init__(self, base: Path, spool: Path):
        self.binary = shutil.which("freeradius") or shutil.which("radiusd")
        self.radclient = shutil.which("radclient")
        if self.binary is None or self.radclient is None:
            raise ServiceMissing("FreeRADIUS is not installed (apt-get install freeradius "
                                 "freeradius-utils)")
        self.base = base
        self.spool = spool
        self.port = free_udp_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        for part in ("log", "run"):
            (self.base / part).mkdir(parents=True, exist_ok=True)
        self.spool.mkdir(parents=True, exist_ok=True)
        (self.base / "radiusd.conf").write_text(CONFIG.format(
            base=self.base, spool=self.spool, port=self.port, secret=SECRET))
        self.output = open(self.base / "radiusd.out", "wb")
        # the server writes Event-Timestamp in its local zone: UTC says so plainly
        self.process = subprocess.Popen([self.binary, "-X", "-d", str(self.base)],
                                        stdout=self.output, stderr=subprocess.STDOUT,
                                        env={**os.environ, "TZ": "UTC"})
        wait_for(lambda: b"Ready to process requests" in
                 (self.base / "radiusd.out").read_bytes() or self.process.poll() is not None,
                 20, "FreeRADIUS")
        if self.process.poll() is not None:
            raise RuntimeError("FreeRADIUS did not start:\n"
                               + (self.base / "radiusd.out").read_text()[-3000:])

    def send(self, attributes: dict[str, object]) -> None:
        """One Accounting-Request through radclient; waits for the response."""
        packet = "".join(f"{k} = {v}\n" for k, v in attributes.items())
        done = subprocess.run([self.radclient, "-r", "3", "-t", "3",
                               f"127.0.0.1:{self.port}", "acct", SECRET], input=packet.encode(),
                              capture_output=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"radclient failed: {done.stdout!r} {done.stderr!r}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process is not None:
            self.output.close()
