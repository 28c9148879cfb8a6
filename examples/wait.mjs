// A latency-bound transform: waits as many seconds as the file says (a stand-in for a
// remote API or a slow disk), then passes the file through. See "Why concurrency".
import { setTimeout as sleep } from 'node:timers/promises';

export default {
  name: 'wait',
  async buffer(content) {
    await sleep(Number.parseFloat(content.toString()) * 1000);
    return content;
  },
};
