#!/usr/bin/env python3
"""Turns one container of a rendered confcom DaemonSet into the `ctr run` flags that run it the
way kubelet + containerd would, so tests/e2e/containerd.sh runs the manifests, not a copy.

  pod_to_ctr.py RENDERED.yaml DAEMONSET CONTAINER HOST_ROOT

Prints one item per line:
  USER uid:gid           the runAsUser/runAsGroup the container runs as ("" = the image's)
  FLAG --read-only       a ctr run flag (one per line)
  CMD  arg               command then args, in order
hostPath volumes map to HOST_ROOT + path (a fake host; the hostPath type is checked, the
...OrCreate types create it, as kubelet does), emptyDir to a tmpfs (sizeLimit N, NKi, NMi, NGi).
Any key it neither translates nor knowingly ignores (the allow-lists below) is an error (exit 1):
no setting is ever dropped silently.
"""
import os
import re
import sys

import yaml

# The capabilities containerd grants a container by default (its oci.WithDefaultSpec): what
# `drop: [ALL]` removes. ctr has no ALL keyword, so each is dropped by name.
DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


# Every key this script reads or knowingly ignores; any other key is an error (a setting it would
# otherwise drop silently). Ignored keys say why they do not change how the container runs here.
POD_KEYS = {
    "containers", "initContainers", "securityContext", "volumes",  # translated
    "affinity", "nodeSelector", "tolerations", "priorityClassName",  # scheduling: one node here
    "serviceAccountName",  # API identity: nothing here talks to an API server
    "automountServiceAccountToken",  # false in confcom's manifests; ctr mounts no token either
    "enableServiceLinks",  # service env variables: no Services exist here
    "terminationGracePeriodSeconds",  # the test sends SIGTERM itself and waits
    "hostNetwork", "hostIPC",  # accepted only when false (checked below)
    "hostPID",  # translated: ctr joins the host's PID namespace
}
CONTAINER_KEYS = {
    "name", "image", "command", "args", "env", "workingDir", "securityContext",
    "volumeMounts",  # translated
    "imagePullPolicy",  # the images are imported into containerd before the run
    "resources",  # requests/limits are kubelet's; extended resources come from Allocate, which
                  # the test passes on itself
    "livenessProbe", "readinessProbe", "startupProbe",  # the test execs the probes itself
    "ports",  # informational in a pod spec; publishes nothing
}
POD_SC_KEYS = {"runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile"}
SC_KEYS = POD_SC_KEYS | {"privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                         "capabilities", "procMount"}  # procMount: only Default (checked below)
MOUNT_KEYS = {"name", "mountPath", "readOnly"}
VOLUME_KEYS = {"name", "hostPath", "emptyDir"}
HOST_PATH_TYPES = {"", "Directory", "DirectoryOrCreate", "File", "FileOrCreate"}
TMPFS_UNITS = {"": "", "Ki": "k", "Mi": "m", "Gi": "g"}  # tmpfs size= suffixes are binary


def fail(msg):
    print(f"pod_to_ctr: {msg}", file=sys.stderr)
    sys.exit(1)


def only(where, obj, allowed):
    unknown = sorted(set(obj) - allowed)
    if unknown:
        fail(f"{where}: {', '.join(unknown)} cannot be reproduced with ctr (not translated)")


def tmpfs_size(where, limit):
    m = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi)?", str(limit))
    if not m:
        fail(f"{where}: emptyDir sizeLimit {limit!r} is not N, NKi, NMi or NGi")
    return m.group(1) + TMPFS_UNITS[m.group(2) or ""]


