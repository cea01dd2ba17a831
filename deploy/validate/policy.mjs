#!/usr/bin/env node
// Policy facts about confcom's rendered manifests that the OpenAPI schemas cannot express.
//
//   node policy.mjs overlay NAME FILE    (kubectl kustomize deploy/overlays/NAME > FILE)
//   node policy.mjs example NAME FILE    (an examples/ workload)
//
// Prints one line per failed fact and exits 1 if any failed, else prints a count and exits 0.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [mode, name, file] = process.argv.slice(2);
if (!["overlay", "example"].includes(mode) || !name || !file) {
  console.error("usage: node policy.mjs overlay|example NAME FILE");
  process.exit(2);
}
const objects = parseAllDocuments(readFileSync(file, "utf8"))
  .map((d) => d.toJS())
  .filter((o) => o);

const EPC = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
const PROVISION = "kubernetes.azure.com/sgx_provision";
const INTEL_EPC = "sgx.intel.com/epc";
const INTEL_ENCLAVE = "sgx.intel.com/enclave";
const INTEL_PROVISION = "sgx.intel.com/provision";
const SIMULATED = name === "simulated";
let checked = 0;
const failures = [];
function check(ok, what) {
  checked++;
  if (!ok) failures.push(`${mode} ${name}: ${what}`);
}
const podSpec = (o) => o?.spec?.template?.spec ?? o?.spec;
const containersOf = (o) => [
  ...(podSpec(o)?.initContainers ?? []),
  ...(podSpec(o)?.containers ?? []),
];
const find = (kind, n) => objects.find((o) => o.kind === kind && o.metadata?.name === n);
const hostPathVolume = (spec, path) => (spec?.volumes ?? []).find((v) => v.hostPath?.path === path);
const mountOf = (c, volume) => (c.volumeMounts ?? []).find((m) => m.name === volume?.name);

// Every container of every workload: never privileged.
for (const o of objects) {
  for (const c of containersOf(o)) {
    const sc = c.securityContext ?? {};
    check(sc.privileged !== true, `${o.kind}/${o.metadata?.name} container ${c.name} is privileged`);
  }
}

