/**
 * The ControlBus, against both backplanes: `send` hands the message to the sender's own
 * GatewayPort at once (before it resolves), then to every other node's once; a message its schema
 * refuses rejects and reaches no node. A cluster runs the tests with two gateways; in one process
 * the sender is every node.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlMessage } from '../../src/backplane/backplane.js';
import { forEachBackplane, until, type Node } from './backplanes.js';

const settle = () => new Promise((r) => setTimeout(r, 150));

await forEachBackplane('ControlBus', (deployment) => {
  let nodes: Node[];
  before(async () => {
    const second = await deployment().addNode();
    nodes = second ? [deployment().nodes[0]!, second] : [deployment().nodes[0]!];
  });
  const received = (node: Node, userId: string) => node.port.controls.filter((m) => m.userId === userId);

  test('send acts on the sender’s node at once, then every node acts once; from either node', async () => {
    for (const [i, sender] of nodes.entries()) {
      const message: ControlMessage = { type: 'disconnect-user', userId: `ctl-${i}`, code: 'USER_DISCONNECTED', message: 'by an operator' };
      const sent = sender.backplane.control.send(message);
      assert.deepEqual(received(sender, message.userId), [message], 'the sender’s own node, before send resolves');
      assert.equal(await sent, true);
      for (const n of nodes) await until(() => received(n, message.userId).length > 0, 5000, `${n.id} told`);
      await settle();
      for (const n of nodes) assert.deepEqual(received(n, message.userId), [message], `${n.id}: once`);
    }
  });

  test('roles-changed with the roles a token can carry (an identity provider’s hundred groups) reaches every node', async () => {
    const roles = Array.from({ length: 120 }, (_, i) => `group-${i}-${'x'.repeat(80)}`);
    const message: ControlMessage = { type: 'roles-changed', userId: 'ctl-roles', roles };
    const sent = nodes[0]!.backplane.control.send(message);
    assert.deepEqual(received(nodes[0]!, 'ctl-roles'), [message], 'acted on here at once');
    assert.equal(await sent, true);
    for (const n of nodes) await until(() => received(n, 'ctl-roles').length === 1, 5000, `${n.id} told`);
    for (const n of nodes) assert.deepEqual(received(n, 'ctl-roles'), [message]);
  });

  test('a message its schema refuses rejects, and no node acts on it', async () => {
    const bad = [
      { type: 'disconnect-user', userId: '', code: 'USER_DISCONNECTED' },
      { type: 'disconnect-user', userId: 'ctl bad!', code: 'USER_DISCONNECTED' },
      { type: 'disconnect-user', userId: 'ctl-bad', code: '' },
      { type: 'format-disk', userId: 'ctl-bad' },
      { type: 'roles-changed', userId: 'ctl-bad', roles: 'admin' },
    ];
    for (const message of bad) await assert.rejects(nodes[0]!.backplane.control.send(message as unknown as ControlMessage), JSON.stringify(message));
    await settle();
    for (const n of nodes) assert.deepEqual(n.port.controls.filter((m) => m.userId.startsWith('ctl bad') || m.userId === 'ctl-bad' || m.userId === ''), [], `${n.id}: nothing`);
  });
});
