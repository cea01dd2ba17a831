#!/usr/bin/env python3
"""Issue 20's helper-identity attacks against a given sgx-quote-helper build, for the before/after
figures (FaultHelperIdentityTest asserts the "after" side in CI; this prints both sides alike).

  sudo python3 tests/faults/helper_identity_before_after.py --layout old HELPER SGXCTL   # main
  sudo python3 tests/faults/helper_identity_before_after.py --layout new HELPER SGXCTL   # this

--layout old: the folders and uid as deploy/ had them before (helper uid 65532, socket folder
root:65532 0775, locks beside the socket, probes on the app socket). --layout new: helper uid
47231, both folders the helper's (0755, 0700), probes on <state>/admin.sock.
Attacks (each on a fresh node folder):
  A1 a pod of the helper's uid flocks every file it can open in the socket folder, then a new
     helper is started (a rollout): does it become ready, or exit (stuck)?
  A2 the same pod queues for aesm.socket.lock (a blocking flock on every file it can open but the
     hand-over lock) during a hand-over: how long until the new helper is ready?
  A3 a pod of the helper's uid holds 300 idle connections: how many of 10 probes (the manifest's
     command) fail?
  A4 a pod of another uid with the helper's gid as a supplementary group and a read-write
     hostPath: can it unlink the socket?
"""
import argparse
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

OLD_UID, NEW_UID = 65532, 47231


def as_user(uid, gid, groups=()):
    def pre():
        os.setgroups(list(groups))
        os.setgid(gid)
        os.setuid(uid)
    return pre


