/**
 * `sentinel operator`: the ModelMonitor controller (src/services/k8s/operator.ts) behind leader election on
 * a Lease, with its metrics on /metrics. Exit 0 after SIGTERM/SIGINT (Lease released), 1 when
 * leadership is lost (the pod restarts and campaigns again, as client-go controllers do), 2 on bad
 * flags or no cluster access.
 */
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../config.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createOperatorMetrics } from '../services/metrics/operator.ts';
import type { JobTemplateConfig } from '../services/k8s/cronjob.ts';
import { closeServer, createHttpServer, listen } from '../services/server.ts';
import { untilSignal } from './signals.ts';
import { parseDuration, parsePort, parsePositiveInt } from './flags.ts';
import { EXIT_FAILURE, parseFlags, reportFailure, type Command } from './command.ts';

const HELP = `usage: sentinel operator --job-image IMAGE [options]

Watches ModelMonitors (sentinelml.io/v1alpha1) and keeps one drift CronJob per monitor, owned by
it, in the state its spec describes; reports Ready on each monitor. Several replicas may run: one
leader (a coordination.k8s.io Lease) reconciles, the others wait.

options:
  --job-image IMAGE          image of the drift job pods (the sentinel image)             (required)
  --job-service-account SA   ServiceAccount of the job pods when the spec names none (default sentinelml-drift)
  --job-template FILE        YAML/JSON: pod fields (securityContext, imagePullSecrets, nodeSelector,
                             tolerations, affinity, priorityClassName), containerSecurityContext,
                             imagePullPolicy, logLevel, tmp {medium, sizeLimit}, labels
  --namespace NS             watch only this namespace (repeatable; default: every namespace)
  --workers N                parallel reconciles (default 4)
  --resync DURATION          reconcile every monitor again this often (default 5m)
  --recheck DURATION         look again at a monitor waiting for its ConfigMap or claim (default 30s)
  --leader-elect / --no-leader-elect   campaign for the Lease (default on)
  --lease-name NAME          Lease name (default sentinelml-operator)
  --lease-namespace NS       Lease namespace (default: $SENTINEL_POD_NAMESPACE)
  --lease-duration DURATION  (default 15s)   --renew-deadline DURATION (default 10s)
  --retry-period DURATION    (default 2s)
  --metrics-port N           /metrics, /healthz, /readyz (default 8082; 0 picks a free port)
  --host ADDR                address to bind (default 127.0.0.1; 0.0.0.0 in a container)
  -h, --help                 this help
`;