if (mode === "overlay") {
  const plugin = find("DaemonSet", "sgx-plugin");
  const helper = find("DaemonSet", "sgx-quote-helper");
  check(plugin, "has no DaemonSet sgx-plugin");
  const wantHelper = name !== "default";
  check(Boolean(helper) === wantHelper, wantHelper ? "has no DaemonSet sgx-quote-helper" : "has the quote helper");
  for (const ds of [plugin, helper].filter(Boolean)) {
    const id = `DaemonSet ${ds.metadata.name}`;
    const spec = podSpec(ds);
    check(ds.metadata.namespace === "kube-system", `${id} is not in kube-system`);
    check(spec.priorityClassName === "system-node-critical", `${id} priorityClassName is not system-node-critical`);
    check(spec.hostNetwork !== true && spec.hostPID !== true && spec.hostIPC !== true, `${id} uses host namespaces`);
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    const keys = terms.flatMap((t) => (t.matchExpressions ?? []).map((e) => e.key));
    if (SIMULATED) {
      check(!keys.includes("kubernetes.azure.com/sgx-node"), `${id} still requires SGX nodes in the simulated overlay`);
    } else {
      check(keys.includes("kubernetes.azure.com/sgx-node"), `${id} lacks node affinity on kubernetes.azure.com/sgx-node`);
      check(keys.includes("intel.feature.node.kubernetes.io/sgx"), `${id} lacks the NFD term intel.feature.node.kubernetes.io/sgx`);
    }
    const tolerated = (spec.tolerations ?? []).map((t) => t.key);
    check(tolerated.includes("kubernetes.azure.com/sgx") && tolerated.includes("sgx.intel.com/epc"), `${id} does not tolerate the SGX taints`);
    for (const c of containersOf(ds)) {
      const sc = c.securityContext ?? {};
      const cid = `${id} container ${c.name}`;
      check(sc.allowPrivilegeEscalation === false, `${cid}: allowPrivilegeEscalation is not false`);
      check(sc.readOnlyRootFilesystem === true, `${cid}: readOnlyRootFilesystem is not true`);
      check((sc.capabilities?.drop ?? []).includes("ALL"), `${cid}: does not drop ALL capabilities`);
      check(!(sc.capabilities?.add ?? []).length, `${cid}: adds capabilities`);
      const seccomp = sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
      check(seccomp === "RuntimeDefault", `${cid}: seccompProfile is not RuntimeDefault`);
      check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${cid}: lacks cpu/memory requests or a memory limit`);
      check(c.readinessProbe?.exec && c.livenessProbe?.exec, `${cid}: lacks exec readiness/liveness probes`);
    }
  }
  // Which names the plugin advertises, from its arguments (default: legacy).
  const pluginArgs = plugin ? (podSpec(plugin).containers[0].args ?? []) : [];
  const schemeArgs = pluginArgs.filter((a) => a.startsWith("--resource-scheme"));
  if (plugin) check(schemeArgs.length <= 1, `plugin has ${schemeArgs.length} --resource-scheme arguments (the last one wins: confusing)`);
  const schemeArg = schemeArgs[schemeArgs.length - 1];
  const schemes = (schemeArg ? schemeArg.split("=")[1] : "legacy").split(",");
  const intelScheme = schemes.includes("intel");
  const registerEpc = pluginArgs.includes("--register-epc");
  if (plugin) {
    const spec = podSpec(plugin);
    const c = spec.containers[0];
    // No double counting: EPC schedulable under two names lets pods together claim twice the
    // EPC. The legacy EPC devices and the sgx.intel.com/epc node resource never go together.
    check(!(schemes.includes("legacy") && registerEpc), `plugin advertises EPC twice (legacy scheme and --register-epc)`);
    check(!intelScheme || registerEpc, "intel scheme without --register-epc: sgx.intel.com/epc is never set");
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const cmd = probe?.exec?.command ?? [];
      check(schemeArg ? cmd.includes(schemeArg) : !cmd.some((a) => a.startsWith("--resource-scheme")), "plugin probes do not check the sockets of its --resource-scheme");
    }
    if (registerEpc) {
      // RBAC limited to what --register-epc needs; the token mounted only where it is used.
      check(spec.automountServiceAccountToken === true, "--register-epc without the service account token");
      const sa = find("ServiceAccount", spec.serviceAccountName);
      check(sa && sa.metadata.namespace === "kube-system", `plugin's ServiceAccount ${spec.serviceAccountName} missing`);
      const nodeName = (c.env ?? []).find((e) => e.name === "NODE_NAME");
      check(nodeName?.valueFrom?.fieldRef?.fieldPath === "spec.nodeName", "plugin lacks NODE_NAME from spec.nodeName");
      const bindings = objects.filter((o) => o.kind === "ClusterRoleBinding" &&
        (o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === spec.serviceAccountName && s.namespace === "kube-system"));
      check(bindings.length === 1, "plugin's ServiceAccount is not bound to exactly one ClusterRole");
      const rules = bindings.flatMap((b) => find("ClusterRole", b.roleRef?.name)?.rules ?? []);
      const granted = rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${g}/${res}:${v}`)))).sort();
      check(JSON.stringify(granted) === JSON.stringify(["/nodes/status:patch", "/nodes:get"]),
        `plugin's RBAC is not exactly get nodes + patch nodes/status: ${granted.join(", ")}`);
      check(!objects.some((o) => o.kind === "Role" || o.kind === "RoleBinding"), "unexpected namespaced RBAC");
    } else {
      check(spec.automountServiceAccountToken === false, "plugin mounts a service account token it does not use");
      check(!objects.some((o) => o.kind === "ClusterRoleBinding"), "RBAC without --register-epc");
    }
    const dp = hostPathVolume(spec, "/var/lib/kubelet/device-plugins");
    check(dp && mountOf(c, dp)?.mountPath === "/var/lib/kubelet/device-plugins", "plugin does not mount /var/lib/kubelet/device-plugins");
    const dev = hostPathVolume(spec, "/dev");
    check(dev && mountOf(c, dev)?.readOnly === true, "plugin does not mount the host's /dev read-only");
    check((c.readinessProbe?.exec?.command ?? []).includes("--probe"), "plugin readiness probe is not sgx-device-plugin --probe");
    check((c.livenessProbe?.exec?.command ?? []).includes("--probe"), "plugin liveness probe is not sgx-device-plugin --probe");
    const args = c.args ?? [];
    check(args.includes("--host-root=/host"), "plugin does not read the host under --host-root=/host");
    check(args.some((a) => a.startsWith("--epc-mib")) === SIMULATED, SIMULATED ? "simulated plugin lacks --epc-mib" : "plugin sets --epc-mib outside the simulated overlay");
    check(!args.some((a) => a.startsWith("--provision-devices=0")), "plugin does not offer sgx_provision (the helper requests it)");
  }
  if (helper) {
    const spec = podSpec(helper);
    const c = spec.containers[0];
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    // The helper asks for EPC and the provisioning device under the names the plugin offers.
    const names = intelScheme ? [INTEL_EPC, INTEL_ENCLAVE, INTEL_PROVISION] : [EPC, PROVISION];
    const others = intelScheme ? [EPC, PROVISION] : [INTEL_EPC, INTEL_ENCLAVE, INTEL_PROVISION];
    for (const n of names) {
      check(req[n] !== undefined && String(req[n]) === String(lim[n]), `helper does not request ${n} with requests = limits`);
    }
    for (const n of others) check(req[n] === undefined && lim[n] === undefined, `helper requests ${n}, which this overlay does not offer`);
    const prov = intelScheme ? INTEL_PROVISION : PROVISION;
    check(String(req[prov]) === "1" && String(lim[prov]) === "1", `helper does not request ${prov}: 1`);
    const args = c.args ?? [];
    const backend = SIMULATED ? "--backend=sim" : "--backend=auto";
    check(args.includes(backend), `helper args lack ${backend}`);
    check(SIMULATED || !args.includes("--backend=sim"), "helper simulates outside the simulated overlay");
    check(!(c.env ?? []).some((e) => e.name === "SGX_AESM_ADDR"), "helper sets SGX_AESM_ADDR");
    for (const path of ["/var/run/aesmd", "/var/lib/sgx-quote-helper"]) {
      const v = hostPathVolume(spec, path);
      check(v?.hostPath?.type === "DirectoryOrCreate" && mountOf(c, v)?.mountPath === path, `helper lacks hostPath ${path} (DirectoryOrCreate) mounted at ${path}`);
    }
    const probe = (c.readinessProbe?.exec?.command ?? []).join(" ");
    check(probe.includes("sgxctl ping") && probe.includes("/var/run/aesmd/aesm.socket"), "helper readiness probe is not sgxctl ping on the socket");
    // On hardware the quote provider reads /etc/sgx_default_qcnl.conf: the ConfigMap of
    // deploy/components/qcnl-config, mounted read-only, and the ConfigMap is in the overlay.
    const qcnlMount = (c.volumeMounts ?? []).find((m) => m.mountPath === "/etc/sgx_default_qcnl.conf");
    const qcnlVolume = qcnlMount && (spec.volumes ?? []).find((v) => v.name === qcnlMount.name);
    const qcnlMap = qcnlVolume?.configMap && find("ConfigMap", qcnlVolume.configMap.name);
    if (SIMULATED) {
      check(!qcnlMount, "simulated helper mounts a QCNL config (no quote provider runs)");
    } else {
      check(qcnlMount?.readOnly === true && qcnlMount?.subPath === "sgx_default_qcnl.conf", "helper lacks /etc/sgx_default_qcnl.conf (read-only subPath mount)");
      check(qcnlMap && typeof qcnlMap.data?.["sgx_default_qcnl.conf"] === "string" && qcnlMap.data["sgx_default_qcnl.conf"].includes("\"pccs_url\""), "the QCNL ConfigMap the helper mounts is missing or has no pccs_url");
    }
  }
} else {
  const workloads = objects.filter((o) => podSpec(o)?.containers);
  check(workloads.length > 0, "has no workload");
  for (const o of workloads) {
    const spec = podSpec(o);
    check((spec.tolerations ?? []).some((t) => t.key === "kubernetes.azure.com/sgx" && t.operator === "Exists" && t.effect === "NoSchedule"),
          `${o.kind}/${o.metadata?.name}: no toleration of the SGX taint kubernetes.azure.com/sgx (docs/operator-guide.md)`);
    const aesmd = hostPathVolume(spec, "/var/run/aesmd");
    for (const c of spec.containers) {
      const cid = `${o.kind}/${o.metadata?.name} container ${c.name}`;
      const env = (c.env ?? []).find((e) => e.name === "SGX_AESM_ADDR");
      check(env && env.value === "1", `${cid}: SGX_AESM_ADDR is not the string "1"`);
      check(c.resources?.limits?.[EPC] !== undefined, `${cid}: no ${EPC} limit`);
      check(c.resources?.limits?.[PROVISION] === undefined && c.resources?.requests?.[PROVISION] === undefined, `${cid}: requests ${PROVISION} (only the quote helper may)`);
      check(aesmd && mountOf(c, aesmd)?.mountPath === "/var/run/aesmd", `${cid}: does not mount hostPath /var/run/aesmd at /var/run/aesmd`);
      check(mountOf(c, aesmd)?.readOnly === true, `${cid}: the /var/run/aesmd mount is not readOnly (docs/app-developer-guide.md)`);
    }
  }
}

for (const f of failures) console.log(`POLICY FAIL ${f}`);
if (failures.length) process.exit(1);
console.log(`policy ${mode} ${name}: ${checked} checks OK`);
