// A real Kubernetes API server for tests: etcd + kube-apiserver on loopback (what controller-runtime's
// envtest runs; no kubelet, no controller-manager, no scheduler). Binaries come from
// scripts/provision/kube.sh (on PATH, or in $SENTINEL_TOOLS/bin).
//
//   const kube = await startKubeApiServer();        // in before(); throws with a clear message when
//   after(() => kube.stop());                        // a tool is missing or a server does not come up
//   await kube.kubectl(['get', 'ns']);               // admin (system:masters) via kube.kubeconfig
//   const token = await kube.serviceAccountToken('ns', 'sa');   // TokenRequest API
//   const kc = kube.kubeConfig({ token });           // @kubernetes/client-node KubeConfig as that SA
//   await kube.kubectl(['auth', 'can-i', 'get', 'secrets'], { as: 'system:serviceaccount:ns:sa' });
//
// Without kube-controller-manager nothing creates namespaces' `default` ServiceAccounts, token Secrets,
// pods of Deployments or garbage-collects; ServiceAccounts are plain objects, and TokenRequest works
// because the API server holds the service-account signing key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, accessSync, constants, readdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeApiServerOptions {
  /** Extra kube-apiserver flags (`--name=value`), appended last; a function gets the certificate dir (ca, admin, sa keys). */
  apiServerFlags?: string[] | ((pkiDir: string) => string[]);
  /** How long to wait for etcd health and the API server's /readyz (default 120 s: cold starts on busy machines). */
  readyTimeoutMs?: number;
  /** Keep the temp dir (certs, logs, data) after stop() for debugging (also: SENTINEL_KUBE_KEEP=1). */
  keep?: boolean;
  /** Address the API server binds to and advertises (default 127.0.0.1; a real node needs one pods can reach). */
  address?: string;
  /** Parent of the temp dir (default the OS temp dir). */
  parentDir?: string;
}

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface KubectlOptions {
  /** stdin for the command (e.g. manifests for `apply -f -`). */
  input?: string;
  /** Impersonate this user (`--as`); the admin credential is allowed to impersonate. */
  as?: string;
  /** Impersonate these groups (`--as-group`). */
  asGroups?: string[];
  /** Use this kubeconfig instead of the admin one. */
  kubeconfig?: string;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
  timeoutMs?: number;
}

export interface TokenOptions { expirationSeconds?: number; audiences?: string[] }

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** Admin kubeconfig (client certificate with O=system:masters). */
  readonly kubeconfig: string;
  /** The temp dir holding certs, logs, kubeconfigs, etcd data. */
  readonly dir: string;
  readonly caFile: string;
  /** Service-account token issuer (`--service-account-issuer`). */
  readonly issuer: string;
  /** Env for child processes that use kubectl/helm against this server (KUBECONFIG, helm dirs, PATH). */
  readonly env: NodeJS.ProcessEnv;
  /** `kube-apiserver --version` and `etcd --version` first lines. */
  readonly versions: { kubeApiServer: string; etcd: string };
  /** Runs kubectl (from PATH) against this server; throws with stdout/stderr on failure unless check=false. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<ExecResult>;
  /** Runs any command with `env` (e.g. helm); same throwing rules as kubectl. */
  exec(cmd: string, args: string[], opts?: { input?: string; check?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ExecResult>;
  /** Raw request as admin, or as the bearer `token`; resolves to status and parsed JSON (or text). */
  request(method: string, path: string, body?: unknown, opts?: { token?: string; contentType?: string }): Promise<{ status: number; body: any }>;
  /** TokenRequest for a ServiceAccount (which must exist); returns the bearer token. */
  serviceAccountToken(namespace: string, name: string, opts?: TokenOptions): Promise<string>;
  /** Writes a kubeconfig for a bearer token (and default namespace); returns its path. */
  writeKubeconfig(name: string, auth: { token: string; namespace?: string } | { as: string; namespace?: string }): string;
  /**
   * A @kubernetes/client-node KubeConfig: admin by default; as a bearer `token` (e.g. a ServiceAccount's
   * from serviceAccountToken); or admin impersonating `as` (client-node sends Impersonate-User only;
   * for a `system:serviceaccount:<ns>:<name>` user the API server adds the ServiceAccount groups).
   */
  kubeConfig(opts?: { token?: string; as?: string; namespace?: string }): KubeConfig;
  /** Stops kube-apiserver, then etcd, by PID (SIGTERM, then SIGKILL after 10 s); removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const TOOL_HINT = 'run `bash scripts/provision.sh kube` (npm test does it) to build etcd and kube-apiserver into $SENTINEL_TOOLS/bin';

/** Directories searched for tools: PATH, then $SENTINEL_TOOLS/bin, then the default cache's tools/bin. */
export function toolDirs(): string[] {
  const cache = process.env.SENTINEL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sentinelml');
  const tools = process.env.SENTINEL_TOOLS ?? join(cache, 'tools');
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), join(tools, 'bin')];
}