class Node:
    def __init__(self, layout):
        self.layout = layout
        self.uid = OLD_UID if layout == "old" else NEW_UID
        self.root = tempfile.mkdtemp(prefix="helperid-")
        os.chmod(self.root, 0o755)
        self.sock_dir = f"{self.root}/aesmd"
        self.host_state = f"{self.root}/sgx-quote-helper"
        self.state = f"{self.host_state}/state"
        self.pod = f"{self.root}/pod"
        for d in (self.sock_dir, self.host_state, self.pod):
            os.mkdir(d)
        if layout == "old":  # the old init container: root:65532, 0775 and 0770
            os.chown(self.sock_dir, 0, OLD_UID)
            os.chmod(self.sock_dir, 0o775)
            os.chown(self.host_state, 0, OLD_UID)
            os.chmod(self.host_state, 0o770)
        else:  # the new one: the helper's, 0755 and 0700
            os.chown(self.sock_dir, NEW_UID, NEW_UID)
            os.chmod(self.sock_dir, 0o755)
            os.chown(self.host_state, NEW_UID, NEW_UID)
            os.chmod(self.host_state, 0o700)
        os.chown(self.pod, self.uid, self.uid)
        self.socket = f"{self.sock_dir}/aesm.socket"
        self.admin = f"{self.state}/admin.sock"
        self.procs = []

    def helper(self, i, *extra):
        args = [HELPER, "--backend", "sim", "--socket", self.socket, "--state-dir", self.state,
                "--metrics-address", "off", "--threads", "2", "--ready-file",
                f"{self.pod}/ready-{i}", *extra]
        log = open(f"{self.root}/helper-{i}.log", "w")
        p = subprocess.Popen(args, stdout=log, stderr=log, preexec_fn=as_user(self.uid, self.uid))
        self.procs.append(p)
        return p

    def ready(self, i, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(f"{self.pod}/ready-{i}"):
                return True
            time.sleep(0.005)
        return False

    def probe(self):
        sock = self.socket if self.layout == "old" else self.admin
        r = subprocess.run([SGXCTL, "ping", "--socket", sock], capture_output=True, text=True,
                           timeout=10, preexec_fn=as_user(self.uid, self.uid))
        return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1:]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def flocker(node, uid, blocking):
    """A child process of `uid` that flocks every file it can open in the socket folder (and keeps
    doing so). Returns its pid and a pipe that reports what it holds."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        as_user(uid, uid)()
        held = {}
        try:
            while True:
                for name in os.listdir(node.sock_dir):
                    if name in held or (blocking and name.endswith(".handover.lock")):
                        continue  # A2 leaves the hand-over lock alone: A1 is that attack
                    try:
                        fd = os.open(f"{node.sock_dir}/{name}", os.O_RDONLY | os.O_NONBLOCK)
                    except OSError:
                        continue  # sockets: ENXIO
                    if blocking:  # waits in the kernel's queue for the lock: wins on release
                        import threading
                        threading.Thread(target=fcntl.flock, args=(fd, fcntl.LOCK_EX),
                                         daemon=True).start()
                        held[name] = fd
                        os.write(w, f"{name}\n".encode())
                        continue
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        held[name] = fd
                        os.write(w, f"{name}\n".encode())
                    except OSError:
                        os.close(fd)
                time.sleep(0.01)
        finally:
            os._exit(0)
    os.close(w)
    os.set_blocking(r, False)
    return pid, r


def drain(fd):
    try:
        return os.read(fd, 65536).decode().split()
    except BlockingIOError:
        return []


def a1(layout):
    node = Node(layout)
    try:
        node.helper(0)
        assert node.ready(0, 30), "helper 0 not ready"
        pid, out = flocker(node, node.uid, blocking=False)
        time.sleep(0.5)
        held = drain(out)
        t0 = time.monotonic()
        nxt = node.helper(1, "--handover-timeout-ms", "5000")
        ready = node.ready(1, 20)
        ms = (time.monotonic() - t0) * 1000
        rc = nxt.poll()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return (f"A1 flock of every openable file (held: {held or 'none'}): new helper "
                f"{'READY in %.0f ms' % ms if ready else 'NOT ready after 20 s'}"
                f"{', exited %s (rollout stuck)' % rc if rc is not None else ''}")
    finally:
        node.close()


def a2(layout):
    node = Node(layout)
    try:
        node.helper(0)
        assert node.ready(0, 30), "helper 0 not ready"
        pid, out = flocker(node, node.uid, blocking=True)
        time.sleep(0.5)
        held = drain(out)
        t0 = time.monotonic()
        node.helper(1, "--handover-timeout-ms", "10000")
        ready = node.ready(1, 30)
        ms = (time.monotonic() - t0) * 1000
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return (f"A2 blocking flock queued on every openable file (queued on: {held or 'none'}): "
                f"new helper {'ready after %.0f ms' % ms if ready else 'NOT ready after 30 s'}"
                f" (--handover-timeout-ms 10000)")
    finally:
        node.close()


def a3(layout):
    node = Node(layout)
    try:
        node.helper(0)
        assert node.ready(0, 30), "helper 0 not ready"
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            as_user(node.uid, node.uid)()
            conns = []
            for _ in range(300):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(node.socket)
                    conns.append(s)
                except OSError:
                    pass
            os.write(w, b"x")
            time.sleep(600)
            os._exit(0)
        os.read(r, 1)
        time.sleep(0.3)
        fails, last = 0, []
        for _ in range(10):
            ok, msg = node.probe()
            if not ok:
                fails, last = fails + 1, msg
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        where = "app socket" if layout == "old" else "admin socket"
        return f"A3 300 connections of the helper's uid: probes on the {where}: {fails}/10 failed {last}"
    finally:
        node.close()


def a4(layout):
    node = Node(layout)
    try:
        node.helper(0)
        assert node.ready(0, 30), "helper 0 not ready"
        gid = node.uid
        r = subprocess.run(["rm", "-f", node.socket], capture_output=True, text=True,
                           preexec_fn=as_user(1234, 1234, [gid]))
        gone = not os.path.exists(node.socket)
        return (f"A4 uid 1234 with group {gid}, read-write folder: unlink the socket: "
                f"{'UNLINKED' if gone else 'denied: ' + r.stderr.strip()}")
    finally:
        node.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--layout", choices=["old", "new"], required=True)
    ap.add_argument("helper")
    ap.add_argument("sgxctl")
    a = ap.parse_args()
    HELPER, SGXCTL = a.helper, a.sgxctl
    for attack in (a1, a2, a3, a4):
        print(f"[{a.layout}] {attack(a.layout)}", flush=True)
