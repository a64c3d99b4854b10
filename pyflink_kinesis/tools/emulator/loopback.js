// Preloaded into the emulator: it binds 0.0.0.0 by itself; this keeps every listener on loopback.
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args.length && typeof args[0] === 'object' && args[0] !== null) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};

// With PYFLINK_KINESIS_PARENT_PID set, exit once that process is gone, so a test run that is
// killed does not leave the emulator behind. `pyflink-kinesis local up` leaves it unset.
const parent = Number(process.env.PYFLINK_KINESIS_PARENT_PID || 0);
if (parent > 0) {
  setInterval(() => {
    try { process.kill(parent, 0); } catch (e) { process.exit(0); }
  }, 1000).unref();
}
