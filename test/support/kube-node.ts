// A real single-node Kubernetes cluster for end-to-end tests: etcd + kube-apiserver (the harness of
// kube-apiserver.ts, bound to the node address), kube-controller-manager, kube-scheduler, containerd
// (+ runc, bridge CNI), kubelet and kube-proxy, all as child processes of the test, run as root.
// Binaries: scripts/provision/kube.sh; runtime and images: scripts/provision/node.sh.
//
//   const node = await startKubeNode();   // takes the machine-wide lock, cleans a crashed run, waits Ready
//   after(() => node.stop());             // stops everything by PID and restores the host
//
// Host state it changes, and restores on stop() (or, after a crash, at the next start): the node
// address (a /32 on lo: the kernel has no dummy driver, and pods cannot be DNATed to 127.0.0.1), the
// CNI bridge, iptables/ip6tables (saved before, restored after), sysctls (ip_forward and what kubelet
// and kube-proxy set), cgroups (kubepods), mounts under the scratch dir and /run/netns, /run/containerd
// (the shims' sockets live there whatever containerd's state dir is).
// One cluster per machine: the lock is /run/sentinelml-kube-node/lock (the owner's PID inside).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, freePort, startKubeApiServer, toolDirs, type ExecResult, type KubeApiServer } from './kube-apiserver.ts';

export const NODE_NAME = 'sentinel-node';
/** Node address: a /32 on lo (TEST-NET-like private address unlikely to clash with real networks). */
export const NODE_IP = '172.31.254.1';
export const POD_CIDR = '10.244.0.0/24';
export const SERVICE_CIDR = '10.0.0.0/24';
export const BRIDGE = 'sntl0';
const STATE_ROOT = '/run/sentinelml-kube-node';
export const LOCK = join(STATE_ROOT, 'lock');
export const STATE = join(STATE_ROOT, 'state.json');
/** Sysctls kubelet, kube-proxy or the bridge CNI may change; their values are restored on stop. */
export const SYSCTLS = [
  'net/ipv4/ip_forward', 'net/ipv4/conf/all/route_localnet', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables',
  'net/netfilter/nf_conntrack_max', 'net/netfilter/nf_conntrack_tcp_timeout_established', 'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
  'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes',
];
const CGROUP_NAMES = ['kubepods'];
/**
 * Machine-wide paths the components may create whatever their configured dirs: the shims' sockets
 * (/run/containerd/s), libcni's result cache (/var/lib/cni), kubelet defaults. Removed after the run
 * if they did not exist before it.
 */
const MACHINE_PATHS = ['/run/containerd', '/var/lib/cni', '/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/etc/cni', '/run/netns'];

export interface NodeImages { pauseImage: string; pauseArchive: string; appImage: string; appArchive: string }

export interface KubeNode {
  readonly api: KubeApiServer;
  /** Scratch dir of everything node-side (containerd, kubelet, CNI state, logs). */
  readonly dir: string;
  readonly images: NodeImages;
  kubectl: KubeApiServer['kubectl'];
  exec: KubeApiServer['exec'];
  /** `ctr` against this node's containerd (namespace k8s.io). */
  ctr(args: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** Imports a docker/OCI archive into the node and tags it with each of `names`; returns the image digest. */
  importImage(archive: string, source: string, names: string[]): Promise<string>;
  /** host:port of the node's plain-HTTP image registry (containerd pulls from it over HTTP). */
  readonly registry: string;
  /** The API server's audit log (JSON lines): writes to sentinelml.io objects and Events. */
  readonly auditLog: string;
  /** Tail of a component's log (kubelet, containerd, kube-proxy, ...), for failure messages. */
  logTail(component: string, lines?: number): string;
  stop(): Promise<void>;
}

export interface State {
  owner: number;
  startedAt: string;
  dir: string;
  pids: Record<string, number>;
  sysctls: Record<string, string>;
  iptables?: string;
  ip6tables?: string;
  /** Machine-wide paths that did not exist before the run (removed on restore). */
  absentBefore: string[];
  netnsBefore: string[];
  addedAddress: boolean;
}

function sh(cmd: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) return { code: 127, out: r.error.message };
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function readSysctl(k: string): string | undefined {
  try { return readFileSync(`/proc/sys/${k}`, 'utf8').trim(); } catch { return undefined; }
}
function writeSysctl(k: string, v: string): void {
  try { if (readSysctl(k) !== v) writeFileSync(`/proc/sys/${k}`, v); } catch { /* not writable here */ }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
function cmdline(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; }
}
function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}
/** PIDs of the processes in the kubepods cgroups: the pod containers and sandboxes of a (maybe crashed) run. */
function podPids(): number[] {
  return allPids().filter((p) => {
    try { return /:\/kubepods(\/|$)/m.test(readFileSync(`/proc/${p}/cgroup`, 'utf8')); } catch { return false; }
  });
}
/** PIDs whose command line mentions `marker` (our unique scratch dir): containerd shims of our run. */
function pidsMentioning(marker: string): number[] {
  return allPids().filter((p) => p !== process.pid && cmdline(p).includes(marker));
}

