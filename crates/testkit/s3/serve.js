// An S3-compatible server on loopback for the hub's tests and benchmarks:
//   node serve.js DIR BUCKET [PORT]
// Prints `listening PORT` once it takes requests. Credentials: S3RVER / S3RVER.
'use strict';
const S3rver = require('@20minutes/s3rver');

const [dir, bucket, port] = process.argv.slice(2);
if (!dir || !bucket) {
  console.error('usage: node serve.js DIR BUCKET [PORT]');
  process.exit(2);
}
new S3rver({
  address: '127.0.0.1',
  port: Number(port || 0),
  directory: dir,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }],
})
  .run()
  .then((addr) => console.log(`listening ${addr.port}`))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
