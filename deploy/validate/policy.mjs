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
// The simulated overlays: the default one plus the simulated backend, and the seed's layout.
const SIMULATED = name === "simulated" || name === "simulated-legacy";
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
// Where the helper's container sees the host's /var/run/aesmd (deploy/components/quote-helper).
const HELPER_SOCKET_DIR = "/run/sgx-quote-helper/aesmd";

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
  // Which overlays ship the quote helper (default: behind its one switch, off). Component
  // renderings (component-*) are checked for what they contain.
  const helperIn = { default: false, legacy: false, intel: true, simulated: true, "simulated-legacy": true, "with-quote-helper": true };
  if (name in helperIn) {
    const wantHelper = helperIn[name];
    check(Boolean(helper) === wantHelper, wantHelper ? "has no DaemonSet sgx-quote-helper" : "has the quote helper");
  }
  for (const ds of [plugin, helper].filter(Boolean)) {
    const id = `DaemonSet ${ds.metadata.name}`;
    const spec = podSpec(ds);
    check(ds.metadata.namespace === "kube-system", `${id} is not in kube-system`);
    check(spec.priorityClassName === "system-node-critical", `${id} priorityClassName is not system-node-critical`);
    check(spec.hostNetwork !== true && spec.hostIPC !== true, `${id} uses host namespaces`);
    // The helper alone shares the host's PID namespace: it keys fair shares by the client's pod,
    // read from /proc/<SO_PEERCRED pid>/cgroup (docs/operator-guide.md).
    check(spec.hostPID !== true || ds === helper, `${id} uses the host's PID namespace`);
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
      // One exception: the helper's init container gives the two host folders to the helper's
      // uid (chown(2) to another user needs CAP_CHOWN; chmod(2) of a folder then the helper's,
      // CAP_FOWNER; CAP_DAC_READ_SEARCH to enter an earlier uid's 0700 state folder).
      const added = sc.capabilities?.add ?? [];
      const folderFixer = ds === helper && (spec.initContainers ?? []).includes(c);
      check(!added.length || (folderFixer && added.every((a) => ["CHOWN", "FOWNER", "DAC_READ_SEARCH"].includes(a))), `${cid}: adds capabilities`);
      const seccomp = sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
      check(seccomp === "RuntimeDefault", `${cid}: seccompProfile is not RuntimeDefault`);
      check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${cid}: lacks cpu/memory requests or a memory limit`);
      const init = (spec.initContainers ?? []).includes(c);
      if (!init) check(c.readinessProbe?.exec && c.livenessProbe?.exec, `${cid}: lacks exec readiness/liveness probes`);
      // Least privilege: uid 0 only where the host's permissions demand it (see each manifest).
      const uid = sc.runAsUser ?? spec.securityContext?.runAsUser;
      check(uid !== undefined, `${cid}: runAsUser is not set (the image's USER would decide)`);
      if (uid === 0) check(sc.runAsNonRoot === false, `${cid}: runs as root without saying so (runAsNonRoot: false)`);
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
      // --owner-daemonset (uninstall removes the capacity): get on exactly its own DaemonSet.
      const owner = pluginArgs.find((a) => a.startsWith("--owner-daemonset="))?.split("=")[1];
      check(owner === `${plugin.metadata.namespace}/${plugin.metadata.name}`, `plugin's --owner-daemonset is not ${plugin.metadata.namespace}/${plugin.metadata.name} (an uninstall would leave sgx.intel.com/epc in the Node's capacity)`);
      const ownerBindings = objects.filter((o) => o.kind === "RoleBinding" && o.metadata?.namespace === plugin.metadata.namespace &&
        (o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === spec.serviceAccountName));
      const ownerRules = ownerBindings.flatMap((b) => objects.find((o) => o.kind === "Role" && o.metadata?.name === b.roleRef?.name && o.metadata?.namespace === b.metadata.namespace)?.rules ?? []);
      const ownerGranted = ownerRules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${g}/${res}:${v}:${(r.resourceNames ?? ["*"]).join("|")}`)))).sort();
      check(JSON.stringify(ownerGranted) === JSON.stringify([`apps/daemonsets:get:${plugin.metadata.name}`]),
        `plugin's namespaced RBAC is not exactly get daemonsets/${plugin.metadata.name}: ${ownerGranted.join(", ")}`);
      check(!objects.some((o) => (o.kind === "Role" || o.kind === "RoleBinding") && !["sgx-webhook-certgen", "sgx-webhook-certgen-restart", "sgx-plugin-owner", "sgx-attest"].includes(o.metadata?.name)), "unexpected namespaced RBAC");
    } else {
      check(spec.automountServiceAccountToken === false, "plugin mounts a service account token it does not use");
      check(!objects.some((o) => o.kind === "ClusterRoleBinding" && (o.subjects ?? []).some((s) => s.name === "sgx-plugin")), "plugin RBAC without --register-epc");
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
    check(!args.includes("--provision-devices=1"), "plugin offers 1 provisioning device: the helper's surge pod could never schedule (docs/helper-handover.md)");
  }
  // The default overlay is what AKS runs today, and the simulated one is it plus the simulated
  // backend (so every example schedules there); the legacy ones are the seed's layout.
  if (name === "default" || name === "simulated") {
    check(intelScheme && registerEpc, `${name} overlay does not run the intel scheme with --register-epc`);
    check(find("Deployment", "sgx-webhook"), `${name} overlay has no sgx-webhook`);
  }
  if (name === "legacy" || name === "simulated-legacy") {
    check(!intelScheme && !registerEpc, "legacy overlay does not advertise the legacy names only");
    check(!find("Deployment", "sgx-webhook") && !objects.some((o) => o.kind?.endsWith("WebhookConfiguration")), "legacy overlay has the webhook");
  }
  checkWebhook(intelScheme);
  checkSgxAttest();
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
    // The host's socket folder is mounted elsewhere in the helper: the device plugin mounts it
    // read-only at /var/run/aesmd into every container with the enclave device, the helper's too.
    const folders = { "/var/run/aesmd": HELPER_SOCKET_DIR, "/var/lib/sgx-quote-helper": "/var/lib/sgx-quote-helper" };
    for (const [path, at] of Object.entries(folders)) {
      const v = hostPathVolume(spec, path);
      check(v?.hostPath?.type === "DirectoryOrCreate" && mountOf(c, v)?.mountPath === at, `helper lacks hostPath ${path} (DirectoryOrCreate) mounted at ${at}`);
    }
    check(args.includes(`--socket=${HELPER_SOCKET_DIR}/aesm.socket`), `helper does not serve ${HELPER_SOCKET_DIR}/aesm.socket (the host's /var/run/aesmd)`);
    // Apps get the folder from the device plugin's Allocate (no hostPath in app pods, which Pod
    // Security baseline refuses): the plugin must give it, and see it read-only under /host.
    if (plugin) {
      const pc = podSpec(plugin).containers[0];
      check((pc.args ?? []).includes("--aesmd-socket-dir=/var/run/aesmd"), "helper present but the plugin lacks --aesmd-socket-dir=/var/run/aesmd (apps would not get the socket)");
      const hv = hostPathVolume(podSpec(plugin), "/var/run/aesmd");
      check(hv && mountOf(pc, hv)?.mountPath === "/host/var/run/aesmd" && mountOf(pc, hv)?.readOnly === true, "plugin does not see the host's /var/run/aesmd read-only at /host/var/run/aesmd");
    }
    // The helper runs unprivileged as a uid no image picks by default (a tenant pod of the same
    // uid could flock its files and share its connection allowance: docs/operator-guide.md);
    // only its init container is uid 0 (to chown/chmod the host folders to the helper, with
    // CAP_CHOWN, CAP_FOWNER and CAP_DAC_READ_SEARCH only), and it touches nothing but those folders.
    const WELL_KNOWN_UIDS = [0, 1, 2, 33, 70, 101, 999, 1000, 1001, 10000, 10001, 65532, 65533, 65534];
    const hsc = c.securityContext ?? {};
    check(hsc.runAsUser > 0 && hsc.runAsGroup > 0 && hsc.runAsNonRoot === true, "helper does not run as a non-root uid/gid with runAsNonRoot");
    check(!WELL_KNOWN_UIDS.includes(hsc.runAsUser) && !WELL_KNOWN_UIDS.includes(hsc.runAsGroup), `helper runs as uid/gid ${hsc.runAsUser}/${hsc.runAsGroup}, which images use by default: tenants could borrow it`);
    for (const ic of spec.initContainers ?? []) {
      const isc = ic.securityContext ?? {};
      const helperUid = (ic.env ?? []).find((e) => e.name === "HELPER_UID")?.value;
      check(isc.runAsUser !== 0 || String(helperUid) === String(hsc.runAsUser), `helper init container ${ic.name} runs as root but gives the folders to ${helperUid}, not the helper's uid ${hsc.runAsUser}`);
      check(hsc.runAsUser === hsc.runAsGroup, "helper's runAsGroup differs from its uid (the init container gives the folders to HELPER_UID:HELPER_UID)");
      const mounts = (ic.volumeMounts ?? []).map((m) => m.mountPath).sort();
      check(JSON.stringify(mounts) === JSON.stringify([HELPER_SOCKET_DIR, "/var/lib/sgx-quote-helper"].sort()), `helper init container ${ic.name} mounts ${mounts.join(", ")}: only the two host folders`);
    }
    // Nothing of the helper's but the socket in the folder apps mount: state (with the lock
    // files) and the admin socket in the helper-only folder, and the probes on the admin socket.
    const argValue = (name) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    const stateDir = argValue("--state-dir") ?? "/var/lib/sgx-quote-helper";
    const adminSocket = argValue("--admin-socket") ?? `${stateDir}/admin.sock`;
    check(stateDir.startsWith("/var/lib/sgx-quote-helper") && adminSocket.startsWith("/var/lib/sgx-quote-helper/"), "helper keeps its state, locks or admin socket outside its own host folder");
    const probe = (c.readinessProbe?.exec?.command ?? []).join(" ");
    check(probe.includes("sgxctl ping") && probe.includes(`--socket ${adminSocket}`), "helper readiness probe is not sgxctl ping on the admin socket");
    for (const p of [c.startupProbe, c.livenessProbe]) {
      const cmd = (p?.exec?.command ?? []).join(" ");
      check(!cmd || cmd.includes(`--socket ${adminSocket}`), `helper probe '${cmd}' is not on the admin socket (tenants could starve it)`);
    }
    // Zero-gap upgrades (docs/helper-handover.md): surge, and readiness = "this pod owns the socket".
    const ru = helper.spec?.updateStrategy?.rollingUpdate ?? {};
    check(String(ru.maxSurge) === "1" && String(ru.maxUnavailable) === "0", "helper does not roll with maxSurge 1, maxUnavailable 0");
    const readyFile = args.find((a) => a.startsWith("--ready-file="))?.slice("--ready-file=".length);
    check(readyFile && probe.includes(`--ready-file ${readyFile}`), "helper readiness probe does not check the helper's --ready-file");
    check(args.includes("--after-handover=wait"), "helper exits after a hand-over (kubelet would restart it and take the socket back)");
    // On hardware the quote provider reads /etc/sgx_default_qcnl.conf: the ConfigMap the
    // quote-helper component brings, mounted read-only, and the ConfigMap is in the overlay.
    // The simulated overlays remove it (no quote provider runs).
    const qcnlMount = (c.volumeMounts ?? []).find((m) => m.mountPath === "/etc/sgx_default_qcnl.conf");
    const qcnlVolume = qcnlMount && (spec.volumes ?? []).find((v) => v.name === qcnlMount.name);
    const qcnlMap = qcnlVolume?.configMap && find("ConfigMap", qcnlVolume.configMap.name);
    if (SIMULATED) {
      check(!qcnlMount && !objects.some((o) => o.kind === "ConfigMap" && o.metadata?.name?.startsWith("sgx-qcnl-config")), "simulated helper mounts a QCNL config (no quote provider runs)");
    } else {
      check(qcnlMount?.readOnly === true && qcnlMount?.subPath === "sgx_default_qcnl.conf", "helper lacks /etc/sgx_default_qcnl.conf (read-only subPath mount)");
      check(qcnlMap && typeof qcnlMap.data?.["sgx_default_qcnl.conf"] === "string" && qcnlMap.data["sgx_default_qcnl.conf"].includes("\"pccs_url\""), "the QCNL ConfigMap the helper mounts is missing or has no pccs_url");
    }
  }
} else {
  // The three forms an app may take (docs/app-developer-guide.md): the legacy name with the
  // out-of-proc settings written by hand (the user's Job); Intel's sgx.intel.com/epc alone (the
  // AKS quickstart; the webhook adds the enclave device); or Intel's annotation
  // sgx.intel.com/quote-provider: aesmd (the webhook adds SGX_AESM_ADDR). The socket folder
  // comes from the device plugin with the enclave device: no hostPath (Pod Security).
  const workloads = objects.filter((o) => podSpec(o)?.containers);
  check(workloads.length > 0, "has no workload");
  for (const o of workloads) {
    const spec = podSpec(o);
    check((spec.tolerations ?? []).some((t) => t.key === "kubernetes.azure.com/sgx" && t.operator === "Exists" && t.effect === "NoSchedule"),
          `${o.kind}/${o.metadata?.name}: no toleration of the SGX taint kubernetes.azure.com/sgx (docs/operator-guide.md)`);
    const aesmd = hostPathVolume(spec, "/var/run/aesmd");
    check(!aesmd, `${o.kind}/${o.metadata?.name}: a hostPath for /var/run/aesmd (Pod Security baseline refuses it; the device plugin mounts the folder)`);
    const annotations = { ...(o.metadata?.annotations ?? {}), ...(o.spec?.template?.metadata?.annotations ?? {}) };
    const provider = annotations["sgx.intel.com/quote-provider"];
    check(provider === undefined || provider === "aesmd", `${o.kind}/${o.metadata?.name}: quote-provider "${provider}" asks for in-proc quoting (the provisioning device): use aesmd`);
    for (const c of spec.containers) {
      const cid = `${o.kind}/${o.metadata?.name} container ${c.name}`;
      const limits = c.resources?.limits ?? {};
      const requests = c.resources?.requests ?? {};
      const legacy = limits[EPC] !== undefined;
      const intel = limits[INTEL_EPC] !== undefined || requests[INTEL_EPC] !== undefined;
      check(legacy !== intel, `${cid}: asks for EPC under ${legacy ? "both names" : "no name"} (${EPC} or ${INTEL_EPC})`);
      for (const n of [PROVISION, INTEL_PROVISION]) {
        check(limits[n] === undefined && requests[n] === undefined, `${cid}: requests ${n} (only the quote helper may)`);
      }
      const env = (c.env ?? []).find((e) => e.name === "SGX_AESM_ADDR");
      if (legacy) {
        check(env && env.value === "1", `${cid}: SGX_AESM_ADDR is not the string "1"`);
      } else if (env) {
        check(env.value === "1", `${cid}: SGX_AESM_ADDR is not the string "1"`);
      }
      if (aesmd && mountOf(c, aesmd)) {
        check(mountOf(c, aesmd).readOnly === true, `${cid}: the /var/run/aesmd mount is not readOnly (docs/app-developer-guide.md)`);
      }
    }
  }
}