async function killPids(pids: number[], graceMs: number): Promise<void> {
  const live = pids.filter(pidAlive);
  for (const p of live) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(pidAlive)) await new Promise((r) => setTimeout(r, 100));
  for (const p of live.filter(pidAlive)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  const hard = Date.now() + 5_000;
  while (Date.now() < hard && live.some(pidAlive)) await new Promise((r) => setTimeout(r, 100));
}

function mountPointsUnder(prefixes: string[]): string[] {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').map((l) => unescape(l.split(' ')[4] ?? '')).filter((m) => m && prefixes.some((p) => m === p || m.startsWith(`${p}/`)))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(prefixes: string[]): void {
  for (let round = 0; round < 3; round++) {
    const mounts = mountPointsUnder(prefixes);
    if (mounts.length === 0) return;
    for (const m of mounts) sh('umount', ['-l', m]);
  }
}

/** Removes the kubepods cgroup trees (children first) in every cgroup v1 controller and in cgroup v2. */
function removeCgroups(): void {
  const roots: string[] = [];
  try {
    for (const c of readdirSync('/sys/fs/cgroup')) roots.push(join('/sys/fs/cgroup', c));
  } catch { return; }
  roots.push('/sys/fs/cgroup');
  const rmTree = (d: string) => {
    let entries: string[] = [];
    try { entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name)); } catch { return; }
    for (const e of entries) rmTree(e);
    try { rmdirSync(d); } catch { /* busy or gone */ }
  };
  for (const r of roots) for (const n of CGROUP_NAMES) if (existsSync(join(r, n))) rmTree(join(r, n));
}

function netnsList(): string[] {
  try { return readdirSync('/run/netns'); } catch { return []; }
}

/** Undoes everything a run recorded in `st` (used by stop() and to clean a crashed run). */
async function restoreHost(st: State): Promise<string[]> {
  const problems: string[] = [];
  // Processes by PID: those recorded (if the PID still runs the same binary) and every process whose
  // command line names the run's scratch dir (etcd, kube-apiserver, containerd's shims, ...).
  const recorded = Object.entries(st.pids).filter(([name, pid]) => pidAlive(pid) && cmdline(pid).includes(name)).map(([, pid]) => pid);
  const ours = () => [...new Set([...recorded.filter(pidAlive), ...pidsMentioning(st.dir)])];
  await killPids(ours().filter((p) => /\/(kubelet|kube-proxy) /.test(cmdline(p))), 5_000);
  // Pod processes (containers, sandboxes), then the shims, then the rest (containerd, control plane, etcd).
  await killPids(podPids(), 3_000);
  await killPids(ours().filter((p) => cmdline(p).includes('containerd-shim')), 5_000);
  await killPids(ours(), 10_000);
  unmountUnder([st.dir, ...netnsList().filter((n) => !st.netnsBefore.includes(n)).map((n) => `/run/netns/${n}`)]);
  for (const n of netnsList()) if (!st.netnsBefore.includes(n) && n.startsWith('cni-')) { try { rmSync(`/run/netns/${n}`, { force: true }); } catch { /* busy */ } }
  if (sh('ip', ['link', 'show', BRIDGE]).code === 0) {
    const r = sh('ip', ['link', 'delete', BRIDGE]);
    if (r.code !== 0) problems.push(`cannot delete the bridge ${BRIDGE}: ${r.out.trim()}`);
  }
  // veth peers die with their netns; any left over on the host side of our bridge are removed with it.
  if (st.iptables !== undefined) problems.push(...restoreTables('iptables', st.iptables));
  if (st.ip6tables !== undefined) problems.push(...restoreTables('ip6tables', st.ip6tables));
  if (st.addedAddress) sh('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
  removeCgroups();
  for (const [k, v] of Object.entries(st.sysctls)) writeSysctl(k, v);
  for (const p of st.absentBefore) {
    if (!existsSync(p)) continue;
    unmountUnder([p]);
    try { rmSync(p, { recursive: true, force: true }); } catch (e) { problems.push(`cannot remove ${p}: ${(e as Error).message}`); }
  }
  if (mountPointsUnder([st.dir]).length === 0) {
    try { rmSync(st.dir, { recursive: true, force: true, maxRetries: 3 }); } catch (e) { problems.push(`cannot remove ${st.dir}: ${(e as Error).message}`); }
  } else problems.push(`mounts left under ${st.dir}: ${mountPointsUnder([st.dir]).join(', ')}`);
  return problems;
}

const tablesOf = (save: string) => save.split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1).trim());

