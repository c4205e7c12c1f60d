import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ENV_VARS, loadConfig } from '../../src/config/config.js';
import { pathFor, ROUTES } from '../../src/config/routes.js';

/**
 * The Kubernetes manifests, validated offline against the Kubernetes OpenAPI schemas: kubernetes-models
 * generates one class per kind from the upstream OpenAPI document and validates with ajv (kubeconform
 * and kubeval are Go binaries that neither npm nor Debian ship). Then the cross-references no schema can
 * see: variables, probe paths, ports, selectors, secret and config map keys, the shutdown timing.
 */

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const MODELS: Record<string, { validate(): void } & any> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const DIR = 'k8s';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

function load(file: string): Obj[] {
  // YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml): 0440 is octal, yes/no are booleans.
  const docs = parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'), { version: '1.1' });
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Obj;
  });
}

const byFile = new Map(files.map((f) => [f, load(f)]));
const all = [...byFile.values()].flat();
const find = (kind: string, name: string) => {
  const found = all.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

/** Validates against the OpenAPI schema of the object's apiVersion and kind. */
function validateObject(obj: Obj): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema model for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

const workloads = all.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const podSpec = (o: Obj) => o.spec.template.spec;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests', () => {
  it('has every file the deployment needs', () => {
    for (const f of ['namespace', 'configmap', 'secrets', 'deployment', 'service', 'ingress', 'postgres', 'redis', 'migration-job', 'hpa', 'poddisruptionbudget', 'networkpolicy']) {
      expect(files).toContain(`${f}.yaml`);
    }
  });

  it.each(files)('%s validates against the Kubernetes OpenAPI schemas', (file) => {
    for (const obj of byFile.get(file)!) {
      expect(() => validateObject(obj), `${obj.kind} ${obj.metadata.name}`).not.toThrow();
      if (obj.kind !== 'Namespace') expect(obj.metadata.namespace, `${obj.kind} ${obj.metadata.name}`).toBe('authly');
    }
  });

  it('the schema validation can fail (a wrong type, a missing required field)', () => {
    const deployment = structuredClone(find('Deployment', 'authly'));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => validateObject(deployment)).toThrow(/containerPort must be integer/);
    const hpa = structuredClone(find('HorizontalPodAutoscaler', 'authly'));
    delete hpa.spec.scaleTargetRef;
    expect(() => validateObject(hpa)).toThrow(/scaleTargetRef/);
  });

  it('kustomization lists every manifest except the secrets template', () => {
    const kustomization = load('kustomization.yaml')[0]!;
    expect([...(kustomization.resources as string[])].sort()).toEqual(files.filter((f) => f !== 'secrets.yaml').sort());
  });

  it('every variable the manifests give Authly is a real Authly variable', () => {
    const known = new Set<string>(Object.keys(ENV_VARS));
    const secretVars = Object.entries(ENV_VARS)
      .filter(([, spec]) => 'secret' in spec && spec.secret)
      .map(([name]) => name);
    const configMap = find('ConfigMap', 'authly-config');
    for (const key of Object.keys(configMap.data)) {
      expect(known.has(key), `configmap key ${key}`).toBe(true);
      expect(secretVars, `${key} is a secret, not configuration`).not.toContain(key);
    }
    for (const workload of workloads.filter((w) => w.metadata.labels?.['app.kubernetes.io/name'] === 'authly')) {
      for (const container of podSpec(workload).containers) {
        for (const env of container.env ?? []) {
          const base = env.name.replace(/_FILE$/, '');
          expect(known.has(env.name) || (env.name.endsWith('_FILE') && secretVars.includes(base)), `${workload.metadata.name}: ${env.name}`).toBe(true);
          // Secrets reach Authly only as files, never as plain values.
          expect(secretVars, `${env.name} must be given as ${env.name}_FILE`).not.toContain(env.name);
        }
      }
    }
    expect(configMap.data.ENVIRONMENT).toBe('production');
    expect(configMap.data.DEFAULT_ISSUER_URL).toMatch(/^https:\/\//);
    expect(configMap.data.AUTOMIGRATE).toBe('false');
    // Authly listens on loopback unless HOST says otherwise: the pod must listen on every interface.
    expect(configMap.data.HOST).toBe('0.0.0.0');
  });

  it('*_FILE paths point into mounted secret volumes, and every secret key used exists', () => {
    for (const workload of workloads) {
      const spec = podSpec(workload);
      for (const container of spec.containers) {
        const mounts = new Map<string, any>((container.volumeMounts ?? []).map((m: any) => [m.mountPath, m]));
        for (const env of container.env ?? []) {
          if (!env.name.endsWith('_FILE')) continue;
          const dir = path.posix.dirname(env.value);
          const file = path.posix.basename(env.value);
          const mount = mounts.get(dir);
          expect(mount, `${workload.metadata.name}: ${env.name} ${env.value} is not under a mount`).toBeDefined();
          expect(mount.readOnly).toBe(true);
          const volume = spec.volumes.find((v: any) => v.name === mount.name);
          const item = volume.secret.items.find((i: any) => i.path === file);
          expect(item, `${env.value} is not an item of secret ${volume.secret.secretName}`).toBeDefined();
        }
        for (const ref of container.envFrom ?? []) {
          if (ref.configMapRef) find('ConfigMap', ref.configMapRef.name);
        }
      }
      for (const volume of spec.volumes ?? []) {
        if (!volume.secret) continue;
        const secret = find('Secret', volume.secret.secretName);
        for (const item of volume.secret.items) expect(Object.keys(secret.stringData), `${secret.metadata.name}.${item.key}`).toContain(item.key);
      }
    }
  });

  it('the secrets file is a template: every value is a placeholder Authly refuses', () => {
    for (const secret of all.filter((o) => o.kind === 'Secret')) {
      for (const [key, value] of Object.entries(secret.stringData as Record<string, string>)) {
        expect(value, `${secret.metadata.name}.${key}`).toContain('CHANGE-ME');
      }
    }
    // Applied unchanged by mistake, the server refuses to start instead of signing with a known key.
    const placeholder = find('Secret', 'authly-secrets').stringData['jwt-secret-key'];
    const keyPlaceholder = find('Secret', 'authly-secrets').stringData['key-encryption-key'];
    const env = { ...find('ConfigMap', 'authly-config').data, DATABASE_URL: 'postgres://db/authly' };
    const key = 'y'.repeat(16) + 'a-generated-random-value';
    expect(() => loadConfig({ ...env, JWT_SECRET_KEY: placeholder, AUTHLY_KEY_ENCRYPTION_KEY: key })).toThrow(/JWT_SECRET_KEY: looks like a development placeholder/);
    const secret = 'x'.repeat(16) + 'a-generated-random-value';
    expect(() => loadConfig({ ...env, JWT_SECRET_KEY: secret, AUTHLY_KEY_ENCRYPTION_KEY: keyPlaceholder })).toThrow(/AUTHLY_KEY_ENCRYPTION_KEY: looks like a development placeholder/);
    expect(() => loadConfig({ ...env, JWT_SECRET_KEY: secret, AUTHLY_KEY_ENCRYPTION_KEY: key })).not.toThrow();
  });

  it('server: probes on real routes and ports, hardened, graceful shutdown fits the grace period', () => {
    const deployment = find('Deployment', 'authly');
    const spec = podSpec(deployment);
    const container = spec.containers[0];
    const ports = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
    const configMap = find('ConfigMap', 'authly-config');
    expect(ports.get('http')).toBe(Number(configMap.data.PORT));
    expect(container.livenessProbe.httpGet.path).toBe(ROUTES.health);
    expect(container.startupProbe.httpGet.path).toBe(ROUTES.health);
    expect(container.readinessProbe.httpGet.path).toBe(ROUTES.healthReady);
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) expect(ports.has(probe.httpGet.port)).toBe(true);
    expect(container.args).toEqual(['node', 'dist/main.js']);

    const preStopSleep = Number(container.lifecycle.preStop.exec.command[1]);
    expect(container.lifecycle.preStop.exec.command[0]).toBe('sleep');
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopSleep + Number(configMap.data.SHUTDOWN_TIMEOUT_SECONDS));
    expect(container.resources.requests.cpu).toBeDefined(); // the HPA's utilization needs a request
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);

    const job = find('Job', 'authly-migrate');
    expect(podSpec(job).containers[0].args).toEqual(['node', 'dist/cli/authly.js', 'migrate']);
    expect(podSpec(job).containers[0].image).toBe(container.image);
  });

  it('every pod is non-root with a read-only root filesystem and no capabilities (Pod Security "restricted")', () => {
    expect(find('Namespace', 'authly').metadata.labels!['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const workload of workloads) {
      const spec = podSpec(workload);
      expect(spec.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext, `${workload.metadata.name}/${container.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources.limits.memory).toBeDefined();
        expect(container.image).not.toMatch(/:latest$|^[^:]+$/);
      }
    }
  });

  it('selectors match labels: workloads, services, PDB, HPA target, ingress backends', () => {
    for (const workload of workloads.filter((w) => w.kind !== 'Job')) {
      expect(matches(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels), workload.metadata.name).toBe(true);
    }
    for (const service of all.filter((o) => o.kind === 'Service')) {
      const targets = workloads.filter((w) => w.kind !== 'Job' && matches(service.spec.selector, w.spec.template.metadata.labels));
      expect(targets.map((t) => t.metadata.name), `service ${service.metadata.name}`).toHaveLength(1);
      const containerPorts = podSpec(targets[0]!).containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
      for (const port of service.spec.ports) expect(containerPorts).toContain(port.targetPort);
    }
    const sts = find('StatefulSet', 'authly-postgres');
    find('Service', sts.spec.serviceName);

    const server = find('Deployment', 'authly');
    expect(matches(find('PodDisruptionBudget', 'authly').spec.selector.matchLabels, server.spec.template.metadata.labels)).toBe(true);
    const target = find('HorizontalPodAutoscaler', 'authly').spec.scaleTargetRef;
    expect(find(target.kind, target.name).apiVersion).toBe(target.apiVersion);

    const routes = Object.values(ROUTES);
    for (const ingress of all.filter((o) => o.kind === 'Ingress')) {
      expect(ingress.spec.tls[0].hosts).toEqual(ingress.spec.rules.map((r: any) => r.host));
      for (const p of ingress.spec.rules.flatMap((r: any) => r.http.paths)) {
        const service = find('Service', p.backend.service.name);
        expect(service.spec.ports.map((sp: any) => sp.name)).toContain(p.backend.service.port.name);
        // Every routed path serves real routes; /metrics is never routed.
        expect(routes.some((r) => (p.pathType === 'Exact' ? r === p.path : r.startsWith(p.path))), p.path).toBe(true);
        expect(ROUTES.metrics.startsWith(p.path)).toBe(false);
      }
    }
    // Every public endpoint (and what scripts/post_deployment_tests.sh probes) is routed, with the
    // Ingress's path-element semantics for Prefix.
    const routed = (route: string) =>
      all
        .filter((o) => o.kind === 'Ingress' && o.metadata.name === 'authly')
        .flatMap((o) => o.spec.rules.flatMap((r: any) => r.http.paths))
        .some((p: any) => {
          const prefix = p.path.replace(/\/$/, '');
          return p.pathType === 'Exact' ? route === p.path : route === prefix || route.startsWith(`${prefix}/`);
        });
    const publicRoutes = ['health', 'healthReady', 'openidConfiguration', 'oauthAuthorizationServer', 'jwks', 'authorization', 'token', 'revocation', 'introspection', 'userinfo', 'endSession'] as const;
    for (const name of publicRoutes) expect(routed(ROUTES[name]), name).toBe(true);
    expect(routed(pathFor('interactionLogin', { uid: 'abc' }))).toBe(true);
    expect(routed(ROUTES.account)).toBe(true);
    expect(routed(ROUTES.accountCallback)).toBe(true);
    expect(routed(ROUTES.metrics)).toBe(false);
    expect(routed(ROUTES.admin)).toBe(false);
  });

  it('network policies: default deny; authly from the ingress controller and monitoring; databases only from authly', () => {
    const policies = all.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0)!;
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();

    const labelsOf = (name: string) => find(name === 'authly' ? 'Deployment' : 'StatefulSet', name).spec.template.metadata.labels;
    const policyFor = (labels: Record<string, string>) => policies.filter((p) => p.spec.podSelector.matchLabels && matches(p.spec.podSelector.matchLabels, labels));
    const [authly] = policyFor(labelsOf('authly'));
    const namespaces = authly!.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']));
    expect(namespaces.sort()).toEqual(['ingress-nginx', 'monitoring']);
    expect(authly!.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8000 }]);
    // The migration job is covered by the same policy (it needs the database too).
    expect(matches(authly!.spec.podSelector.matchLabels, find('Job', 'authly-migrate').spec.template.metadata.labels)).toBe(true);

    for (const [name, port] of [['postgres', 5432], ['redis', 6379]] as const) {
      const workload = all.find((o) => ['StatefulSet', 'Deployment'].includes(o.kind) && o.spec.template.metadata.labels['app.kubernetes.io/name'] === name)!;
      const [policy] = policyFor(workload.spec.template.metadata.labels);
      expect(policy!.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'authly' } } }], ports: [{ protocol: 'TCP', port }] }]);
      const egressTo = authly!.spec.egress.find((e: any) => e.ports[0].port === port);
      expect(matches(egressTo.to[0].podSelector.matchLabels, workload.spec.template.metadata.labels)).toBe(true);
    }
    expect(authly!.spec.egress.some((e: any) => e.ports.some((p: any) => p.port === 53 && p.protocol === 'UDP'))).toBe(true);
  });
});