// The admission webhook: never an outage (failurePolicy, namespaces excluded, short timeout,
// 2 replicas, a PodDisruptionBudget), hardened pods, and exactly one way to get certificates.
function checkWebhook(intelScheme) {
  const deploy = find("Deployment", "sgx-webhook");
  const configs = objects.filter((o) => o.kind === "MutatingWebhookConfiguration" || o.kind === "ValidatingWebhookConfiguration");
  if (!deploy && configs.length === 0) return;
  check(deploy, "webhook configurations without the sgx-webhook Deployment");
  if (!deploy) return;
  const ns = deploy.metadata.namespace;
  const spec = podSpec(deploy);
  const id = "Deployment sgx-webhook";
  check((deploy.spec.replicas ?? 1) >= 2, `${id}: fewer than 2 replicas`);
  const anti = spec.affinity?.podAntiAffinity;
  check(anti || (spec.topologySpreadConstraints ?? []).length, `${id}: replicas are not spread (no anti-affinity / topology spread)`);
  const labels = spec && deploy.spec.template.metadata?.labels ? deploy.spec.template.metadata.labels : {};
  const selects = (sel) => sel?.matchLabels && Object.entries(sel.matchLabels).every(([k, v]) => labels[k] === v);
  const pdb = objects.find((o) => o.kind === "PodDisruptionBudget" && o.metadata?.namespace === ns && selects(o.spec?.selector));
  check(pdb && (pdb.spec.minAvailable >= 1 || pdb.spec.maxUnavailable !== undefined), `${id}: no PodDisruptionBudget keeps one replica`);
  check(spec.automountServiceAccountToken === false, `${id}: mounts a service account token it does not use`);
  check(spec.securityContext?.runAsNonRoot === true, `${id}: does not run as non-root`);
  for (const c of spec.containers) {
    const sc = c.securityContext ?? {};
    const cid = `${id} container ${c.name}`;
    check(sc.allowPrivilegeEscalation === false && sc.readOnlyRootFilesystem === true, `${cid}: privilege escalation or a writable root`);
    check((sc.capabilities?.drop ?? []).includes("ALL") && !(sc.capabilities?.add ?? []).length, `${cid}: does not drop ALL capabilities`);
    check((sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type) === "RuntimeDefault", `${cid}: seccompProfile is not RuntimeDefault`);
    check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${cid}: lacks cpu/memory requests or a memory limit`);
    check(c.readinessProbe?.httpGet?.path === "/readyz" && c.readinessProbe.httpGet.scheme === "HTTPS", `${cid}: readiness is not HTTPS /readyz`);
    check(c.livenessProbe?.httpGet?.path === "/healthz" && c.livenessProbe.httpGet.scheme === "HTTPS", `${cid}: liveness is not HTTPS /healthz`);
    const translation = (c.args ?? []).find((a) => a.startsWith("--legacy-translation="));
    check((translation ?? "--legacy-translation=intel") === (intelScheme ? "--legacy-translation=intel" : "--legacy-translation=off"),
      `${cid}: --legacy-translation does not match the plugin's scheme`);
  }
  // Where the webhook reads its certificate: the volume mounted at --tls-cert-file's folder.
  const webhookContainer = spec.containers.find((c) => c.name === "sgx-webhook") ?? spec.containers[0];
  const certFile = (webhookContainer.args ?? []).find((a) => a.startsWith("--tls-cert-file="))?.split("=")[1] ?? "";
  const certDir = certFile.slice(0, certFile.lastIndexOf("/"));
  const tlsMount = (webhookContainer.volumeMounts ?? []).find((m) => m.mountPath === certDir);
  const tlsVolume = (spec.volumes ?? []).find((v) => v.name === tlsMount?.name);
  check(tlsVolume, `${id}: nothing mounted at ${certDir || "--tls-cert-file's folder"}`);
  const certgen = (spec.initContainers ?? []).find((c) => c.name === "certgen");
  const certgenArgs = certgen?.args ?? [];
  const certgenArg = (flag) => certgenArgs.find((a) => a.startsWith(`--${flag}=`))?.split("=")[1];
  // The Secret that holds the certificate: certgen's --secret-name, or the mounted Secret.
  const secretVolume = certgen ? certgenArg("secret-name") : tlsVolume?.secret?.secretName;
  check(secretVolume, `${id}: no TLS Secret (no certgen --secret-name, no Secret volume)`);
  const svc = find("Service", "sgx-webhook");
  check(svc && svc.metadata.namespace === ns && selects({ matchLabels: svc.spec?.selector }), `${id}: no Service selects it`);
  const paths = { MutatingWebhookConfiguration: "/mutate-pods", ValidatingWebhookConfiguration: "/validate-pods" };
  for (const kind of Object.keys(paths)) {
    check(configs.some((c) => c.kind === kind), `no ${kind}`);
  }
  const injected = configs.filter((c) => c.metadata?.annotations?.["cert-manager.io/inject-ca-from"]);
  check(injected.length === 0 || injected.length === configs.length, "cert-manager injects the CA into some webhook configurations only");
  check(Boolean(certgen) !== (injected.length > 0), certgen ? "both the certgen init container and cert-manager manage the certificate" : "nothing makes the webhook's certificate (no certgen init container, no cert-manager)");
  // A Job's pod template is immutable: one whose image tag changes between releases makes
  // `kubectl apply -k` of the next release fail while it exists (issue 21; upgrade.mjs).
  check(!objects.some((o) => o.kind === "Job"), "a Job in the install (its pod template is immutable: the next release's kubectl apply -k fails)");
  for (const cfg of configs) {
    const cid = `${cfg.kind} ${cfg.metadata.name}`;
    for (const h of cfg.webhooks ?? []) {
      const hid = `${cid} webhook ${h.name}`;
      if (cfg.kind === "MutatingWebhookConfiguration") {
        check(h.failurePolicy === "Ignore", `${hid}: failurePolicy is not Ignore (a webhook outage would block pods)`);
        check(h.reinvocationPolicy === "IfNeeded", `${hid}: reinvocationPolicy is not IfNeeded`);
      } else {
        check(["Ignore", "Fail"].includes(h.failurePolicy), `${hid}: failurePolicy is not set`);
      }
      check(h.sideEffects === "None", `${hid}: sideEffects is not None`);
      check((h.admissionReviewVersions ?? []).includes("v1"), `${hid}: does not speak admission.k8s.io/v1`);
      check(h.timeoutSeconds !== undefined && h.timeoutSeconds <= 10, `${hid}: timeoutSeconds is not set to at most 10`);
      const s = h.clientConfig?.service;
      check(s?.name === "sgx-webhook" && s?.namespace === ns && s?.path === paths[cfg.kind], `${hid}: does not call ${ns}/sgx-webhook${paths[cfg.kind]}`);
      const rules = h.rules ?? [];
      check(rules.length > 0 && rules.every((r) => (r.resources ?? []).every((x) => x === "pods") && (r.operations ?? []).every((op) => op === "CREATE")),
        `${hid}: rules are not pods CREATE only`);
      const excluded = (h.namespaceSelector?.matchExpressions ?? [])
        .filter((e) => e.key === "kubernetes.io/metadata.name" && e.operator === "NotIn").flatMap((e) => e.values ?? []);
      check(excluded.includes("kube-system") && excluded.includes(ns), `${hid}: namespaceSelector does not exclude kube-system and ${ns}`);
      if (certgen) check(!h.clientConfig?.caBundle, `${hid}: a caBundle in the manifest (certgen sets it)`);
    }
  }
  // The service account token: in the certgen init container only (least privilege).
  const tokenVolumes = (spec.volumes ?? []).filter((v) => (v.projected?.sources ?? []).some((x) => x.serviceAccountToken));
  const mountsToken = (c) => (c.volumeMounts ?? []).some((m) => tokenVolumes.some((v) => v.name === m.name));
  for (const c of spec.containers) check(!mountsToken(c), `${id} container ${c.name}: mounts a service account token (only certgen needs one)`);
  if (certgen) {
    const mutating = configs.find((c) => c.kind === "MutatingWebhookConfiguration")?.metadata.name;
    const validating = configs.find((c) => c.kind === "ValidatingWebhookConfiguration")?.metadata.name;
    check(certgenArg("namespace") === ns && certgenArg("service") === svc?.metadata.name,
      "certgen's --namespace/--service do not match the Deployment and Service");
    check(certgenArg("mutating-config") === mutating && certgenArg("validating-config") === validating, "certgen names other webhook configurations");
    // The files: written by certgen into an emptyDir the webhook reads (a Secret volume of a
    // Secret created after the pod started stays empty until the kubelet resyncs).
    check(tlsVolume?.emptyDir, `${id}: the certificate volume is not an emptyDir written by certgen`);
    check(certgenArg("write-dir") === certDir && (certgen.volumeMounts ?? []).some((m) => m.name === tlsVolume?.name && m.mountPath === certDir && !m.readOnly),
      `${id}: certgen does not write --write-dir=${certDir} into the webhook's certificate volume`);
    // Its credentials: what automount would give (token, the cluster CA, the namespace), at
    // the folder certgen reads (--serviceaccount-dir, default the automount path).
    const saDir = certgenArg("serviceaccount-dir") ?? "/var/run/secrets/kubernetes.io/serviceaccount";
    const tokenMount = (certgen.volumeMounts ?? []).find((m) => tokenVolumes.some((v) => v.name === m.name));
    check(tokenMount?.mountPath === saDir && tokenMount.readOnly === true, `${id}: certgen's token is not mounted read-only at ${saDir}`);
    const sources = tokenVolumes.find((v) => v.name === tokenMount?.name)?.projected?.sources ?? [];
    check(sources.some((x) => x.serviceAccountToken?.path === "token") &&
      sources.some((x) => x.configMap?.name === "kube-root-ca.crt" && (x.configMap.items ?? []).some((i) => i.path === "ca.crt")),
      `${id}: certgen's projected volume lacks token or ca.crt (kube-root-ca.crt)`);
    // RBAC: exactly what certgen does, with resourceNames wherever Kubernetes allows them.
    const sa = spec.serviceAccountName;
    const bound = objects.filter((o) => (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
      (o.subjects ?? []).some((x) => x.kind === "ServiceAccount" && x.name === sa && x.namespace === ns));
    const rules = bound.flatMap((b) => (objects.find((o) => o.kind === b.roleRef?.kind && o.metadata?.name === b.roleRef?.name)?.rules ?? [])
      .map((r) => ({ ...r, scope: b.kind === "RoleBinding" ? b.metadata.namespace : "cluster" })));
    const granted = rules.flatMap((r) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) =>
      `${r.scope}:${res}:${v}:${(r.resourceNames ?? ["*"]).join("|")}`))).sort();
    const want = [`${ns}:secrets:create:*`, `${ns}:secrets:get:${secretVolume}`, `${ns}:secrets:update:${secretVolume}`,
      `cluster:mutatingwebhookconfigurations:get:${mutating}`, `cluster:mutatingwebhookconfigurations:patch:${mutating}`,
      `cluster:validatingwebhookconfigurations:get:${validating}`, `cluster:validatingwebhookconfigurations:patch:${validating}`].sort();
    check(JSON.stringify(granted) === JSON.stringify(want), `certgen RBAC is not exactly ${want.join(", ")}: ${granted.join(", ")}`);
    // Renewal: a daily CronJob runs certgen with --restart-deployment (it renews within its
    // --renew-before-days and rolls the Deployment); without it a pod running 11 months serves
    // an expired certificate. Its own ServiceAccount: certgen's rules plus patch of this one
    // Deployment, which the init container's ServiceAccount must not have.
    const cron = objects.find((o) => o.kind === "CronJob" && o.metadata?.namespace === ns &&
      containersOf(o.spec?.jobTemplate).some((c) => (c.command ?? []).concat(c.args ?? []).includes("certgen")));
    check(cron, "no renewal CronJob running certgen (a webhook pod left running serves an expired certificate)");
    if (cron) {
      const cid = `CronJob ${cron.metadata.name}`;
      const cspec = podSpec(cron.spec.jobTemplate);
      const cc = containersOf(cron.spec.jobTemplate).find((c) => (c.command ?? []).concat(c.args ?? []).includes("certgen"));
      const cronArg = (flag) => (cc.args ?? []).find((a) => a.startsWith(`--${flag}=`))?.split("=")[1];
      check(cron.spec.concurrencyPolicy === "Forbid", `${cid}: concurrencyPolicy is not Forbid`);
      check(Number.isInteger(cron.spec.jobTemplate.spec?.ttlSecondsAfterFinished), `${cid}: its Jobs have no ttlSecondsAfterFinished`);
      check((cron.spec.successfulJobsHistoryLimit ?? 3) <= 3, `${cid}: successfulJobsHistoryLimit above 3`);
      check(cronArg("restart-deployment") === deploy.metadata.name, `${cid}: certgen lacks --restart-deployment=${deploy.metadata.name} (a renewal would not reach the running pods)`);
      for (const flag of ["namespace", "service", "secret-name", "mutating-config", "validating-config"]) {
        check(cronArg(flag) === certgenArg(flag), `${cid}: --${flag} differs from the init container's`);
      }
      // It must renew before the init container would: an init container renewing for its own
      // pod leaves the others on the old certificate, and the CronJob then finds a valid Secret.
      check(Number(cronArg("renew-before-days") ?? 30) > Number(certgenArg("renew-before-days") ?? 30),
        `${cid}: --renew-before-days is not above the init container's`);
      const csc = { ...(cspec.securityContext ?? {}), ...(cc.securityContext ?? {}) };
      check(csc.runAsNonRoot === true && cspec.securityContext?.runAsUser === 65532 && cc.securityContext?.readOnlyRootFilesystem === true &&
        cc.securityContext?.allowPrivilegeEscalation === false && (cc.securityContext?.capabilities?.drop ?? []).includes("ALL") &&
        csc.seccompProfile?.type === "RuntimeDefault", `${cid}: not hardened as the init container (non-root 65532, read-only root, drop ALL, seccomp RuntimeDefault)`);
      const csa = cspec.serviceAccountName;
      check(csa && csa !== sa, `${cid}: runs as the Deployment's ServiceAccount (it would give the init container the Deployment patch right)`);
      const cbound = objects.filter((o) => (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
        (o.subjects ?? []).some((x) => x.kind === "ServiceAccount" && x.name === csa && x.namespace === ns));
      const cgranted = cbound.flatMap((b) => (objects.find((o) => o.kind === b.roleRef?.kind && o.metadata?.name === b.roleRef?.name)?.rules ?? [])
        .map((r) => ({ ...r, scope: b.kind === "RoleBinding" ? b.metadata.namespace : "cluster" })))
        .flatMap((r) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${r.scope}:${res}:${v}:${(r.resourceNames ?? ["*"]).join("|")}`))).sort();
      const cwant = [...want, `${ns}:deployments:patch:${deploy.metadata.name}`].sort();
      check(JSON.stringify(cgranted) === JSON.stringify(cwant), `${cid} RBAC is not exactly ${cwant.join(", ")}: ${cgranted.join(", ")}`);
    }
  } else if (injected.length) {
    const [cns, cname] = injected[0].metadata.annotations["cert-manager.io/inject-ca-from"].split("/");
    const cert = objects.find((o) => o.kind === "Certificate" && o.metadata?.name === cname && o.metadata?.namespace === cns);
    check(cert && cert.spec.secretName === secretVolume, "cert-manager.io/inject-ca-from does not name the Certificate of the mounted Secret");
    check(tokenVolumes.length === 0, `${id}: a service account token volume beside cert-manager`);
    const names = [`sgx-webhook.${ns}.svc`, `sgx-webhook.${ns}.svc.cluster.local`];
    check(cert && names.every((n) => (cert.spec.dnsNames ?? []).includes(n)), `the serving Certificate does not name ${names.join(" and ")}`);
    check(!objects.some((o) => o.metadata?.name?.includes("certgen")), "certgen objects remain beside cert-manager");
    check(!objects.some((o) => o.kind === "CronJob"), "a renewal CronJob beside cert-manager (cert-manager renews)");
  }
}

// sgx-attest (issue 22): 2 spread replicas and a PodDisruptionBudget, hardened containers,
// RBAC exactly its two Secrets, its ConfigMap and the reviews, a policy ConfigMap without data
// (so `kubectl apply` never resets a policy set through the API), one issuer for the key and
// the tokens, and the simulated root trusted only in the simulated overlay.
function checkSgxAttest() {
  const deploy = find("Deployment", "sgx-attest");
  if (!deploy) return;
  const id = "Deployment sgx-attest";
  const ns = deploy.metadata.namespace;
  const spec = podSpec(deploy);
  check((deploy.spec.replicas ?? 1) >= 2, `${id}: fewer than 2 replicas`);
  check(spec.affinity?.podAntiAffinity, `${id}: replicas are not spread (no anti-affinity)`);
  const labels = deploy.spec.template.metadata?.labels ?? {};
  const selects = (sel) => sel && Object.entries(sel).every(([k, v]) => labels[k] === v);
  check(objects.some((o) => o.kind === "PodDisruptionBudget" && o.metadata?.namespace === ns && selects(o.spec?.selector?.matchLabels) && o.spec.minAvailable >= 1),
    `${id}: no PodDisruptionBudget keeps one replica`);
  check(spec.automountServiceAccountToken === false, `${id}: mounts the token into every container`);
  check(spec.securityContext?.runAsNonRoot === true && spec.securityContext?.runAsUser > 0, `${id}: does not run as non-root`);
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const cid = `${id} container ${c.name}`;
    check(sc.allowPrivilegeEscalation === false && sc.readOnlyRootFilesystem === true && sc.privileged !== true, `${cid}: privilege escalation or a writable root`);
    check((sc.capabilities?.drop ?? []).includes("ALL") && !(sc.capabilities?.add ?? []).length, `${cid}: does not drop ALL capabilities`);
    check((sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type) === "RuntimeDefault", `${cid}: seccompProfile is not RuntimeDefault`);
    check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${cid}: lacks cpu/memory requests or a memory limit`);
  }
  const main = spec.containers.find((c) => c.name === "sgx-attest");
  check(main, `${id}: no container sgx-attest`);
  if (!main) return;
  check(main.readinessProbe?.httpGet?.path === "/readyz" && main.readinessProbe.httpGet.scheme === "HTTPS", `${id}: readiness is not HTTPS /readyz`);
  check(main.livenessProbe?.httpGet?.path === "/healthz" && main.livenessProbe.httpGet.scheme === "HTTPS", `${id}: liveness is not HTTPS /healthz`);
  const arg = (c, flag) => (c?.args ?? []).find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
  const keygen = (spec.initContainers ?? []).find((c) => c.name === "keygen");
  check(keygen && arg(keygen, "issuer") === arg(main, "issuer"), `${id}: keygen's --issuer is not sgx-attest's (the certificate's CN must be the tokens' iss)`);
  const certgen = (spec.initContainers ?? []).find((c) => c.name === "certgen");
  check(certgen && (certgen.args ?? []).includes("--skip-webhook-configs") && arg(certgen, "service") === "sgx-attest",
    `${id}: no certgen init container for the Service sgx-attest (--skip-webhook-configs)`);
  const svc = find("Service", "sgx-attest");
  check(svc && selects(svc.spec?.selector) && (svc.spec.ports ?? []).some((p) => p.port === 443 && p.targetPort === "https"), `${id}: no Service 443 -> https`);
  check((main.ports ?? []).some((p) => p.name === "https" && p.containerPort === 8443) && arg(main, "listen") === ":8443", `${id}: does not listen on :8443`);
  const [cmNs, cmName] = (arg(main, "policy-configmap") ?? "/").split("/");
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === cmName && o.metadata?.namespace === cmNs);
  check(cm, `${id}: --policy-configmap names no ConfigMap of the manifests`);
  check(!cm?.data && !cm?.binaryData, `ConfigMap ${cmNs}/${cmName} has data: every kubectl apply would reset the policy set through the API`);
  check(Boolean(arg(main, "trust-root")) === SIMULATED, SIMULATED ? `${id}: no --trust-root for the simulated platform` : `${id}: trusts a root other than Intel's outside the simulated overlay`);
  const bound = objects.filter((o) => (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
    (o.subjects ?? []).some((x) => x.kind === "ServiceAccount" && x.name === spec.serviceAccountName && x.namespace === ns));
  const granted = bound.flatMap((b) => (objects.find((o) => o.kind === b.roleRef?.kind && o.metadata?.name === b.roleRef?.name)?.rules ?? [])
    .map((r) => ({ ...r, scope: b.kind === "RoleBinding" ? b.metadata.namespace : "cluster" })))
    .flatMap((r) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${r.scope}:${res}:${v}:${(r.resourceNames ?? ["*"]).join("|")}`))).sort();
  const secrets = `${arg(certgen, "secret-name")}|${arg(keygen, "secret-name")}`;
  const want = [`${ns}:secrets:get:${secrets}`, `${ns}:secrets:update:${secrets}`, `${ns}:secrets:create:*`,
    `${cmNs}:configmaps:get:${cmName}`, `${cmNs}:configmaps:update:${cmName}`, `${cmNs}:configmaps:create:*`,
    "cluster:tokenreviews:create:*", "cluster:subjectaccessreviews:create:*"].sort();
  check(JSON.stringify(granted) === JSON.stringify(want), `${id} RBAC is not exactly ${want.join(", ")}: ${granted.join(", ")}`);
}

for (const f of failures) console.log(`POLICY FAIL ${f}`);
if (failures.length) process.exit(1);
console.log(`policy ${mode} ${name}: ${checked} checks OK`);