/**
 * Puts iptables (or ip6tables) back as `snapshot` (iptables-save output from before the run): tables
 * the run created (kube-proxy, the bridge CNI's masquerading) are flushed and their chains deleted,
 * tables that existed are replaced by iptables-restore. Returns problems.
 */
function restoreTables(cmd: 'iptables' | 'ip6tables', snapshot: string): string[] {
  const problems: string[] = [];
  const now = sh(`${cmd}-save`, []);
  if (now.code !== 0) return [`${cmd}-save failed: ${now.out.trim()}`];
  const before = new Set(tablesOf(snapshot));
  // iptables-nft cannot delete a table it created; nft can (iptables-legacy: flushing is all there is).
  const nftTables = now.out.includes('(nf_tables)') && existsSync('/usr/sbin/nft');
  for (const t of tablesOf(now.out)) {
    if (before.has(t)) continue;
    const steps = nftTables ? [['/usr/sbin/nft', 'delete', 'table', cmd === 'iptables' ? 'ip' : 'ip6', t]] : [[cmd, '-t', t, '-F'], [cmd, '-t', t, '-X']];
    for (const [c, ...args] of steps) {
      const r = sh(c, args);
      if (r.code !== 0) problems.push(`${c} ${args.join(' ')}: ${r.out.trim()}`);
    }
  }
  if (before.size > 0) {
    const r = sh(`${cmd}-restore`, [], snapshot);
    if (r.code !== 0) problems.push(`${cmd}-restore failed: ${r.out.trim()}`);
  }
  return problems;
}

function readState(): State | undefined {
  try { return JSON.parse(readFileSync(STATE, 'utf8')) as State; } catch { return undefined; }
}
function writeState(st: State): void {
  writeFileSync(`${STATE}.tmp`, JSON.stringify(st, null, 2));
  spawnSync('mv', ['-f', `${STATE}.tmp`, STATE]);
}

/**
 * If the lock's owner is dead (a crashed run), undoes that run's host changes from its state file and
 * removes the lock; returns the cleaned run's state. Throws naming what could not be undone.
 */
export async function cleanupCrashedRun(): Promise<State | undefined> {
  let owner: number;
  try { owner = Number(readFileSync(LOCK, 'utf8').trim()); } catch { return undefined; }
  if (owner && owner !== process.pid && pidAlive(owner)) return undefined;
  const st = readState();
  if (st && st.owner !== owner && owner) return undefined; // a new run is starting: not ours to clean
  if (st) {
    const problems = await restoreHost(st);
    if (problems.length) throw new Error(`a crashed test cluster (pid ${st.owner}, started ${st.startedAt}) could not be cleaned up: ${problems.join('; ')}`);
  }
  // Another waiter may have cleaned the same crash and taken the lock meanwhile: remove only the dead one's.
  if (readState()?.owner === st?.owner) rmSync(STATE, { force: true });
  try { if (Number(readFileSync(LOCK, 'utf8').trim()) === owner) rmSync(LOCK, { force: true }); } catch { /* gone */ }
  return st;
}

