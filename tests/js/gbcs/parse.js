#!/usr/bin/env node
// Parses GBCS messages with SmartDCC's gbcs-parser (built into ./dist by build.sh) and
// prints what it found as JSON, one line per message, so Python tests can check hansim's
// payloads against an independent reader.
//
// usage: node parse.js KEYDIR [KEYDIR...] < requests.jsonl
//   each input line: {"id": "...", "hex": "DF09...", "acb": "90b3d51f30000002" (optional)}
//   each output line: {"id": "...", "ok": true, "message": {...}} or {"id", "ok": false, "error"}
//   a key is the first KEYDIR/<eui>[-pp]-<ds|ka>.<pem|key> found (the RTDS key store layout).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const readline = require('node:readline')
const { parseGbcsMessage, signGroupingHeader } = require('./dist/index.js')

const keyDirs = process.argv.slice(2)
if (keyDirs.length === 0) {
  process.stderr.write('usage: node parse.js KEYDIR [KEYDIR...] < requests.jsonl\n')
  process.exit(2)
}

async function keyStore(eui, type, { privateKey, prePayment }) {
  if (typeof eui === 'object') eui = Buffer.from(eui).toString('hex')
  eui = eui.replaceAll('-', '').replaceAll(' ', '').toLowerCase()
  const name = `${eui}${prePayment ? '-pp' : ''}-${type.toLowerCase()}.${privateKey ? 'key' : 'pem'}`
  for (const dir of keyDirs) {
    const file = path.join(dir, name)
    if (fs.existsSync(file)) {
      const pem = fs.readFileSync(file, 'utf-8')
      return privateKey ? crypto.createPrivateKey(pem) : crypto.createPublicKey(pem)
    }
  }
  throw new Error(`could not locate key file: ${name}`)
}

async function handle(request) {
  if (request.sign) {
    // the supplier's step of a critical command, as DCC Boxed's client does it
    const signed = await signGroupingHeader(request.sign, Buffer.from(request.hex, 'hex').toString('base64'), keyStore)
    return { signed: Buffer.from(signed, 'base64').toString('hex') }
  }
  return { message: await parseGbcsMessage(request.hex, keyStore, request.acb) }
}

const lines = readline.createInterface({ input: process.stdin })
const pending = []
lines.on('line', (line) => {
  if (!line.trim()) return
  const request = JSON.parse(line)
  pending.push(
    handle(request).then(
      (result) => ({ id: request.id, ok: true, ...result }),
      (err) => ({ id: request.id, ok: false, error: String(err && err.message ? err.message : err) }),
    ),
  )
})
lines.on('close', async () => {
  for (const result of await Promise.all(pending)) process.stdout.write(JSON.stringify(result) + '\n')
})
