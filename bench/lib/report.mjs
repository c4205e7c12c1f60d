// Medians, spreads and the markdown table.
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** (max - min) / median, as a fraction: how far the rounds disagree. */
export function spread(values) {
  const m = median(values);
  return values.length > 1 && m ? (Math.max(...values) - Math.min(...values)) / m : 0;
}

export function summarize(runs) {
  return {
    rps: Math.round(median(runs.map((r) => r.rps))),
    spread: Number(spread(runs.map((r) => r.rps)).toFixed(3)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    errors: runs.reduce((s, r) => s + r.bad + r.socketErrors + r.timeouts, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    exhausted: runs.some((r) => r.exhausted),
  };
}

const fmt = (n) => (Number.isFinite(n) ? String(Math.round(n)) : '—');
const ms = (s) => (s ? `${s.p50} / ${s.p99}` : '—');

export function markdownTable(result) {
  const lines = [
    '| Scenario | Authly req/s | Peer req/s | Ratio (spread) | Authly p50 / p99 ms | Peer p50 / p99 ms | Errors A / P |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, s] of Object.entries(result.scenarios)) {
    const a = s.authly;
    const p = s.peer;
    const ratio = a && p && p.rps ? `${(a.rps / p.rps).toFixed(2)}× (${s.ratioRange})` : '—';
    const flag = (x) => (x?.exhausted ? ' (pool ran dry)' : '');
    lines.push(
      `| ${name} | ${fmt(a?.rps)}${flag(a)} | ${fmt(p?.rps)}${flag(p)} | ${ratio} | ${ms(a)} | ${ms(p)} | ${a ? a.errors : '—'} / ${p ? p.errors : '—'} |`,
    );
  }
  return lines.join('\n');
}

export function contextLines(result) {
  const m = result.machine;
  const c = result.ceiling;
  const lines = [
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemGiB} GiB, ${m.platform}; Node ${m.node}; load average before/after ${m.loadBefore} / ${m.loadAfter}`,
    `Run: ${result.options.connections} connections, ${result.options.warmup} s warm-up + ${result.options.duration} s per measurement, ${result.options.rounds} rounds alternating Authly/peer; Authly's access tokens ${result.options.format === 'jwt' ? `JWT ${result.options.alg}` : 'opaque'} (the peer's: opaque), ID tokens RS256`,
    `Ceiling on one core (jose, in-process): ${Object.values(c.jose)
      .map((j) => `${j.alg} ${j.signPerSecond} sign/s, ${j.verifyPerSecond} verify/s`)
      .join('; ')}`,
    `argon2id: m=${c.argon2.params.memoryCost} KiB, t=${c.argon2.params.timeCost}, p=${c.argon2.params.parallelism}; ${c.argon2.verifyPerSecond} verifications/s on one thread`,
  ];
  if (result.memory) {
    lines.push(
      `Resident memory after the run: Authly ${result.memory.authly?.total ?? '—'} MiB, peer ${result.memory.peer?.total ?? '—'} MiB`,
    );
  }
  if (result.workers) {
    for (const [name, w] of Object.entries(result.workers.scenarios ?? {})) {
      lines.push(`WORKERS=2 ${name}: ${w.rps} req/s, ${w.factor}× WORKERS=1 (p50/p99 ${w.p50}/${w.p99} ms)`);
    }
    if (result.workers.note) lines.push(`WORKERS=2: ${result.workers.note}`);
  }
  for (const [name, s] of Object.entries(result.scenarios)) if (s.note) lines.push(`${name}: ${s.note}`);
  if (result.correctness) {
    for (const [server, c2] of Object.entries(result.correctness)) lines.push(`Correctness (${server}): ${c2}`);
  }
  return lines.join('\n');
}