/**
 * Takes the machine-wide lock; a lock whose owner is dead is a crashed run: its host changes are undone
 * first. Waits up to `waitMs` for a live owner, then fails naming it. The lock appears with its owner
 * already inside (a hard link of a complete file), so another run never reads it empty and takes it
 * for a crashed one. Exported for tests that must hold the machine before they look at it.
 */
export async function acquireLock(waitMs = 8 * 60_000): Promise<void> {
  mkdirSync(STATE_ROOT, { recursive: true });
  const deadline = Date.now() + waitMs;
  const mine = `${LOCK}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        linkSync(mine, LOCK);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner: number;
      try { owner = Number(readFileSync(LOCK, 'utf8').trim()); } catch { continue; } // released meanwhile
      if (!owner || !pidAlive(owner) || owner === process.pid) {
        await cleanupCrashedRun();
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`another test cluster holds ${LOCK} (pid ${owner}: ${cmdline(owner).slice(0, 200)}); only one may run per machine`);
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Releases the lock if this process holds it (never another run's). */
function releaseLock(): void {
  try { if (Number(readFileSync(LOCK, 'utf8').trim()) !== process.pid) return; } catch { return; }
  rmSync(LOCK, { force: true });
}

function readEnvFile(p: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readFileSync(p, 'utf8').split('\n')) { const m = /^([A-Z_]+)=(.*)$/.exec(l); if (m) out[m[1]] = m[2]; }
  return out;
}

/** The images node.sh built ($SENTINEL_TOOLS/node-images.env). */
export function nodeImages(): NodeImages {
  for (const d of toolDirs()) {
    if (!d.endsWith('/bin')) continue;
    const p = join(d, '..', 'node-images.env');
    if (!existsSync(p)) continue;
    const e = readEnvFile(p);
    if (e.PAUSE_ARCHIVE && existsSync(e.PAUSE_ARCHIVE) && e.APP_ARCHIVE && existsSync(e.APP_ARCHIVE)) {
      return { pauseImage: e.PAUSE_IMAGE, pauseArchive: e.PAUSE_ARCHIVE, appImage: e.APP_IMAGE, appArchive: e.APP_ARCHIVE };
    }
  }
  throw new Error('the node images are not built: run `bash scripts/provision.sh node` (npm test does it)');
}

function systemTool(name: string): string {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...toolDirs()]) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found: run \`bash scripts/provision.sh node\` (installs containerd runc containernetworking-plugins iptables conntrack socat buildah debootstrap)`);
}

export interface KubeNodeOptions {
  /** How long to wait for another run's cluster to finish (default 8 min, inside a test hook's timeout). */
  lockWaitMs?: number;
  /** How long the node may take to become Ready (default 180 s). */
  readyTimeoutMs?: number;
}