/** Absolute path of an executable, or throws naming what is missing and how to get it. */
export function findTool(name: string, hint = TOOL_HINT): string {
  for (const d of toolDirs()) {
    const p = join(d, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  throw new Error(`${name} not found on PATH or in $SENTINEL_TOOLS/bin: ${hint}`);
}

/** The prometheus-operator CRD directory provisioned by kube.sh ($SENTINEL_TOOLS/crds/prometheus-operator). */
export function promOperatorCrdDir(): string {
  for (const d of toolDirs()) {
    if (!d.endsWith('/bin')) continue;
    const p = join(d, '..', 'crds', 'prometheus-operator');
    if (existsSync(p) && readdirSync(p).some((f) => f.endsWith('.yaml'))) return p;
  }
  throw new Error(`prometheus-operator CRDs not found in $SENTINEL_TOOLS/crds/prometheus-operator: ${TOOL_HINT}`);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { stderr += `\n[killed after ${opts.timeoutMs} ms]`; p.kill('SIGKILL'); }, opts.timeoutMs ?? 120_000);
    p.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run ${cmd}: ${e.message}`)); });
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }); });
    p.stdin.on('error', () => { /* the child may exit before reading stdin */ });
    p.stdin.end(opts.input ?? '');
  });
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed to generate the test certificates: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** CA, serving cert (127.0.0.1/localhost), admin client cert (O=system:masters), SA signing key. EC P-256: fast. */
function generateCerts(dir: string, address: string): void {
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
  key('ca');
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=sentinelml-test-ca', '-days', '2', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const leaf = (name: string, subj: string, ext: string) => {
    key(name);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
  };
  const extraSan = address === '127.0.0.1' ? '' : `,IP:${address}`;
  leaf('serving', '/CN=kube-apiserver', `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes.default.svc${extraSan}\n`);
  leaf('admin', '/O=system:masters/CN=sentinelml-test-admin', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  // The service-account signing key in SEC1 form plus its public key: --service-account-key-file reads
  // public keys (or SEC1/PKCS#1 private keys), not PKCS#8.
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key']);
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function tail(file: string, lines = 40): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

function alive(p: ChildProcess): boolean { return p.exitCode === null && p.signalCode === null; }

function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(p)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => { p.off('exit', on); resolve(false); }, ms);
    const on = () => { clearTimeout(t); resolve(true); };
    p.once('exit', on);
  });
}

/** Stops one child by its PID: SIGTERM, then SIGKILL. */
async function stopPid(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.pid === undefined || !alive(p)) return;
  process.kill(p.pid, 'SIGTERM');
  if (await waitExit(p, 10_000)) return;
  try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  await waitExit(p, 5_000);
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
const liveDirs = new Set<string>();
function killLive(): void {
  for (const p of live) if (p.pid !== undefined && alive(p)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const d of liveDirs) { try { rmSync(d, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ } }
}
/**
 * If the test process exits without stop() (a crash, an uncaught error) or is stopped by a signal (the
 * test runner cancelling a file, Ctrl-C), kill our children by PID; the signal is then re-raised so the
 * process still ends the way it would have.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killLive);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killLive();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

function spawnLogged(bin: string, args: string[], log: string): ChildProcess {
  const out = createWriteStream(log, { flags: 'a' });
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.pipe(out);
  p.stderr!.pipe(out);
  live.add(p);
  p.on('exit', () => live.delete(p));
  installExitHook();
  return p;
}

interface Tls { ca: Buffer; cert: Buffer; key: Buffer }

function httpsCall(url: string, tls: Tls, method: string, path: string, body: unknown, opts: { token?: string; contentType?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req = httpsRequest({
      hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, ca: tls.ca,
      ...(opts.token ? {} : { cert: tls.cert, key: tls.key }), timeout: opts.timeoutMs ?? 30_000,
    }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (d: string) => { data += d; });
      res.on('end', () => {
        let parsed: any = data;
        try { parsed = JSON.parse(data); } catch { /* text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function poll(what: string, timeoutMs: number, check: () => Promise<string | true>, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const d = dead();
    if (d) throw new Error(d);
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (e) { last = (e as Error).message; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms; last: ${last}`);
}

