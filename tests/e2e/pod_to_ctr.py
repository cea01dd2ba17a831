#!/usr/bin/env python3
"""Turns one container of a rendered confcom DaemonSet into the `ctr run` flags that run it the
way kubelet + containerd would, so tests/e2e/containerd.sh runs the manifests, not a copy.

  pod_to_ctr.py RENDERED.yaml DAEMONSET CONTAINER HOST_ROOT

Prints one item per line:
  USER uid:gid           the runAsUser/runAsGroup the container runs as ("" = the image's)
  FLAG --read-only       a ctr run flag (one per line)
  CMD  arg               command then args, in order
hostPath volumes map to HOST_ROOT + path (a fake host), emptyDir to a tmpfs. Any security
setting it cannot reproduce with ctr is an error (exit 1), never silently dropped.
"""
import sys

import yaml

# The capabilities containerd grants a container by default (its oci.WithDefaultSpec): what
# `drop: [ALL]` removes. ctr has no ALL keyword, so each is dropped by name.
DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def fail(msg):
    print(f"pod_to_ctr: {msg}", file=sys.stderr)
    sys.exit(1)


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
    containers = pod.get("initContainers", []) + pod["containers"]
    c = next((x for x in containers if x["name"] == c_name), None)
    if c is None:
        fail(f"DaemonSet {ds_name} has no container {c_name}")
    psc = pod.get("securityContext", {}) or {}
    sc = c.get("securityContext", {}) or {}
    out = []

    def setting(key):
        return sc.get(key, psc.get(key))

    for key in ("supplementalGroups", "fsGroup", "sysctls", "windowsOptions", "seLinuxOptions"):
        if psc.get(key):
            fail(f"{ds_name}: pod securityContext.{key} cannot be reproduced with ctr")
    uid, gid = setting("runAsUser"), setting("runAsGroup")
    if (uid is None) != (gid is None):
        fail(f"{ds_name}/{c_name}: set runAsUser and runAsGroup together")
    if setting("runAsNonRoot") and uid == 0:
        fail(f"{ds_name}/{c_name}: runAsNonRoot with runAsUser 0")
    out.append(f"USER {uid}:{gid}" if uid is not None else "USER ")
    if sc.get("privileged"):
        fail(f"{ds_name}/{c_name}: privileged")
    if sc.get("allowPrivilegeEscalation", True):
        out.append("FLAG --allow-new-privs")  # ctr sets no_new_privs unless told otherwise
    if sc.get("readOnlyRootFilesystem"):
        out.append("FLAG --read-only")
    caps = sc.get("capabilities", {}) or {}
    if caps.get("add"):
        fail(f"{ds_name}/{c_name}: adds capabilities {caps['add']}")
    if "ALL" in caps.get("drop", []):
        out += [f"FLAG --cap-drop={cap}" for cap in DEFAULT_CAPS]
    elif caps.get("drop"):
        out += [f"FLAG --cap-drop=CAP_{cap}" for cap in caps["drop"]]
    seccomp = (setting("seccompProfile") or {}).get("type", "Unconfined")
    if seccomp == "RuntimeDefault":
        out.append("FLAG --seccomp")  # containerd's default profile, as CRI's RuntimeDefault
    elif seccomp != "Unconfined":
        fail(f"{ds_name}/{c_name}: seccomp profile {seccomp} cannot be reproduced")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = volumes.get(m["name"])
        if v is None:
            fail(f"{ds_name}/{c_name}: mount of an undeclared volume {m['name']}")
        if m.get("subPath"):
            fail(f"{ds_name}/{c_name}: subPath mounts are not reproduced")
        ro = "ro" if m.get("readOnly") else "rw"
        if "hostPath" in v:
            src = host_root.rstrip("/") + v["hostPath"]["path"]
            out.append(f"FLAG --mount=type=bind,src={src},dst={m['mountPath']},options=rbind:{ro}")
        elif "emptyDir" in v:
            size = v["emptyDir"].get("sizeLimit", "64Mi").replace("Mi", "m")
            out.append(f"FLAG --mount=type=tmpfs,src=tmpfs,dst={m['mountPath']},"
                       f"options=nosuid:nodev:{ro}:size={size}")
        else:
            fail(f"{ds_name}/{c_name}: volume {m['name']} is neither hostPath nor emptyDir")

    for e in c.get("env", []):
        if "value" in e:
            out.append(f"FLAG --env={e['name']}={e['value']}")
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            out.append(f"FLAG --env={e['name']}=e2e-node")
        else:
            fail(f"{ds_name}/{c_name}: env {e['name']} cannot be reproduced")
    command = c.get("command")
    if not command:
        fail(f"{ds_name}/{c_name}: no command (the test runs the manifest's command + args)")
    out += [f"CMD {a}" for a in command + c.get("args", [])]
    print("\n".join(out))


if __name__ == "__main__":
    main()
