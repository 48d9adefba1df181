// A native-messaging client for the benchmark: starts imgdiet-host as a
// browser would (extension origin as its argument), frames JSON messages
// with a 32-bit little-endian length, and reads the host's memory and CPU
// from /proc.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export const ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/';

export class Host {
  constructor(bin, env = {}) {
    this.t0 = performance.now();
    this.proc = spawn(bin, [ORIGIN], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.pid = this.proc.pid;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.listeners = new Set();
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.proc.stdout.on('data', (d) => this.#read(d));
    this.exited = new Promise((res) => this.proc.on('exit', (code) => res(code)));
  }

  #read(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + n) break;
      const msg = JSON.parse(this.buf.subarray(4, 4 + n).toString('utf8'));
      this.buf = this.buf.subarray(4 + n);
      const at = performance.now();
      for (const l of this.listeners) l(msg, at);
    }
  }

  send(msg) {
    const body = Buffer.from(JSON.stringify(msg));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    this.proc.stdin.write(Buffer.concat([head, body]));
  }

  // request sends msg and resolves with the first reply of type `type`
  // echoing its id; onMessage sees every message for that id until then.
  request(msg, type, onMessage, timeoutMs = 600_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.listeners.delete(l); reject(new Error(`no ${type} reply within ${timeoutMs} ms`)); }, timeoutMs);
      const l = (m, at) => {
        if (m.id !== msg.id) return;
        if (onMessage) onMessage(m, at);
        if (m.type === type || m.type === 'error') {
          clearTimeout(timer);
          this.listeners.delete(l);
          if (m.type === 'error') reject(new Error(`host error: ${JSON.stringify(m.error)}`));
          else resolve({ msg: m, at });
        }
      };
      this.listeners.add(l);
      this.send(msg);
    });
  }

  status() { return procStatus(this.pid); }
  cpuMs() { return procCPUms(this.pid); }

  async close() {
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

// procStatus returns VmRSS and VmHWM of pid in MiB.
export function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1] || 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

// procCPUms returns user + system CPU time of pid (all threads) in ms.
export function procCPUms(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // fields 14, 15; USER_HZ = 100
  } catch {
    return 0;
  }
}

// scan sends one scan and times its results. images are scan image
// entries. It resolves when `done` arrives.
export async function scan(host, id, pageURL, images, settings) {
  const t0 = performance.now();
  const first = new Map(); // index → ms of its first result
  const final = new Map(); // index → final result
  const finalAt = new Map(); // index → ms of its final result
  const verifiedAt = new Map(); // index → ms of its first verified result
  let firstAt = null;
  const { msg: done, at } = await host.request({ type: 'scan', id, page: { url: pageURL }, settings, images }, 'done', (m, at) => {
    if (m.type !== 'result') return;
    const ms = at - t0;
    if (firstAt === null) firstAt = ms;
    if (!first.has(m.index)) first.set(m.index, ms);
    if (m.final) { final.set(m.index, m); finalAt.set(m.index, ms); }
    if (m.verified && !verifiedAt.has(m.index)) verifiedAt.set(m.index, ms);
  });
  const firsts = [...first.values()];
  // The time by which every row had one, or null when some row never did.
  const every = (t) => (t.size === images.length ? Math.max(...t.values()) : null);
  return {
    firstMs: firstAt,
    allFirstMs: firsts.length === images.length ? Math.max(...firsts) : null,
    allFinalMs: every(finalAt),
    allVerifiedMs: every(verifiedAt),
    verifiedRows: verifiedAt.size,
    doneMs: at - t0,
    done,
    finals: [...final.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]),
  };
}