function kubeconfigYaml(server: string, caFile: string, user: Record<string, string>, namespace?: string): string {
  // JSON is valid YAML; kubectl and client-node both read it.
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'user', user }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'user', ...(namespace ? { namespace } : {}) } }],
    'current-context': 'test',
  }, null, 2);
}

/** Starts etcd and kube-apiserver on free loopback ports and waits for /readyz. Retries once on a port race. */
export async function startKubeApiServer(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const etcdBin = findTool('etcd');
  const apiBin = findTool('kube-apiserver');
  let lastErr: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try { return await startOnce(etcdBin, apiBin, opts); } catch (e) {
      lastErr = e;
      if (!/address already in use/i.test((e as Error).message)) throw e;
    }
  }
  throw lastErr;
}

async function startOnce(etcdBin: string, apiBin: string, opts: KubeApiServerOptions): Promise<KubeApiServer> {
  const readyTimeout = opts.readyTimeoutMs ?? 120_000;
  const keep = opts.keep ?? process.env.SENTINEL_KUBE_KEEP === '1';
  const address = opts.address ?? '127.0.0.1';
  const dir = mkdtempSync(join(opts.parentDir ?? tmpdir(), 'sentinel-kube-'));
  if (!keep) liveDirs.add(dir);
  const certs = join(dir, 'pki');
  mkdirSync(certs);
  let etcd: ChildProcess | undefined;
  let api: ChildProcess | undefined;
  const cleanup = async (removeDir: boolean) => {
    await stopPid(api);
    await stopPid(etcd);
    liveDirs.delete(dir);
    if (removeDir && !keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    generateCerts(certs, address);
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdLog = join(dir, 'etcd.log');
    const apiLog = join(dir, 'kube-apiserver.log');
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    etcd = spawnLogged(etcdBin, [
      '--name=default', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync', '--log-level=warn',
    ], etcdLog);
    const etcdProc = etcd;
    await poll('etcd /health', readyTimeout, async () => {
      const r = await fetch(`${etcdUrl}/health`).catch((e: Error) => ({ ok: false, status: 0, text: async () => e.message }));
      const t = await r.text();
      return r.ok && /"health":\s*"true"/.test(t) ? true : `${r.status} ${t}`;
    }, () => alive(etcdProc) ? undefined : `etcd exited (${etcdProc.exitCode ?? etcdProc.signalCode}):\n${tail(etcdLog)}`);

    const url = `https://${address}:${securePort}`;
    const issuer = 'https://kubernetes.default.svc.cluster.local';
    api = spawnLogged(apiBin, [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${address}`, `--advertise-address=${address}`, `--secure-port=${securePort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${join(certs, 'serving.crt')}`, `--tls-private-key-file=${join(certs, 'serving.key')}`,
      `--client-ca-file=${join(certs, 'ca.crt')}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${issuer}`,
      `--service-account-key-file=${join(certs, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(certs, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--profiling=false',
      ...(typeof opts.apiServerFlags === 'function' ? opts.apiServerFlags(certs) : opts.apiServerFlags ?? []),
    ], apiLog);
    const apiProc = api;
    const tls: Tls = {
      ca: readFileSync(join(certs, 'ca.crt')),
      cert: readFileSync(join(certs, 'admin.crt')),
      key: readFileSync(join(certs, 'admin.key')),
    };
    await poll('kube-apiserver /readyz', readyTimeout, async () => {
      const r = await httpsCall(url, tls, 'GET', '/readyz', undefined, { timeoutMs: 5_000 });
      return r.status === 200 ? true : `${r.status} ${typeof r.body === 'string' ? r.body.split('\n').filter((l) => l.includes('failed')).join('; ') : JSON.stringify(r.body)}`;
    }, () => alive(apiProc) ? undefined : `kube-apiserver exited (${apiProc.exitCode ?? apiProc.signalCode}):\n${tail(apiLog)}`);

    const caFile = join(certs, 'ca.crt');
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(url, caFile, {
      'client-certificate': join(certs, 'admin.crt'), 'client-key': join(certs, 'admin.key'),
    }), { mode: 0o600 });

    const home = join(dir, 'home');
    mkdirSync(home);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: toolDirs().join(delimiter),
      KUBECONFIG: kubeconfig,
      // kubectl and helm must not read or write the user's ~/.kube, ~/.cache/helm, ~/.config/helm.
      KUBECACHEDIR: join(home, 'kube-cache'),
      HELM_CACHE_HOME: join(home, 'helm-cache'), HELM_CONFIG_HOME: join(home, 'helm-config'), HELM_DATA_HOME: join(home, 'helm-data'),
    };
    const versionOf = (bin: string) => {
      const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
    };
    const versions = { kubeApiServer: versionOf(apiBin), etcd: versionOf(etcdBin) };
    let stopped = false;
    let kubectlBin: string | undefined;
    const server: KubeApiServer = {
      url, kubeconfig, dir, caFile, issuer, env, versions,
      async exec(cmd, args, o = {}) {
        const r = await run(cmd, args, { input: o.input, env: o.env ?? env, timeoutMs: o.timeoutMs, cwd: process.cwd() });
        if ((o.check ?? true) && r.code !== 0) {
          throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        }
        return r;
      },
      async kubectl(args, o = {}) {
        kubectlBin ??= findTool('kubectl', 'kubectl must be installed on the machine (it is a system tool here)');
        const full = [`--kubeconfig=${o.kubeconfig ?? kubeconfig}`, `--cache-dir=${join(home, 'kube-cache')}`, ...args];
        if (o.as) full.push(`--as=${o.as}`);
        for (const g of o.asGroups ?? []) full.push(`--as-group=${g}`);
        return server.exec(kubectlBin, full, { input: o.input, check: o.check, timeoutMs: o.timeoutMs });
      },
      request(method, path, body, o = {}) { return httpsCall(url, tls, method, path, body, o); },
      async serviceAccountToken(namespace, name, o = {}) {
        const r = await httpsCall(url, tls, 'POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`, {
          apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
          spec: { expirationSeconds: o.expirationSeconds ?? 3600, ...(o.audiences ? { audiences: o.audiences } : {}) },
        });
        if (r.status !== 201 || !r.body?.status?.token) throw new Error(`TokenRequest for ${namespace}/${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.status.token as string;
      },
      writeKubeconfig(name, auth) {
        const p = join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
        const user: Record<string, string> = 'token' in auth
          ? { token: auth.token }
          : { 'client-certificate': join(certs, 'admin.crt'), 'client-key': join(certs, 'admin.key'), as: auth.as };
        writeFileSync(p, kubeconfigYaml(url, caFile, user, auth.namespace), { mode: 0o600 });
        return p;
      },
      kubeConfig(o = {}) {
        const kc = new KubeConfig();
        const name = `client-${Date.now()}-${Math.random().toString(36).slice(2)}`;
        if (o.token) kc.loadFromFile(server.writeKubeconfig(name, { token: o.token, namespace: o.namespace }));
        else if (o.as) kc.loadFromFile(server.writeKubeconfig(name, { as: o.as, namespace: o.namespace }));
        else kc.loadFromFile(kubeconfig);
        return kc;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup(true);
      },
    };
    return server;
  } catch (e) {
    await cleanup(false);
    const msg = `${(e as Error).message}\n(logs and certs kept in ${dir})`;
    throw new Error(msg, { cause: e });
  }
}
