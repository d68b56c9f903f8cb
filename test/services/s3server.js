#!/usr/bin/env node
// Starts the S3-compatible test server (@20minutes/s3rver, which checks SigV4
// signatures) for ripple_backup's tests and demo.
//
// usage: node s3server.js --port N --directory DIR [--bucket NAME ...]
//        [--address 127.0.0.1] [--cert FILE --key FILE] [--record FILE]
// Credentials: access key S3RVER, secret S3RVER (s3rver's built-in account).
// --cert/--key: HTTPS with that certificate.  --record: appends one JSON line per
// request received ({"method", "url", "headers"}) to FILE, for tests of what was
// sent that s3rver does not keep (it drops x-amz-server-side-encryption).
// Prints "s3server listening on ADDRESS:PORT" once it accepts connections.
'use strict'
const fs = require('node:fs')
const S3rver = require('@20minutes/s3rver')

function parseArgs(argv) {
  const opts = { address: '127.0.0.1', port: 4568, buckets: [], silent: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
      return argv[++i]
    }
    if (a === '--port') opts.port = Number(next())
    else if (a === '--address') opts.address = next()
    else if (a === '--directory') opts.directory = next()
    else if (a === '--bucket') opts.buckets.push(next())
    else if (a === '--cert') opts.cert = fs.readFileSync(next())
    else if (a === '--key') opts.key = fs.readFileSync(next())
    else if (a === '--record') opts.record = next()
    else if (a === '--verbose') opts.silent = false
    else throw new Error(`unknown argument ${a}`)
  }
  if (!opts.directory) throw new Error('--directory is required')
  return opts
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  fs.mkdirSync(o.directory, { recursive: true })
  const server = new S3rver({
    address: o.address,
    port: o.port,
    directory: o.directory,
    silent: o.silent,
    key: o.key,
    cert: o.cert,
    vhostBuckets: true,
    configureBuckets: o.buckets.map((name) => ({ name, configs: [] })),
  })
  const { address, port } = await server.run()
  if (o.record) {
    server.httpServer.on('request', (req) => {
      const line = { method: req.method, url: req.url, headers: req.headers }
      fs.appendFileSync(o.record, JSON.stringify(line) + '\n')
    })
  }
  console.log(`s3server listening on ${address}:${port}`)
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  console.error(`s3server: ${err.message}`)
  process.exit(1)
})
