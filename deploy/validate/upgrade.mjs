#!/usr/bin/env node
// Whether `kubectl apply` of release N+1's rendered manifests over release N's is accepted: for
// every object in both (same API group, kind, namespace and name) no field the API server
// treats as immutable may change. Objects only in N are listed: `kubectl apply` leaves them
// (delete them by hand, docs/operator-guide.md "Upgrade").
//
//   node upgrade.mjs [--label L] N.yaml N+1.yaml
//
// Prints one line per immutable change and exits 1 if any, else a summary and exits 0 (2:
// usage). The table below is explicit, each row with the API server's validation it mirrors
// (kubernetes/kubernetes pkg/apis/<group>/validation/validation.go, v1.24-v1.32).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { isDeepStrictEqual } from "node:util";

const args = process.argv.slice(2);
let label = "";
if (args[0] === "--label") {
  label = `[${args[1]}] `;
  args.splice(0, 2);
}
if (args.length !== 2) {
  console.error("usage: node upgrade.mjs [--label L] N.yaml N+1.yaml");
  process.exit(2);
}

// A row: the fields of `kind` (in `group`) that may not change. `when(old)` limits the row to
// objects in a state (an immutable Secret); `bothSet` rows only count a change when both
// releases set the field (the API server keeps the allocated value when the manifest omits it).
const IMMUTABLE = [
  // batch ValidateJobSpecUpdate: selector, template (outside suspended-job scheduling fields,
  // which a manifest change of the image does not touch), completionMode, podFailurePolicy,
  // backoffLimitPerIndex, managedBy; completions only for elastic Indexed Jobs.
  { group: "batch", kind: "Job", fields: ["spec.selector", "spec.template", "spec.completionMode", "spec.podFailurePolicy", "spec.backoffLimitPerIndex", "spec.managedBy", "spec.completions"] },
  // batch ValidateCronJobUpdate: the spec (schedule, jobTemplate with its pod template) is
  // validated as on create, nothing is immutable: the renewal CronJob follows every release.
  { group: "batch", kind: "CronJob", fields: [] },
  // apps ValidateDeploymentUpdate / ValidateDaemonSetUpdate / ValidateReplicaSetUpdate: the
  // selector is immutable in apps/v1.
  { group: "apps", kind: "Deployment", fields: ["spec.selector"] },
  { group: "apps", kind: "DaemonSet", fields: ["spec.selector"] },
  { group: "apps", kind: "ReplicaSet", fields: ["spec.selector"] },
  // apps ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy,
  // persistentVolumeClaimRetentionPolicy, minReadySeconds (and revisionHistoryLimit) may change.
  { group: "apps", kind: "StatefulSet", fields: ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"] },
  // core ValidateServiceUpdate: clusterIP/clusterIPs (except to or from ExternalName) and the
  // primary IP family; omitted in the manifest, the allocated value stays.
  { group: "", kind: "Service", fields: ["spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies.0"], bothSet: true },
  // core ValidateSecretUpdate: the type never changes; an immutable Secret's data never does
  // and it cannot become mutable again.
  { group: "", kind: "Secret", fields: ["type"] },
  { group: "", kind: "Secret", fields: ["data", "stringData", "immutable"], when: (o) => o.immutable === true },
  // core ValidateConfigMapUpdate: the same for an immutable ConfigMap.
  { group: "", kind: "ConfigMap", fields: ["data", "binaryData", "immutable"], when: (o) => o.immutable === true },
  // rbac ValidateRoleBindingUpdate / ValidateClusterRoleBindingUpdate: "cannot change roleRef".
  { group: "rbac.authorization.k8s.io", kind: "RoleBinding", fields: ["roleRef"] },
  { group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding", fields: ["roleRef"] },
  // core ValidatePersistentVolumeClaimUpdate: the spec, except resources.requests (expansion)
  // and volumeAttributesClassName.
  { group: "", kind: "PersistentVolumeClaim", fields: ["spec.accessModes", "spec.selector", "spec.volumeName", "spec.storageClassName", "spec.volumeMode", "spec.dataSource", "spec.dataSourceRef", "spec.resources.limits"] },
  // core ValidatePersistentVolumeUpdate: the volume source and, once set, nodeAffinity.
  { group: "", kind: "PersistentVolume", fields: ["spec.csi", "spec.hostPath", "spec.local", "spec.nfs", "spec.volumeMode", "spec.nodeAffinity"] },
  // storage ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy, bindingMode.
  { group: "storage.k8s.io", kind: "StorageClass", fields: ["parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"] },
  // storage ValidateCSIDriverUpdate: attachRequired, podInfoOnMount (before 1.30),
  // volumeLifecycleModes, fsGroupPolicy... all but a few: the whole spec counts.
  { group: "storage.k8s.io", kind: "CSIDriver", fields: ["spec.attachRequired", "spec.volumeLifecycleModes"] },
  // core ValidatePodUpdate: a bare Pod's spec may change only in images and a few fields;
  // confcom ships none, so any spec change counts.
  { group: "", kind: "Pod", fields: ["spec"] },
];

function load(file) {
  const out = new Map();
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const o = doc.toJS();
    if (!o || !o.kind) continue;
    const group = (o.apiVersion ?? "").includes("/") ? o.apiVersion.split("/")[0] : "";
    const key = `${group}/${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    out.set(key, { group, object: o });
  }
  return out;
}

function field(o, path) {
  let v = o;
  for (const p of path.split(".")) v = v === undefined || v === null ? undefined : v[p];
  return v;
}

const before = load(args[0]);
const after = load(args[1]);
const failures = [];
let compared = 0;
for (const [key, { group, object: n }] of after) {
  const prev = before.get(key);
  if (!prev) continue;
  compared++;
  for (const row of IMMUTABLE) {
    if (row.group !== group || row.kind !== n.kind) continue;
    if (row.when && !row.when(prev.object)) continue;
    for (const f of row.fields) {
      const a = field(prev.object, f), b = field(n, f);
      if (row.bothSet && (a === undefined || b === undefined)) continue;
      if (!isDeepStrictEqual(a, b)) failures.push(`${key}: ${f} changes (immutable: the API server refuses the update)`);
    }
  }
}
const leftover = [...before.keys()].filter((k) => !after.has(k));
for (const k of leftover) console.log(`${label}LEFTOVER ${k}: only in N; kubectl apply leaves it (delete it by hand)`);
for (const f of failures) console.log(`${label}UPGRADE FAIL ${f}`);
if (failures.length) process.exit(1);
console.log(`${label}upgrade OK: ${compared} objects in both releases, no immutable field changes, ${leftover.length} left over`);
