import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from 'typebox/value';
import { compileRules, ProcessMessagesSchema } from '../../core/rules.ts';
import { Uint, type FieldValue, type Message } from '../../core/message.ts';

/** A message as the decoder makes it: null-prototype tags and fields. */
function msg(
  name: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue>,
  time = 1_735_732_800_123_456_789n,
): Message {
  return {
    name,
    tags: Object.assign(Object.create(null), tags),
    fields: Object.assign(Object.create(null), fields),
    time,
    line: 1,
  };
}

const startJob = () => msg('job', { function: 'start_job', hostname: 'node001' }, { event: '{}' });
const stopJob = () => msg('job', { function: 'stop_job', hostname: 'ctrl01' }, { event: '{}' });
const metric = () => msg('cpu_load', { hostname: 'node001' }, { value: 3.25 });
const log = () => msg('ccb', { loglevel: 'info' }, { log: 'started' });
const control = () => msg('rapl', { method: 'GET' }, { control: 'x' });
const query = () => msg('q', {}, { query: 'SELECT 1' });

describe('compileRules', () => {
  it('drops messages by name', () => {
    const rules = compileRules({ drop_messages: ['job'] });
    assert.equal(rules.apply(startJob()), undefined);
    assert.equal(rules.apply(log())?.name, 'ccb');
  });

  it('drops messages by type', () => {
    const rules = compileRules({ drop_by_message_type: ['metric', 'control', 'query'] });
    assert.equal(rules.apply(metric()), undefined);
    assert.equal(rules.apply(control()), undefined);
    assert.equal(rules.apply(query()), undefined);
    assert.equal(rules.apply(startJob())?.name, 'job');
    assert.equal(rules.apply(log())?.name, 'ccb');
    const logsOnly = compileRules({ drop_by_message_type: ['event'] });
    assert.equal(logsOnly.apply(startJob()), undefined);
    assert.equal(logsOnly.apply(log())?.name, 'ccb');
  });

  it('drops messages by condition', () => {
    const rules = compileRules({
      drop_messages_if: ["name == 'job' && tags.function == 'start_job'"],
    });
    assert.equal(rules.apply(startJob()), undefined);
    assert.equal(rules.apply(stopJob())?.tags.function, 'stop_job');
    assert.equal(rules.drainErrors(), undefined);
  });

  it('renames by name, then by condition in config order', () => {
    const rules = compileRules({
      rename_messages: { job: 'slurm_job', ccb: 'backend' },
      rename_messages_if: {
        "name == 'slurm_job' && tags.function == 'stop_job'": 'job_stop',
        "name == 'job_stop'": 'job_end',
      },
    });
    assert.equal(rules.apply(startJob())?.name, 'slurm_job');
    assert.equal(rules.apply(stopJob())?.name, 'job_end');
    assert.equal(rules.apply(log())?.name, 'backend');
    assert.equal(rules.apply(metric())?.name, 'cpu_load');
  });

  it('adds tags by condition; later conditions see them', () => {
    const rules = compileRules({
      add_tags_if: [
        { if: "!('cluster' in tags)", key: 'cluster', value: 'testcluster' },
        { if: "tags.cluster == 'testcluster'", key: 'site', value: 'a' },
        { if: '*', key: 'via', value: 'rules' },
      ],
    });
    const m = rules.apply(startJob())!;
    assert.deepEqual(
      { ...m.tags },
      {
        function: 'start_job',
        hostname: 'node001',
        cluster: 'testcluster',
        site: 'a',
        via: 'rules',
      },
    );
    const other = msg('job', { cluster: 'clusterb' }, { event: 'x' });
    assert.deepEqual({ ...rules.apply(other)!.tags }, { cluster: 'clusterb', via: 'rules' });
  });

  it('deletes tags by condition', () => {
    const rules = compileRules({
      delete_tags_if: [
        { if: "tags.hostname.startsWith('node')", key: 'hostname', value: '*' },
        { if: 'true', key: 'loglevel' },
      ],
    });
    assert.deepEqual({ ...rules.apply(startJob())!.tags }, { function: 'start_job' });
    assert.deepEqual(
      { ...rules.apply(stopJob())!.tags },
      { function: 'stop_job', hostname: 'ctrl01' },
    );
    assert.deepEqual({ ...rules.apply(log())!.tags }, {});
  });

  it('changing the method tag changes the message type seen by later stages', () => {
    const rules = compileRules({
      add_tags_if: [{ if: "name == 'rapl'", key: 'method', value: 'PUT' }],
      rename_messages_if: { "messagetype == 'control'": 'rapl_control' },
    });
    const m = msg('rapl', {}, { control: '250' });
    assert.equal(rules.apply(m)?.name, 'rapl_control');
  });

  it('offers fields, timestamp, time and messagetype to conditions', () => {
    const m = () =>
      msg(
        'myevent',
        { hostname: 'node001' },
        { event: 'x', code: 17n, big: new Uint(18446744073709551615n), f: 1.5, ok: true },
      );
    const cases: [string, boolean][] = [
      ['fields.code == 17', true],
      ['fields.code > 16 && fields.code < 18', true],
      ['fields.big == 18446744073709551615u', true],
      ['fields.f == 1.5', true],
      ['fields.ok == true', true],
      ["fields.event == 'x'", true],
      ["messagetype == 'event' && msgtype == 'event'", true],
      ['timestamp > 1735732800.0 && timestamp < 1735732801.0', true],
      ["time == '2025-01-01T12:00:00.123456789Z'", true],
      ["tag.hostname == 'node001' && field.code == 17", true],
      ["tags['hostname'].matches('^node[0-9]+$')", true],
      ['fields.code == 18', false],
    ];
    for (const [expr, expected] of cases) {
      const rules = compileRules({ drop_messages_if: [expr] });
      assert.equal(rules.apply(m()) === undefined, expected, expr);
      assert.equal(rules.drainErrors(), undefined, expr);
    }
  });

  it('treats a condition failing at run time as false and counts it', () => {
    const rules = compileRules({
      drop_messages_if: ["tags.hostname.startsWith('node')"],
      add_tags_if: [{ if: "fields.missing == 'x'", key: 'k', value: 'v' }],
    });
    assert.equal(rules.apply(log())?.name, 'ccb');
    assert.equal(rules.apply(query())?.name, 'q');
    assert.equal(rules.apply(startJob()), undefined);
    const errors = rules.drainErrors();
    assert.deepEqual(errors, {
      count: 4,
      rule: 'add_tags_if[0]',
      expression: "fields.missing == 'x'",
      message: 'No such key: missing',
    });
    assert.equal(rules.drainErrors(), undefined);
  });

  it('counts a non-boolean dynamic result as a run-time error', () => {
    const rules = compileRules({ drop_messages_if: ['fields.event'] });
    assert.equal(rules.apply(startJob())?.name, 'job');
    assert.equal(rules.drainErrors()?.count, 1);
  });

  it('refuses conditions that do not compile, naming rule and expression', () => {
    const bad: [Record<string, unknown>, string, string][] = [
      [
        { drop_messages_if: ['true', "name == 'job' &&"] },
        'drop_messages_if[1]',
        "name == 'job' &&",
      ],
      [{ rename_messages_if: { 'hostname == 1': 'x' } }, 'rename_messages_if[0]', 'hostname == 1'],
      [
        { add_tags_if: [{ if: "name + 'x'", key: 'k', value: 'v' }] },
        'add_tags_if[0]',
        "name + 'x'",
      ],
      [{ delete_tags_if: [{ if: 'name == 1', key: 'k' }] }, 'delete_tags_if[0]', 'name == 1'],
      [{ drop_messages_if: ["kind == 'event'"] }, 'drop_messages_if[0]', "kind == 'event'"],
    ];
    for (const [cfg, rule, expression] of bad) {
      assert.throws(
        () => compileRules(cfg),
        (err: any) =>
          err.code === 'CCES_ERR_RULE_INVALID' &&
          err.details.rule === rule &&
          err.details.expression === expression &&
          err.message.includes(rule) &&
          err.message.includes(expression),
        rule,
      );
    }
  });

  it('refuses unknown keys and unknown message types', () => {
    assert.throws(() => compileRules({ drop_metrics: ['x'] } as never), {
      code: 'CCES_ERR_CONFIG_INVALID',
    });
    assert.throws(() => compileRules({ drop_by_message_type: ['other'] } as never), {
      code: 'CCES_ERR_CONFIG_INVALID',
    });
    assert.equal(
      Value.Check(ProcessMessagesSchema, { add_tags_if: [{ if: 'true', key: 'k' }] }),
      false,
    );
    assert.equal(Value.Check(ProcessMessagesSchema, {}), true);
  });

  it('leaves messages unchanged without rules', () => {
    const rules = compileRules({});
    const m = startJob();
    assert.equal(rules.apply(m), m);
    assert.deepEqual({ ...m.tags }, { function: 'start_job', hostname: 'node001' });
  });
});
