// Drives `hansim dcc serve` exactly as SmartDCC's DCC Boxed clients do: build a request
// with @smartdcc/duis-parser's constructDuis, sign it with @smartdcc/duis-sign-wrap's
// signDuis (DCC Boxed's own signing jar, ZAZ1 test keys), POST it, check the signed
// answer with validateDuis (the jar checks the DSP's signature) and read it with
// parseDuis. Device responses and alerts arrive on a local receiver, checked the same way.
//
// Environment: HANSIM_URL (e.g. http://127.0.0.1:8079), RECEIVER_PORT (hansim was started
// with --receiver http://127.0.0.1:RECEIVER_PORT/ --clock scenario --site site.yaml),
// TEMPLATES (the DCC's DUIS templates folder).
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { parseDuis, constructDuis, lookupSRV } = require('@smartdcc/duis-parser')
const { signDuis, validateDuis } = require('@smartdcc/duis-sign-wrap')

const HANSIM = process.env.HANSIM_URL
const TEMPLATES = process.env.TEMPLATES
const SUPPLIER = '90-b3-d5-1f-30-01-00-00' // ZAZ1 test supplier (DCC Boxed's)
const SUPPLIER2 = '90-b3-d5-1f-30-03-00-00' // ZAZ1 second supplier: gains the ESME
const NETWORK_OPERATOR = '90-b3-d5-1f-30-02-00-00'
const ESME = '00-db-12-34-56-78-90-a0'
const CHF = '00-db-12-34-56-78-90-a2'
const GPF = '00-db-12-34-56-78-90-a3'
const DCC = '90-b3-d5-1f-30-00-00-02'
const NEW_CHF = '00-db-12-34-56-78-90-c2' // the replacement Comms Hub of site.yaml
const NEW_GPF = '00-db-12-34-56-78-90-c3'

// -- the local receiver: every POST is parsed at once; its DSP signature is checked with
// validateDuis (one JVM each) in parallel, and the last test waits for all of them.
const received = []
const validations = []
const receiver = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const xml = Buffer.concat(chunks)
    try {
      received.push(parseDuis('simplified', xml))
      validations.push(validateDuis({ xml }).then(() => null, (e) => String(e)))
      res.writeHead(200).end()
    } catch (e) {
      received.push({ unreadable: String(e) })
      res.writeHead(400).end()
    }
  })
})