function loadJobTemplate(path: string | undefined): Partial<JobTemplateConfig> {
  if (path === undefined) return {};
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--job-template ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`--job-template ${path}: expected a mapping`);
  const known = new Set(['pod', 'containerSecurityContext', 'imagePullPolicy', 'logLevel', 'tmp', 'labels']);
  const unknown = Object.keys(doc).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ConfigError(`--job-template ${path}: unknown key(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return doc as Partial<JobTemplateConfig>;
}

export const operatorCommand: Command = async (argv, env) => {
  let values;
  try {
    ({ values } = parseFlags({
      args: argv,
      options: {
        'job-image': { type: 'string' },
        'job-service-account': { type: 'string', default: 'sentinelml-drift' },
        'job-template': { type: 'string' },
        namespace: { type: 'string', multiple: true },
        workers: { type: 'string', default: '4' },
        resync: { type: 'string', default: '5m' },
        recheck: { type: 'string', default: '30s' },
        'leader-elect': { type: 'boolean', default: true },
        'no-leader-elect': { type: 'boolean', default: false },
        'lease-name': { type: 'string', default: 'sentinelml-operator' },
        'lease-namespace': { type: 'string' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        'metrics-port': { type: 'string', default: '8082' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return reportFailure('operator', err);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let setup;
  try {
    const config = loadConfig(env);
    if (values['job-image'] === undefined) throw new UsageError('--job-image IMAGE is required');
    const leaderElect = values['leader-elect'] && !values['no-leader-elect'];
    const leaseNamespace = values['lease-namespace'] ?? config.podNamespace;
    if (leaderElect && leaseNamespace === undefined) throw new UsageError('--lease-namespace (or SENTINEL_POD_NAMESPACE) is required with leader election');
    const template = loadJobTemplate(values['job-template']);
    setup = {
      config,
      leaderElect,
      leaseNamespace: leaseNamespace ?? '',
      job: { ...template, image: values['job-image'], serviceAccountName: values['job-service-account'], logLevel: template.logLevel ?? config.logLevel } as JobTemplateConfig,
      workers: parsePositiveInt(values.workers, '--workers'),
      resyncMs: parseDuration(values.resync, '--resync'),
      recheckMs: parseDuration(values.recheck, '--recheck'),
      leaseDurationMs: parseDuration(values['lease-duration'], '--lease-duration'),
      renewDeadlineMs: parseDuration(values['renew-deadline'], '--renew-deadline'),
      retryPeriodMs: parseDuration(values['retry-period'], '--retry-period'),
      port: parsePort(values['metrics-port'], '--metrics-port'),
    };
    if (!(setup.retryPeriodMs < setup.renewDeadlineMs && setup.renewDeadlineMs < setup.leaseDurationMs)) {
      throw new UsageError('leader election needs --retry-period < --renew-deadline < --lease-duration');
    }
  } catch (err) {
    // Flags and environment: 2; an unreadable or invalid --job-template file: 1.
    return reportFailure('operator', err);
  }
  const logger = createLogger({ level: setup.config.logLevel });
  // Loaded here: only this command (and the drift job) pays for the Kubernetes client.
  const { loadDefaultKubeConfig } = await import('../services/k8s/client.ts');
  const { createOperator } = await import('../services/k8s/operator.ts');
  const { createLeaderElector } = await import('../services/k8s/leader.ts');
  const kubeConfig = loadDefaultKubeConfig();
  if (kubeConfig === null) {
    process.stderr.write('sentinel operator: no cluster access (no in-cluster ServiceAccount and no kubeconfig)\n');
    return EXIT_FAILURE;
  }
  const instance = setup.config.instanceId ?? hostname();
  const registry = new Registry();
  let operator: ReturnType<typeof createOperator> | undefined;
  const metrics = createOperatorMetrics(registry, { queueDepth: () => operator?.queue.length ?? 0, inFlight: () => operator?.queue.inFlight ?? 0 });
  operator = createOperator({
    kubeConfig, namespaces: values.namespace ?? [], job: setup.job, logger, metrics, instance,
    workers: setup.workers, resyncMs: setup.resyncMs, waitRecheckMs: setup.recheckMs,
  });
  const op = operator;

  let started = false;
  const server: Server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      }, (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      // A standby is ready (it is doing its job: waiting); a leader once its caches are synced.
      const ready = !started || op.synced();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'syncing\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const url = await listen(server, setup.port, values.host);
  logger.info({ event: 'operator_metrics_listening', url, instance, leaderElect: setup.leaderElect }, 'operator metrics listening');

  const startOperator = async () => {
    started = true;
    metrics.leader.set(1);
    await op.start();
  };
  let lost = false;
  const elector = setup.leaderElect
    ? createLeaderElector({
      kubeConfig, namespace: setup.leaseNamespace, name: values['lease-name'],
      // Two replicas on one host (or a restarted pod) must never share an identity.
      identity: `${instance}_${randomBytes(4).toString('hex')}`,
      leaseDurationMs: setup.leaseDurationMs, renewDeadlineMs: setup.renewDeadlineMs, retryPeriodMs: setup.retryPeriodMs,
      logger,
      onStartedLeading: startOperator,
      onStoppedLeading: () => { lost = true; },
      onNewLeader: (id) => logger.info({ event: 'leader_observed', leader: id }, 'leader observed'),
    })
    : undefined;

  const signal = untilSignal(logger);
  if (elector === undefined) await startOperator();
  const campaign = elector?.run() ?? new Promise<void>(() => undefined);
  await Promise.race([signal, campaign]);
  metrics.leader.set(0);
  await op.stop();
  await elector?.stop();
  await closeServer(server, 5_000);
  if (lost) {
    process.stderr.write('sentinel operator: leadership lost; exiting so that the pod restarts\n');
    return 1;
  }
  return 0;
};