def host_source(where, host_root, hp):
    """The fake host's path for a hostPath volume, checked (or created) as kubelet does."""
    only(f"{where} hostPath", hp, {"path", "type"})
    kind = hp.get("type", "") or ""
    if kind not in HOST_PATH_TYPES:
        fail(f"{where}: hostPath type {kind} is not reproduced")
    src = host_root.rstrip("/") + hp["path"]
    if kind == "DirectoryOrCreate" and not os.path.exists(src):
        os.makedirs(src, mode=0o755)
    elif kind == "FileOrCreate" and not os.path.exists(src):
        os.makedirs(os.path.dirname(src), mode=0o755, exist_ok=True)
        open(src, "a").close()
    if kind.startswith("Directory") and not os.path.isdir(src):
        fail(f"{where}: hostPath {hp['path']} (type {kind}) is not a directory on the host")
    if kind.startswith("File") and not os.path.isfile(src):
        fail(f"{where}: hostPath {hp['path']} (type {kind}) is not a file on the host")
    return src


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, ds_name, c_name, host_root = sys.argv[1:]
    with open(path) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    ds = next((o for o in objects if o.get("kind") == "DaemonSet"
               and o["metadata"]["name"] == ds_name), None)
    if ds is None:
        fail(f"no DaemonSet {ds_name} in {path}")
    pod = ds["spec"]["template"]["spec"]
    only(f"{ds_name}: pod spec", pod, POD_KEYS)
    for key in ("hostNetwork", "hostIPC"):
        if pod.get(key):
            fail(f"{ds_name}: pod {key}: true is not reproduced")
    containers = pod.get("initContainers", []) + pod["containers"]
    c = next((x for x in containers if x["name"] == c_name), None)
    if c is None:
        fail(f"DaemonSet {ds_name} has no container {c_name}")
    where = f"{ds_name}/{c_name}"
    only(f"{where}: container", c, CONTAINER_KEYS)
    psc = pod.get("securityContext", {}) or {}
    sc = c.get("securityContext", {}) or {}
    only(f"{ds_name}: pod securityContext", psc, POD_SC_KEYS)
    only(f"{where}: securityContext", sc, SC_KEYS)
    out = []

    def setting(key):
        return sc.get(key, psc.get(key))

    if sc.get("procMount", "Default") != "Default":
        fail(f"{where}: procMount {sc['procMount']} is not reproduced")
    uid, gid = setting("runAsUser"), setting("runAsGroup")
    if (uid is None) != (gid is None):
        fail(f"{where}: set runAsUser and runAsGroup together")
    if setting("runAsNonRoot") and uid == 0:
        fail(f"{where}: runAsNonRoot with runAsUser 0")
    out.append(f"USER {uid}:{gid}" if uid is not None else "USER ")
    if pod.get("hostPID"):
        out.append("FLAG --with-ns=pid:/proc/self/ns/pid")  # runc's own (the host's) PID namespace, as kubelet;
        # /proc/1/ns/pid may be unreadable even for root in a sandboxed CI machine
    if sc.get("privileged"):
        fail(f"{where}: privileged")
    if sc.get("allowPrivilegeEscalation", True):
        out.append("FLAG --allow-new-privs")  # ctr sets no_new_privs unless told otherwise
    if sc.get("readOnlyRootFilesystem"):
        out.append("FLAG --read-only")
    caps = sc.get("capabilities", {}) or {}
    only(f"{where}: capabilities", caps, {"add", "drop"})
    # Added capabilities (the helper's init container: CHOWN, FOWNER, DAC_READ_SEARCH) survive the drop.
    added = [f"CAP_{cap}" for cap in caps.get("add", [])]
    if "ALL" in caps.get("drop", []):
        out += [f"FLAG --cap-drop={cap}" for cap in DEFAULT_CAPS if cap not in added]
    elif caps.get("drop"):
        out += [f"FLAG --cap-drop=CAP_{cap}" for cap in caps["drop"]]
    out += [f"FLAG --cap-add={cap}" for cap in added if cap not in DEFAULT_CAPS]
    profile = setting("seccompProfile") or {}
    only(f"{where}: seccompProfile", profile, {"type"})
    seccomp = profile.get("type", "Unconfined")
    if seccomp == "RuntimeDefault":
        out.append("FLAG --seccomp")  # containerd's default profile, as CRI's RuntimeDefault
    elif seccomp != "Unconfined":
        fail(f"{where}: seccomp profile {seccomp} cannot be reproduced")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        only(f"{where}: volumeMount {m.get('name')}", m, MOUNT_KEYS)  # subPath, propagation, ...
        v = volumes.get(m["name"])
        if v is None:
            fail(f"{where}: mount of an undeclared volume {m['name']}")
        only(f"{where}: volume {m['name']}", v, VOLUME_KEYS)
        ro = "ro" if m.get("readOnly") else "rw"
        if "hostPath" in v:
            src = host_source(f"{where}: volume {m['name']}", host_root, v["hostPath"])
            out.append(f"FLAG --mount=type=bind,src={src},dst={m['mountPath']},options=rbind:{ro}")
        elif "emptyDir" in v:
            ed = v["emptyDir"] or {}
            only(f"{where}: volume {m['name']} emptyDir", ed, {"sizeLimit", "medium"})
            if ed.get("medium", "") not in ("", "Memory"):  # both become a tmpfs here
                fail(f"{where}: emptyDir medium {ed['medium']} is not reproduced")
            size = tmpfs_size(f"{where}: volume {m['name']}", ed.get("sizeLimit", "64Mi"))
            out.append(f"FLAG --mount=type=tmpfs,src=tmpfs,dst={m['mountPath']},"
                       f"options=nosuid:nodev:{ro}:size={size}")
        else:
            fail(f"{where}: volume {m['name']} is neither hostPath nor emptyDir")

    for e in c.get("env", []):
        only(f"{where}: env {e.get('name')}", e, {"name", "value", "valueFrom"})
        if "value" in e:
            out.append(f"FLAG --env={e['name']}={e['value']}")
        elif e.get("valueFrom") == {"fieldRef": {"fieldPath": "spec.nodeName"}}:
            out.append(f"FLAG --env={e['name']}=e2e-node")
        else:
            fail(f"{where}: env {e['name']} cannot be reproduced")
    if c.get("workingDir"):
        out.append(f"FLAG --cwd={c['workingDir']}")
    command = c.get("command")
    if not command:
        fail(f"{where}: no command (the test runs the manifest's command + args)")
    out += [f"CMD {a}" for a in command + c.get("args", [])]
    print("\n".join(out))


if __name__ == "__main__":
    main()