test.before(() => new Promise((ok) => receiver.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', ok)))
test.after(() => receiver.close())

async function waitFor(what, predicate, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const found = received.filter(predicate)
    if (found.length) return found
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received, bigints)}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
const bigints = (k, v) => (typeof v === 'bigint' ? v.toString() : v)

// -- building, signing and sending -----------------------------------------------------------
// The DCC's RTDS templates as SmartDCC ship them (@smartdcc/duis-templates): unjoin,
// firmware version and the future-dated / cancellation pairs.
const RTDS = path.join(path.dirname(require.resolve('@smartdcc/duis-templates/package.json')), 'templates')

function fromTemplate(prefix, header = {}, body = undefined, folder = TEMPLATES) {
  const file = fs.readdirSync(folder).find((f) => f.startsWith(prefix))
  const duis = parseDuis('simplified', fs.readFileSync(path.join(folder, file)))
  duis.header.commandVariant = duis.header.commandVariant.number
  duis.header.serviceReferenceVariant = duis.header.serviceReferenceVariant['Service Reference Variant']
  Object.assign(duis.header.requestId, header)
  if (body) duis.body = body
  return duis
}

const endpoint = (cv) => (cv === 8 ? 'serviceD' : cv === 4 ? 'serviceT' : 'serviceS')

async function post(url, xml) {
  const reply = await fetch(url, { method: 'POST', body: xml, headers: { 'Content-Type': 'application/xml' } })
  return { status: reply.status, text: await reply.text() }
}

// Sign (the jar sets a fresh, increasing counter unless preserveCounter) and POST; returns
// the HTTP status and, for 200, the parsed, signature-checked DUIS answer.
async function send(duis, { preserveCounter = false, tamper = null, raw = null } = {}) {
  let signed = raw ?? (await signDuis({ xml: constructDuis('simplified', duis), preserveCounter }))
  if (tamper) signed = tamper(signed)
  const reply = await post(`${HANSIM}/api/v1/${endpoint(duis.header.commandVariant)}`, signed)
  if (reply.status !== 200) return { ...reply, signed }
  const answer = parseDuis('simplified', await validateDuis({ xml: reply.text }))
  return { ...reply, signed, answer, requestId: parseDuis('simplified', signed).header.requestId }
}

// The supplier's step of a critical command as DCC Boxed's client does it: gbcs-parser's
// signGroupingHeader with the supplier's digital-signature key from the RTDS key store.
const { signGroupingHeader } = require('../gbcs/dist/index.js')

async function keyStore(eui, type, { privateKey, prePayment }) {
  if (typeof eui === 'object') eui = Buffer.from(eui).toString('hex')
  eui = eui.replaceAll('-', '').toLowerCase()
  const name = `${eui}${prePayment ? '-pp' : ''}-${type.toLowerCase()}.${privateKey ? 'key' : 'pem'}`
  const pem = fs.readFileSync(path.join(process.env.GBCS_KEYS, name), 'utf-8')
  return privateKey ? crypto.createPrivateKey(pem) : crypto.createPublicKey(pem)
}

async function signPreCommand(gbcsPayload, user) {
  return signGroupingHeader(user.replaceAll('-', ''), gbcsPayload, keyStore)
}

const code = (r) => r.answer.header.responseCode
const sameId = (a, b) => a.originatorId === b.originatorId && a.targetId === b.targetId && a.counter === b.counter

// A critical request as DCC Boxed's client sends it: CV4 for the pre-command, then CV5
// with the supplier's signature; returns the CV5 acknowledgement and the RequestID.
async function critical(duis) {
  duis.header.commandVariant = 4
  const pre = await send(duis)
  assert.equal(code(pre), 'I0', pre.text)
  const payload = pre.answer.body.ResponseMessage.PreCommand.GBCSPayload
  const cv5 = {
    header: { ...duis.header, commandVariant: 5, requestId: pre.requestId },
    body: { SignedPreCommand: { GBCSPayload: await signPreCommand(payload, SUPPLIER) } },
  }
  return { ack: await send(cv5, { preserveCounter: true }), requestId: pre.requestId }
}

const responseTo = (srv, rid) => (d) => d.header?.type === 'response'
  && d.body.ResponseMessage?.ServiceReferenceVariant === srv && sameId(d.header.requestId, rid)

// -- the commissioning story ------------------------------------------------------------------
test('12.2 pre-notifies the ESME: I99, signed by the DSP', async () => {
  const r = await send(fromTemplate('12.2_', { originatorId: SUPPLIER }))
  assert.equal(r.status, 200)
  assert.equal(code(r), 'I99')
  assert.ok(sameId(r.answer.header.requestId, r.requestId), 'RequestID echoed')
})

test('8.14.1 installs the Comms Hub on the SM WAN: I99', async () => {
  const r = await send(fromTemplate('8.14.1_', { originatorId: SUPPLIER }))
  assert.equal(code(r), 'I99')
})

test('8.11 Add: I99 now; response, N24 and the join alerts arrive on the receiver', async () => {
  const r = await send(fromTemplate('CCS01_', { originatorId: SUPPLIER, targetId: CHF }))
  assert.equal(code(r), 'I99')
  const rid = r.requestId
  const [response] = await waitFor('8.11 response', (d) => d.header?.type === 'response'
    && d.body.ResponseMessage?.ServiceReferenceVariant === '8.11' && sameId(d.header.requestId, rid))
  assert.equal(response.header.responseCode, 'I0')
  const [n24] = await waitFor('N24', (d) => d.body?.DCCAlertMessage?.DCCAlertCode === 'N24')
  assert.equal(n24.header.responseCode, 'I0')
  // 0x8F49: the device joined the HAN (raised by the Comms Hub, GBCS alert code)
  await waitFor('8F49 (joined)', (d) => d.body?.DeviceAlertMessage?.AlertCode === '8F49')
})

test('8.1.1 CV4 returns a pre-command; the signed CV5 commissions the ESME', async () => {
  const { ack, requestId } = await critical(fromTemplate('ECS70Commission_8.1.1', { originatorId: SUPPLIER, targetId: ESME }))
  assert.equal(ack.status, 200, ack.text)
  assert.equal(code(ack), 'I99')
  const [done] = await waitFor('8.1.1 response', responseTo('8.1.1', requestId))
  assert.equal(done.header.responseCode, 'I0')
})

test('11.2 (RTDS ECS52) reads the ESME firmware version: I99, then the I0 response', async () => {
  const r = await send(fromTemplate('ECS52_11.2', { originatorId: SUPPLIER, targetId: ESME }, undefined, RTDS))
  assert.equal(code(r), 'I99')
  const [done] = await waitFor('11.2 response', responseTo('11.2', r.requestId))
  assert.equal(done.header.responseCode, 'I0')
})

test('8.7.2 joins the GPF to the ESME, 8.8.2 (RTDS CS04AC) unjoins it, a second 8.8.2 is refused', async () => {
  const join = await send(fromTemplate('CS03B_8.7.2', { originatorId: SUPPLIER, targetId: ESME },
    { JoinServiceNonCritical: { OtherDeviceID: GPF.toUpperCase() } }))
  assert.equal(code(join), 'I99')
  const unjoinBody = { UnjoinServiceNonCritical: { OtherDeviceID: GPF.toUpperCase() } }
  const unjoin = await send(fromTemplate('CS04ACNonCritical_8.8.2', { originatorId: SUPPLIER, targetId: ESME },
    unjoinBody, RTDS))
  assert.equal(code(unjoin), 'I99')
  const [done] = await waitFor('8.8.2 response', responseTo('8.8.2', unjoin.requestId))
  assert.equal(done.header.responseCode, 'I0')
  const again = await send(fromTemplate('CS04ACNonCritical_8.8.2', { originatorId: SUPPLIER, targetId: ESME },
    unjoinBody, RTDS))
  assert.equal(code(again), 'E080821')
})

test('11.3 future-dated (RTDS CS06), then its cancellation: both acknowledged, both answered I0', async () => {
  const dated = await critical(fromTemplate('CS06_11.3_FUTURE_DATED', { originatorId: SUPPLIER, targetId: ESME },
    undefined, RTDS))
  assert.equal(code(dated.ack), 'I99', dated.ack.text)
  await waitFor('future-dated 11.3 response', responseTo('11.3', dated.requestId))
  const cancel = await critical(fromTemplate('CS06_11.3_CANCELLATION', { originatorId: SUPPLIER, targetId: ESME },
    undefined, RTDS))
  assert.equal(code(cancel.ack), 'I99', cancel.ack.text)
  const [done] = await waitFor('cancellation response', responseTo('11.3', cancel.requestId))
  assert.equal(done.header.responseCode, 'I0')
})

test('8.2 shows the ESME Commissioned', async () => {
  const read = fromTemplate('8.2_', { originatorId: SUPPLIER })
  read.body = { ReadInventory: { DeviceID: ESME.toUpperCase() } }
  const r = await send(read)
  assert.equal(code(r), 'I0')
  const device = r.answer.body.ResponseMessage.DSPInventory.Device
  assert.equal(device.DeviceStatus, 'Commissioned')
})

test('refused: a request changed after signing (HTTP 401)', async () => {
  const read = fromTemplate('8.2_', { originatorId: SUPPLIER })
  const r = await send(read, { tamper: (xml) => xml.replace('<sr:ServiceReference>8.2<', '<sr:ServiceReference>8.3<') })
  assert.equal(r.status, 401, r.text)
  assert.match(r.text, /signature check failed/)
})

test('refused: the same signed request sent twice (HTTP 409)', async () => {
  // (8.2, not 12.1: DCC Boxed's jar validates against DUIS V5.1, whose 12.1 response
  // differs from V5.4's, which hansim writes)
  const first = await send(fromTemplate('8.2_', { originatorId: SUPPLIER }))
  assert.equal(first.status, 200)
  const again = await send(fromTemplate('8.2_'), { raw: first.signed })
  assert.equal(again.status, 409, again.text)
  assert.match(again.text, /not above/)
})

test('refused: a role DUIS does not allow for the SRV (E2)', async () => {
  const r = await send(fromTemplate('CCS01_', { originatorId: NETWORK_OPERATOR, targetId: CHF }))
  assert.equal(r.status, 200)
  assert.equal(code(r), 'E2')
  assert.deepEqual(lookupSRV('8.11')['Eligible User Roles'].includes('ED'), false)
})

// -- change of supplier --------------------------------------------------------------------
test('change of supplier: the gaining supplier replaces the credentials with 6.23', async () => {
  const moved = await post(`${HANSIM}/hansim/clock?to=next`, '')
  assert.equal(moved.status, 200, moved.text)
  assert.match(moved.text, /change of supplier: electricity now 90-B3-D5-1F-30-03-00-00/)
  // the losing supplier is no longer the ESME's: E4
  const lost = await send(fromTemplate('CS03B_8.7.2', { originatorId: SUPPLIER, targetId: ESME }))
  assert.equal(code(lost), 'E4')
  const cos = await send(fromTemplate('CS02bSupplierByTransCoS_6.23', { originatorId: SUPPLIER2, targetId: ESME }))
  assert.equal(code(cos), 'I99')
  const [done] = await waitFor('6.23 response', (d) => d.header?.type === 'response'
    && d.body.ResponseMessage?.ServiceReferenceVariant === '6.23' && sameId(d.header.requestId, cos.requestId))
  assert.equal(done.header.responseCode, 'I0')
})

test('years later: the future-dated 6.23 ran (8F66), the cancelled 11.3 never did', async () => {
  const dated = await send(fromTemplate('CS02bSupplierByTransCoS_6.23_FUTURE_DATED',
    { originatorId: SUPPLIER2, targetId: ESME }, undefined, RTDS))
  assert.equal(code(dated), 'I99', dated.text)
  const moved = await post(`${HANSIM}/hansim/clock?advance=${10 * 365 * 86400}`, '')
  assert.equal(moved.status, 200, moved.text)
  assert.match(moved.text, /future-dated SRV 6\.23 .* alert 8F66/)
  assert.doesNotMatch(moved.text, /SRV 11\.3/)
  const alerts = await waitFor('8F66', (d) => d.body?.DeviceAlertMessage?.AlertCode === '8F66')
  assert.equal(alerts.length, 1)
})

// -- Comms Hub swap ------------------------------------------------------------------------
test('hub swap: 8.14.1 installs the replacement, the ESME is off the HAN until 8.12.1 restores the log', async () => {
  const install = fromTemplate('8.14.1_', { originatorId: SUPPLIER })
  install.body.CHFInstallSuccessSMWAN.DeviceID = NEW_CHF.toUpperCase()
  assert.equal(code(await send(install)), 'I99')
  const orphan = await send(fromTemplate('ECS52_11.2', { originatorId: SUPPLIER2, targetId: ESME }, undefined, RTDS))
  assert.equal(code(orphan), 'E20') // not on any HAN: its hub is gone
  const giveBack = fromTemplate('8.14.3_', { originatorId: SUPPLIER }, undefined, RTDS)
  giveBack.body.CHFFaultReturn.DeviceID = CHF.toUpperCase()
  assert.equal(code(await send(giveBack)), 'I99')
  const restore = await send(fromTemplate('CCS03_8.12.1', { originatorId: SUPPLIER, targetId: NEW_CHF },
    { RestoreHANDeviceLog: { OldCHFID: CHF.toUpperCase() } }, RTDS))
  assert.equal(code(restore), 'I99', restore.text)
  const [done] = await waitFor('8.12.1 response', responseTo('8.12.1', restore.requestId))
  assert.equal(done.header.responseCode, 'I0')
  await waitFor('8F12 from the new CHF', (d) => d.body?.DeviceAlertMessage?.AlertCode === '8F12'
    && String(d.header.responseId?.originatorId).toLowerCase() === NEW_CHF)
  const reached = await send(fromTemplate('ECS52_11.2', { originatorId: SUPPLIER2, targetId: ESME }, undefined, RTDS))
  assert.equal(code(reached), 'I99') // rejoined the new hub's HAN
  const [read] = await waitFor('11.2 response', responseTo('11.2', reached.requestId))
  assert.equal(read.header.responseCode, 'I0')
})

test('hub swap: 8.12.2 (RTDS GCS59) restores the GPF device log; an in-service OldGPFID is refused', async () => {
  const wrong = await send(fromTemplate('GCS59_8.12.2', { originatorId: SUPPLIER, targetId: NEW_GPF },
    { RestoreGPFDeviceLog: { OldGPFID: NEW_GPF.toUpperCase() } }, RTDS))
  assert.equal(code(wrong), 'E081223')
  const restore = await send(fromTemplate('GCS59_8.12.2', { originatorId: SUPPLIER, targetId: NEW_GPF },
    { RestoreGPFDeviceLog: { OldGPFID: GPF.toUpperCase() } }, RTDS))
  assert.equal(code(restore), 'I99', restore.text)
  const [done] = await waitFor('8.12.2 response', responseTo('8.12.2', restore.requestId))
  assert.equal(done.header.responseCode, 'I0')
})

test('every message the receiver got passed the DSP signature check', async () => {
  assert.deepEqual(received.filter((d) => d.unreadable), [])
  assert.ok(received.length >= 7, `only ${received.length} messages received`)
  assert.deepEqual((await Promise.all(validations)).filter((e) => e !== null), [])
})
