#!/usr/bin/env node
// The Kubernetes Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards,
// the "latest" version of each rule), checked offline on pods and pod templates as the API
// server's PodSecurity admission checks them, with its messages:
//
//   node pod-security.mjs baseline|restricted FILE...   (YAML or JSON; Pods, Deployments, Jobs,
//                                                        CronJobs, DaemonSets, StatefulSets, ...)
//
// Prints one line per object: `FILE: Kind/name: violates PodSecurity "restricted:latest": ...`
// or `... OK`; exits 1 if any object violates the level, 2 on a usage error. restricted
// includes baseline. Objects without a pod spec are skipped.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [level, ...files] = process.argv.slice(2);
if (!["baseline", "restricted"].includes(level) || files.length === 0) {
  console.error("usage: node pod-security.mjs baseline|restricted FILE...");
  process.exit(2);
}

// The pod spec and metadata of a pod-bearing object, else undefined.
function podOf(o) {
  if (o?.kind === "Pod") return { spec: o.spec ?? {}, metadata: o.metadata ?? {} };
  if (o?.kind === "CronJob") {
    const t = o.spec?.jobTemplate?.spec?.template;
    return t ? { spec: t.spec ?? {}, metadata: t.metadata ?? {} } : undefined;
  }
  const t = o?.spec?.template;
  return t?.spec ? { spec: t.spec, metadata: t.metadata ?? {} } : undefined;
}

const containersOf = (spec) => [
  ...(spec.initContainers ?? []),
  ...(spec.containers ?? []),
  ...(spec.ephemeralContainers ?? []),
];
const quoteList = (xs) => xs.map((x) => `"${x}"`).join(", ");
const names = (cs) => cs.map((c) => c.name);
// "container "a"" / "containers "a", "b"" as the API server words it.
const containersPhrase = (cs) => `${cs.length === 1 ? "container" : "containers"} ${quoteList(names(cs))}`;

// Each check returns undefined (allowed) or [reason, detail].
const BASELINE_CAPABILITIES = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];
const SAFE_SYSCTLS = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes"];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
  "projected", "secret"];