export async function startKubeNode(opts: KubeNodeOptions = {}): Promise<KubeNode> {
  if (process.getuid?.() !== 0) throw new Error('the single-node test cluster needs root (containerd, kubelet, iptables, mounts)');
  // Everything must exist before anything on the host is touched.
  const bins = Object.fromEntries(['kubelet', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler', 'kube-apiserver', 'etcd']
    .map((b) => [b, findTool(b, 'run `bash scripts/provision.sh kube` (npm test does it) to build the Kubernetes binaries')]));
  const sys = Object.fromEntries(['containerd', 'ctr', 'runc', 'iptables', 'iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore', 'conntrack', 'ip']
    .map((b) => [b, systemTool(b)]));
  for (const p of ['bridge', 'host-local', 'loopback']) if (!existsSync(`/usr/lib/cni/${p}`)) throw new Error(`CNI plugin /usr/lib/cni/${p} missing: run \`bash scripts/provision.sh node\``);
  const images = nodeImages();

  await acquireLock(opts.lockWaitMs ?? 8 * 60_000);
  const dir = join('/var/tmp', `sentinel-node-${process.pid}-${Date.now().toString(36)}`);
  const st: State = {
    owner: process.pid, startedAt: new Date().toISOString(), dir, pids: {},
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, readSysctl(k)]).filter((e): e is [string, string] => e[1] !== undefined)),
    iptables: sh(sys['iptables-save'], []).out, ip6tables: sh(sys['ip6tables-save'], []).out,
    absentBefore: MACHINE_PATHS.filter((p) => !existsSync(p)), netnsBefore: netnsList(), addedAddress: false,
  };
  mkdirSync(dir, { recursive: true });
  writeState(st);

  const procs = new Map<string, ChildProcess>();
  let api: KubeApiServer | undefined;
  let stopped = false;
  const logOf = (c: string) => join(dir, `${c}.log`);
  const auditLog = join(dir, 'audit.log');
  const logTail = (c: string, lines = 30) => { try { return readFileSync(logOf(c), 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; } };
  const launch = (name: string, bin: string, args: string[]): ChildProcess => {
    const out = createWriteStream(logOf(name), { flags: 'a' });
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.pipe(out); p.stderr!.pipe(out);
    procs.set(name, p);
    if (p.pid) { st.pids[name] = p.pid; writeState(st); }
    return p;
  };
  const dead = (name: string) => {
    const p = procs.get(name);
    return p && (p.exitCode !== null || p.signalCode !== null) ? `${name} exited (${p.exitCode ?? p.signalCode}):\n${logTail(name)}` : undefined;
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // kubelet and kube-proxy first (no new pods, no rule resyncs), pods, shims, containerd, control plane.
    const order = ['kubelet', 'kube-proxy'];
    for (const n of order) { const pid = st.pids[n]; if (pid) await killPids([pid], 5_000); }
    await killPids(podPids(), 3_000);
    await killPids(pidsMentioning(dir).filter((p) => cmdline(p).includes('containerd-shim')), 5_000);
    for (const n of ['containerd', 'kube-controller-manager', 'kube-scheduler']) { const pid = st.pids[n]; if (pid) await killPids([pid], 10_000); }
    await api?.stop();
    const keepLogs = process.env.SENTINEL_KUBE_KEEP === '1';
    if (keepLogs) { for (const f of readdirSync(dir).filter((x) => x.endsWith('.log'))) spawnSync('cp', [join(dir, f), `/var/tmp/last-sentinel-node-${f}`]); }
    const problems = await restoreHost(st);
    rmSync(STATE, { force: true });
    releaseLock();
    process.off('exit', onExit);
    if (problems.length) throw new Error(`test cluster teardown: ${problems.join('; ')}`);
  };
  // A crash of the test process: kill what we started by PID; the next start cleans the host from STATE.
  const onExit = () => { for (const pid of Object.values(st.pids)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', onExit);

  try {
    // ---- host network: node address, forwarding ----
    if (!sh(sys.ip, ['-4', 'addr', 'show', 'dev', 'lo']).out.includes(`${NODE_IP}/32`)) {
      const r = sh(sys.ip, ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
      if (r.code !== 0) throw new Error(`cannot add ${NODE_IP}/32 to lo: ${r.out}`);
      st.addedAddress = true; writeState(st);
    }
    writeSysctl('net/ipv4/ip_forward', '1');

    // ---- control plane ----
    const kubeletPort = await freePort();
    // Audit log of who wrote ModelMonitors and Events (the tests check it is the drift job's ServiceAccount).
    const auditPolicy = join(dir, 'audit-policy.yaml');
    writeFileSync(auditPolicy, JSON.stringify({
      apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'],
      rules: [
        { level: 'Metadata', verbs: ['create', 'update', 'patch'], resources: [{ group: 'sentinelml.io' }, { group: 'events.k8s.io' }, { group: '', resources: ['events'] }] },
        { level: 'None' },
      ],
    }));
    api = await startKubeApiServer({
      address: NODE_IP,
      parentDir: dir,
      apiServerFlags: (pki) => [
        `--kubelet-client-certificate=${join(pki, 'admin.crt')}`, `--kubelet-client-key=${join(pki, 'admin.key')}`,
        // else `kubectl logs`/`port-forward` try to resolve the node name
        '--kubelet-preferred-address-types=InternalIP',
        `--audit-policy-file=${auditPolicy}`, `--audit-log-path=${auditLog}`, '--audit-log-mode=blocking',
      ],
    });
    const pki = join(api.dir, 'pki');
    const kubeconfig = api.kubeconfig;
    const cmPort = await freePort();
    launch('kube-controller-manager', bins['kube-controller-manager'], [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${cmPort}`, '--leader-elect=false',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`, `--root-ca-file=${join(pki, 'ca.crt')}`,
      '--use-service-account-credentials=true', `--cluster-cidr=${POD_CIDR}`, `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ]);
    const schedPort = await freePort();
    launch('kube-scheduler', bins['kube-scheduler'], [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, '--leader-elect=false',
    ]);

    // ---- containerd + CNI ----
    const registry = `${NODE_IP}:${await freePort()}`;
    const cd = join(dir, 'containerd');
    const sock = join(cd, 'containerd.sock');
    mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true });
    mkdirSync(cd, { recursive: true });
    writeFileSync(join(dir, 'cni', 'net.d', '10-sentinel.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: 'sentinel',
      plugins: [
        { type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: true, hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'cni', 'ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }));
    writeFileSync(join(cd, 'config.toml'), `version = 2
root = "${join(cd, 'root')}"
state = "${join(cd, 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(cd, 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${images.pauseImage}"
  # root lacks CAP_SYS_RESOURCE here: runc cannot lower oom_score_adj below the parent's
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${join(cd, 'runc')}"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${registry}"]
    endpoint = ["http://${registry}"]
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, 'cni', 'net.d')}"
`);
    launch('containerd', sys.containerd, ['--config', join(cd, 'config.toml'), '--log-level', 'warn']);
    // A plain-HTTP registry on the node address (the "push to your registry" path).
    writeFileSync(join(dir, 'registry.yaml'), JSON.stringify({
      version: 0.1, log: { level: 'warn' }, storage: { filesystem: { rootdirectory: join(dir, 'registry') } },
      http: { addr: registry },
    }));
    launch('docker-registry', findTool('docker-registry', 'run `bash scripts/provision.sh node`'), ['serve', join(dir, 'registry.yaml')]);
    const ctrRun = (args: string[], o: { check?: boolean; timeoutMs?: number } = {}) =>
      api!.exec(sys.ctr, ['--address', sock, '-n', 'k8s.io', ...args], { check: o.check, timeoutMs: o.timeoutMs ?? 300_000 });
    await waitFor('containerd', 60_000, async () => (await ctrRun(['version'], { check: false })).code === 0 || 'not answering', () => dead('containerd'));

    const importImage = async (archive: string, source: string, names: string[]) => {
      await ctrRun(['images', 'import', archive]);
      for (const n of names) if (n !== source) await ctrRun(['images', 'tag', '--force', source, n]);
      const ls = await ctrRun(['images', 'ls']);
      const line = ls.stdout.split('\n').find((l) => l.startsWith(`${source} `));
      const digest = line?.split(/\s+/).find((w) => w.startsWith('sha256:'));
      if (!digest) throw new Error(`image ${source} not found in containerd after importing ${archive}:\n${ls.stdout}`);
      return digest;
    };
    await importImage(images.pauseArchive, images.pauseImage, [images.pauseImage]);

    // ---- kubelet ----
    const kl = join(dir, 'kubelet');
    mkdirSync(kl, { recursive: true });
    writeFileSync(join(kl, 'config.yaml'), JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
      address: NODE_IP, port: kubeletPort, readOnlyPort: 0, healthzPort: 0,
      cgroupDriver: 'cgroupfs',
      // These machines run cgroup v1; kubelet 1.35 refuses it unless told otherwise.
      failCgroupV1: false,
      containerRuntimeEndpoint: `unix://${sock}`,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: join(pki, 'ca.crt') } },
      authorization: { mode: 'Webhook' },
      failSwapOn: false,
      resolvConf: '/etc/resolv.conf',
      // A test node on a shared disk: never evict for disk pressure, never GC images we imported.
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
      serializeImagePulls: false,
      // Fast reaction in tests (defaults are tuned for fleets).
      nodeStatusUpdateFrequency: '4s', syncFrequency: '10s', fileCheckFrequency: '10s',
      podPidsLimit: 4096, maxPods: 60,
      protectKernelDefaults: false,
      podLogsDir: join(dir, 'pod-logs'),
    }, null, 2));
    launch('kubelet', bins.kubelet, [
      `--config=${join(kl, 'config.yaml')}`, `--kubeconfig=${kubeconfig}`, `--root-dir=${join(kl, 'root')}`,
      `--hostname-override=${NODE_NAME}`, `--node-ip=${NODE_IP}`, '--v=1',
      `--cert-dir=${join(kl, 'pki')}`,
    ]);

    // ---- kube-proxy ----
    const kp = join(dir, 'kube-proxy');
    mkdirSync(kp, { recursive: true });
    writeFileSync(join(kp, 'config.yaml'), JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig }, mode: 'iptables', clusterCIDR: POD_CIDR, hostnameOverride: NODE_NAME,
      bindAddress: NODE_IP, healthzBindAddress: `127.0.0.1:${await freePort()}`, metricsBindAddress: `127.0.0.1:${await freePort()}`,
      // 0 = leave the host's conntrack sysctls alone (and nf_conntrack_max may not be writable here).
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      nodePortAddresses: [`${NODE_IP}/32`],
    }, null, 2));
    launch('kube-proxy', bins['kube-proxy'], [`--config=${join(kp, 'config.yaml')}`, '--v=1']);

    // ---- Ready ----
    const readyTimeout = opts.readyTimeoutMs ?? 180_000;
    const anyDead = () => ['kube-controller-manager', 'kube-scheduler', 'containerd', 'docker-registry', 'kubelet', 'kube-proxy'].map(dead).find(Boolean);
    await waitFor(`node ${NODE_NAME} Ready`, readyTimeout, async () => {
      const r = await api!.kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}'], { check: false });
      return r.stdout.startsWith('True') || (r.stdout + r.stderr).trim();
    }, anyDead);
    // The default ServiceAccount (kube-controller-manager) must exist before pods can be created.
    await waitFor('default ServiceAccount', 60_000, async () => (await api!.kubectl(['get', 'sa', 'default', '-n', 'default'], { check: false })).code === 0 || 'missing', anyDead);

    const node: KubeNode = {
      api, dir, images, auditLog, registry,
      kubectl: (a, o) => api!.kubectl(a, o),
      exec: (c, a, o) => api!.exec(c, a, o),
      ctr: ctrRun, importImage, logTail,
      stop,
    };
    return node;
  } catch (e) {
    const logs = ['kubelet', 'containerd', 'kube-proxy', 'kube-controller-manager'].map((c) => `--- ${c}\n${logTail(c, 15)}`).join('\n');
    try { await stop(); } catch (e2) { (e as Error).message += `\n(teardown: ${(e2 as Error).message})`; }
    throw new Error(`cannot start the single-node test cluster: ${(e as Error).message}\n${logs}`, { cause: e });
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<string | true>, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const d = dead();
    if (d) throw new Error(d);
    try { const r = await check(); if (r === true) return; last = r; } catch (e) { last = (e as Error).message; }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; last: ${last}`);
}

/**
 * What a run may change on the host, for before/after comparisons: the bridge, lo's addresses,
 * iptables/ip6tables chains, kubepods cgroups, mounts of test clusters, sysctls, /run/containerd.
 */
export function hostSnapshot(): Record<string, unknown> {
  const chains = (cmd: string) => {
    const r = sh(`${cmd}-save`, []);
    let table = '';
    const out: string[] = [];
    for (const l of r.out.split('\n')) {
      if (l.startsWith('*')) table = l.slice(1);
      else if (l.startsWith(':')) out.push(`${table}/${l.slice(1).split(' ')[0]}`);
      else if (l.startsWith('-A')) out.push(`${table}: ${l}`);
    }
    return out.sort();
  };
  const cgroups: string[] = [];
  try { for (const c of readdirSync('/sys/fs/cgroup')) for (const n of CGROUP_NAMES) if (existsSync(join('/sys/fs/cgroup', c, n))) cgroups.push(`${c}/${n}`); } catch { /* none */ }
  return {
    bridge: sh('ip', ['link', 'show', BRIDGE]).code === 0,
    lo: sh('ip', ['-o', 'addr', 'show', 'dev', 'lo']).out.split('\n').map((l) => l.split(/\s+/)[3]).filter(Boolean).sort(),
    iptables: chains('iptables'), ip6tables: chains('ip6tables'),
    cgroups, mounts: mountPointsUnder(['/var/tmp']).filter((m) => m.includes('/sentinel-node-')),
    netns: netnsList().filter((n) => n.startsWith('cni-')),
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, readSysctl(k)])),
    machinePaths: MACHINE_PATHS.filter((p) => existsSync(p)),
  };
}
