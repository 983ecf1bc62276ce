/**
 * The map tasks' engine (`--engine timeloop`, `engine:` in the config)
 * without Timeloop: a fake timeloop-mapper stands for the installed build
 * (its sha256 is the engine version), so the keys can be checked — they
 * differ between engines, include the build and the Timeloop mapper
 * settings, and switching back gives the embedded keys again — and a
 * missing Timeloop is one clear line (exit 2).
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { explain } from '../../src/build/plan.ts';
import { openSession } from '../../src/pipeline/session.ts';
import type { TaskRecord } from '../../src/build/cache.ts';
import { cleanupTempDirs, expt, gridExperiment, makeProject, planJson, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

/** A folder with fake timeloop-model / timeloop-mapper programs whose bytes include `tag`. */
function fakeTimeloop(tag: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-fake-tl-'));
  mkdirSync(path.join(dir, 'bin'));
  for (const p of ['timeloop-model', 'timeloop-mapper']) {
    writeFileSync(path.join(dir, 'bin', p), `#!/bin/sh\n# fake ${p} ${tag}\nexit 1\n`);
    chmodSync(path.join(dir, 'bin', p), 0o755);
  }
  return path.join(dir, 'bin');
}

/** Runs `fn` with EXPT_TIMELOOP_MODEL pointing at a fake build (sessions read it). */
async function withFake<T>(tag: string, fn: (bin: string) => Promise<T>): Promise<T> {
  const bin = fakeTimeloop(tag);
  const before = process.env['EXPT_TIMELOOP_MODEL'];
  process.env['EXPT_TIMELOOP_MODEL'] = path.join(bin, 'timeloop-model');
  try {
    return await fn(bin);
  } finally {
    if (before === undefined) delete process.env['EXPT_TIMELOOP_MODEL'];
    else process.env['EXPT_TIMELOOP_MODEL'] = before;
    rmSync(path.join(bin, '..'), { recursive: true, force: true });
  }
}

const mapKeys = (s: Awaited<ReturnType<typeof openSession>>) => Object.fromEntries(s.graph.order.filter((t) => t.kind === 'map').map((t) => [t.id, t]));

test.serial('the engine and its version are in the key: embedded vs timeloop differ, the Timeloop build and mapper settings count, switching back gives the embedded keys', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(50, ['KQV'], ['gemmini']) });
  const prev = process.env['EXPT_ENGINE_VERSION'];
  process.env['EXPT_ENGINE_VERSION'] = 'engine-tests';
  try {
    const embedded = mapKeys(await openSession({ cwd: dir }));
    const [a, b, c, again] = await withFake('build-1', async () => [
      mapKeys(await openSession({ cwd: dir, engine: { engine: 'timeloop' } })),
      mapKeys(await openSession({ cwd: dir, engine: { engine: 'timeloop', timeLimitMs: 30_000 } })),
      await withFake('build-2', async () => mapKeys(await openSession({ cwd: dir, engine: { engine: 'timeloop' } }))),
      mapKeys(await openSession({ cwd: dir, engine: { engine: 'embedded' } })),
    ]);
    const id = 'map:grid/bert-large/KQV/gemmini/none';
    t.truthy(embedded[id]);
    t.is(embedded[id].engine.id, 'expt-builtin-mapper');
    t.is(a[id].engine.id, 'timeloop-mapper');
    t.regex(a[id].engine.version, /^sha256:[0-9a-f]{12}; expt adapter /);
    t.not(a[id].key, embedded[id].key, 'engines differ');
    t.not(b[id].key, a[id].key, 'the time limit is a mapper setting in the key');
    t.not(c[id].key, a[id].key, 'another Timeloop build is another engine version');
    t.not(c[id].engine.version, a[id].engine.version);
    t.is(again[id].key, embedded[id].key, 'back to the embedded engine: the same keys');
    const settings = a[id].inputs['mapper'].value as { algorithm: string; mapper: Record<string, unknown>; timeLimitMs: number };
    t.is(settings.algorithm, 'timeloop-mapper');
    t.is(settings.timeLimitMs, 120_000);
    // The job file's own mapper block is used (the golden TLD file: hybrid, 2 threads, victory 500), its version dropped.
    t.is(settings.mapper['num_threads'], 2);
    t.is(settings.mapper['victory_condition'], 500);
    t.false('version' in settings.mapper);
    // The plan names the engine change.
    const record: TaskRecord = { id, kind: 'map', key: embedded[id].key, engine: embedded[id].engine, inputs: embedded[id].inputHashes, deps: {}, updatedAt: '' };
    t.regex(explain(a[id], record, new Map()), /^engine changed: expt-builtin-mapper → timeloop-mapper \(sha256:/);
  } finally {
    if (prev === undefined) delete process.env['EXPT_ENGINE_VERSION'];
    else process.env['EXPT_ENGINE_VERSION'] = prev;
  }
});

test.serial('engine: timeloop in the config (top level or per experiment) selects the timeloop engine; the CLI overrides it', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: { ...gridExperiment(50, ['KQV'], ['gemmini']), engine: 'timeloop' } }, { timeloop: { timeLimit: '45s', mapper: { victory_condition: 100, 'num-threads': 1 } } });
  await withFake('cfg', async () => {
    const s = mapKeys(await openSession({ cwd: dir }));
    const task = Object.values(s)[0];
    t.is(task.engine.id, 'timeloop-mapper');
    const v = task.inputs['mapper'].value as { mapper: Record<string, unknown>; timeLimitMs: number };
    t.is(v.timeLimitMs, 45_000);
    t.is(v.mapper['victory_condition'], 100);
    t.is(v.mapper['num_threads'], 1, "the config's settings win over the job file's (hyphenated keys too)");
    const e = mapKeys(await openSession({ cwd: dir, engine: { engine: 'embedded' } }));
    t.is(Object.values(e)[0].engine.id, 'expt-builtin-mapper');
  });
  writeConfig(dir, { grid: gridExperiment(50, ['KQV'], ['gemmini']) }, { engine: 'tl' });
  const bad = await expt(dir, 'plan');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /engine: expected one of embedded, timeloop/);
});

test('a missing Timeloop: one line saying how to install it or to use --engine embedded (exit 2, no stack trace)', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(50, ['KQV'], ['gemmini']) });
  const empty = mkdtempSync(path.join(tmpdir(), 'expt-no-tl-'));
  try {
    for (const args of [
      ['run', '--engine', 'timeloop', '--timeloop-bin', empty],
      ['plan', '--engine', 'timeloop', '--timeloop-bin', empty],
    ]) {
      const r = await expt(dir, ...args);
      t.is(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      t.is(lines.length, 1, r.stderr);
      t.regex(lines[0], /timeloop-model not found at '.*expt-no-tl-.*': install Timeloop .*--engine embedded/);
      t.notRegex(r.stderr, /\n\s+at /);
    }
    // Without --timeloop-bin: EXPT_TIMELOOP_MODEL=none acts as not installed.
    const { execFile } = await import('node:child_process');
    const { bin, testEnv } = await import('./fixture.ts');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, 'run', '--engine', 'timeloop'], { cwd: dir, encoding: 'utf8', env: { ...testEnv, EXPT_TIMELOOP_MODEL: 'none' } }, (error, _o, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr }),
      ),
    );
    t.is(r.code, 2);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, /timeloop-mapper not found at EXPT_TIMELOOP_MODEL='none': install Timeloop.*--engine embedded/);
    // The embedded engine needs nothing.
    const rows = await planJson(dir, '--engine', 'embedded');
    t.true(rows.length > 0);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