const baseline = [
  function hostProcess({ spec, containers }) {
    const bad = containers.filter((c) => c.securityContext?.windowsOptions?.hostProcess === true);
    if (spec.securityContext?.windowsOptions?.hostProcess === true || bad.length) {
      return ["hostProcess", bad.length ? `${containersPhrase(bad)} must not set securityContext.windowsOptions.hostProcess=true`
        : "pod must not set securityContext.windowsOptions.hostProcess=true"];
    }
  },
  function hostNamespaces({ spec }) {
    const on = ["hostNetwork", "hostPID", "hostIPC"].filter((k) => spec[k] === true);
    if (on.length) return ["host namespaces", on.map((k) => `${k}=true`).join(", ")];
  },
  function privileged({ containers }) {
    const bad = containers.filter((c) => c.securityContext?.privileged === true);
    if (bad.length) return ["privileged", `${containersPhrase(bad)} must not set securityContext.privileged=true`];
  },
  function capabilities({ containers }) {
    const parts = [];
    for (const c of containers) {
      const added = (c.securityContext?.capabilities?.add ?? []).filter((a) => !BASELINE_CAPABILITIES.includes(a));
      if (added.length) parts.push(`container "${c.name}" must not include ${quoteList(added)} in securityContext.capabilities.add`);
    }
    if (parts.length) return ["non-default capabilities", parts.join("; ")];
  },
  function hostPathVolumes({ spec }) {
    const bad = (spec.volumes ?? []).filter((v) => v.hostPath);
    if (bad.length) return ["hostPath volumes", `${bad.length === 1 ? "volume" : "volumes"} ${quoteList(names(bad))}`];
  },
  function hostPorts({ containers }) {
    const parts = [];
    for (const c of containers) {
      const ports = (c.ports ?? []).map((p) => p.hostPort).filter((p) => p !== undefined && p !== 0);
      if (ports.length) parts.push(`container "${c.name}" uses ${ports.length === 1 ? "hostPort" : "hostPorts"} ${ports.join(", ")}`);
    }
    if (parts.length) return ["hostPort", parts.join("; ")];
  },
  function appArmor({ spec, containers, metadata }) {
    const parts = [];
    for (const [k, v] of Object.entries(metadata.annotations ?? {})) {
      if (k.startsWith("container.apparmor.security.beta.kubernetes.io/") && v !== "runtime/default" && !String(v).startsWith("localhost/")) {
        parts.push(`${k}="${v}"`);
      }
    }
    const okType = (p) => !p || ["RuntimeDefault", "Localhost"].includes(p.type);
    if (!okType(spec.securityContext?.appArmorProfile)) parts.push(`pod must not set securityContext.appArmorProfile.type to "${spec.securityContext.appArmorProfile.type}"`);
    for (const c of containers) {
      if (!okType(c.securityContext?.appArmorProfile)) parts.push(`container "${c.name}" must not set securityContext.appArmorProfile.type to "${c.securityContext.appArmorProfile.type}"`);
    }
    if (parts.length) return ["forbidden AppArmor profile", parts.join(", ")];
  },
  function seLinux({ spec, containers }) {
    const parts = [];
    const check = (who, o) => {
      if (!o) return;
      if (!SELINUX_TYPES.includes(o.type ?? "")) parts.push(`${who} set forbidden securityContext.seLinuxOptions: type "${o.type}"`);
      if (o.user) parts.push(`${who} set forbidden securityContext.seLinuxOptions: user "${o.user}"`);
      if (o.role) parts.push(`${who} set forbidden securityContext.seLinuxOptions: role "${o.role}"`);
    };
    check("pod", spec.securityContext?.seLinuxOptions);
    for (const c of containers) check(`container "${c.name}"`, c.securityContext?.seLinuxOptions);
    if (parts.length) return ["seLinuxOptions", parts.join("; ")];
  },
  function procMount({ containers }) {
    const bad = containers.filter((c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== "Default");
    if (bad.length) return ["procMount", `${containersPhrase(bad)} must not set securityContext.procMount to ${quoteList([...new Set(bad.map((c) => c.securityContext.procMount))])}`];
  },
  function seccompBaseline({ spec, containers }) {
    const parts = [];
    if (spec.securityContext?.seccompProfile?.type === "Unconfined") parts.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
    const bad = containers.filter((c) => c.securityContext?.seccompProfile?.type === "Unconfined");
    if (bad.length) parts.push(`${containersPhrase(bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
    if (parts.length) return ["seccompProfile", parts.join("; ")];
  },
  function sysctls({ spec }) {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !SAFE_SYSCTLS.includes(n));
    if (bad.length) return ["forbidden sysctls", bad.join(", ")];
  },
];

// Windows pods (spec.os.name: windows) are exempt from the Linux-only restricted rules.
const linux = (spec) => spec.os?.name !== "windows";
const restricted = [
  function volumeTypes({ spec }) {
    const parts = [];
    for (const v of spec.volumes ?? []) {
      const type = Object.keys(v).find((k) => k !== "name");
      if (type && !RESTRICTED_VOLUMES.includes(type)) parts.push(`volume "${v.name}" uses restricted volume type "${type}"`);
    }
    if (parts.length) return ["restricted volume types", parts.join("; ")];
  },
  function allowPrivilegeEscalation({ spec, containers }) {
    if (!linux(spec)) return;
    const bad = containers.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false);
    if (bad.length) return ["allowPrivilegeEscalation != false", `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`];
  },
  function runAsNonRoot({ spec, containers }) {
    const pod = spec.securityContext?.runAsNonRoot;
    const explicitFalse = containers.filter((c) => c.securityContext?.runAsNonRoot === false);
    const unset = containers.filter((c) => c.securityContext?.runAsNonRoot === undefined);
    const parts = [];
    if (pod === false) parts.push("pod must not set securityContext.runAsNonRoot=false");
    if (explicitFalse.length) parts.push(`${containersPhrase(explicitFalse)} must not set securityContext.runAsNonRoot=false`);
    if (pod !== true && unset.length) parts.push(`pod or ${containersPhrase(unset)} must set securityContext.runAsNonRoot=true`);
    if (parts.length) return ["runAsNonRoot != true", parts.join("; ")];
  },
  function runAsUser({ spec, containers }) {
    const parts = [];
    if (spec.securityContext?.runAsUser === 0) parts.push("pod must not set runAsUser=0");
    const bad = containers.filter((c) => c.securityContext?.runAsUser === 0);
    if (bad.length) parts.push(`${containersPhrase(bad)} must not set runAsUser=0`);
    if (parts.length) return ["runAsUser=0", parts.join("; ")];
  },
  function seccompRestricted({ spec, containers }) {
    if (!linux(spec)) return;
    const ok = (p) => p && ["RuntimeDefault", "Localhost"].includes(p.type);
    const podOk = ok(spec.securityContext?.seccompProfile);
    const bad = containers.filter((c) => c.securityContext?.seccompProfile ? !ok(c.securityContext.seccompProfile) : !podOk);
    if (bad.length) {
      return ["seccompProfile", `pod or ${containersPhrase(bad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`];
    }
  },
  function capabilitiesRestricted({ spec, containers }) {
    if (!linux(spec)) return;
    const parts = [];
    const noDrop = containers.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes("ALL"));
    if (noDrop.length) parts.push(`${containersPhrase(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
    for (const c of containers) {
      const added = (c.securityContext?.capabilities?.add ?? []).filter((a) => a !== "NET_BIND_SERVICE");
      if (added.length) parts.push(`container "${c.name}" must not include ${quoteList(added)} in securityContext.capabilities.add`);
    }
    if (parts.length) return ["unrestricted capabilities", parts.join("; ")];
  },
];

// The violations of `level` by one pod: ["reason (detail)", ...].
export function violations(levelName, pod) {
  const input = { spec: pod.spec, metadata: pod.metadata, containers: containersOf(pod.spec) };
  const checks = levelName === "restricted" ? [...baseline, ...restricted] : baseline;
  return checks.map((f) => f(input)).filter(Boolean).map(([reason, detail]) => `${reason} (${detail})`);
}

let failed = 0;
let objects = 0;
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  for (const o of docs.flatMap((d) => (d.kind === "List" ? d.items ?? [] : [d]))) {
    const pod = podOf(o);
    if (!pod) continue;
    objects++;
    const v = violations(level, pod);
    const id = `${file}: ${o.kind}/${o.metadata?.name ?? "<generated>"}`;
    if (v.length) {
      failed++;
      console.log(`${id}: violates PodSecurity "${level}:latest": ${v.join(", ")}`);
    } else {
      console.log(`${id}: OK (${level})`);
    }
  }
}
if (failed) process.exit(1);
console.log(`pod-security ${level}: ${objects} pod specs OK`);
