// Lambda counts its calls per caller access key like every AWS API of the lab
// (lab_caller_calls_total, protocol restJson1), so a customer service that invokes functions has
// Lambda among its dependencies in the cascade.
import t from 'tap'
import { buildApp } from '../../services/lambda/app.js'
import { signed, CREDENTIALS } from '../kit/signing.js'
import { internalHeaders } from '../../services/kit/internal.js'

const CUSTOMER = { accessKeyId: 'AKIDCUSTSHOP0A1B2C', secretAccessKey: 'shop-secret' }

t.test("Lambda counts each caller's invocations under its key, refused ones too", async (t) => {
  const app = buildApp({
    keys: new Map([
      [CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey],
      [CUSTOMER.accessKeyId, CUSTOMER.secretAccessKey],
    ]),
    ship: async () => {},
    hostMemoryBudgetBytes: 64 * 1024 * 1024,
    invocationMemoryBytes: 1024 * 1024,
    logBytesPerInvocation: 1024,
    agentFlushIntervalMs: 1_000,
    startAgent: false,
    logger: false,
  })
  t.teardown(() => app.close())
  const invoke = async (credentials: typeof CUSTOMER, fn = 'echo') =>
    app.inject(await signed({ path: `/2015-03-31/functions/${fn}/invocations`, headers: {}, body: '{}', service: 'lambda', credentials }))
  t.equal((await invoke(CUSTOMER)).statusCode, 200)
  t.equal((await invoke(CUSTOMER)).statusCode, 200)
  t.equal((await invoke(CUSTOMER, 'nope')).statusCode, 404)
  t.equal((await invoke(CREDENTIALS)).statusCode, 200)
  t.equal((await invoke({ ...CUSTOMER, secretAccessKey: 'wrong' })).statusCode, 403)
  const text = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  const count = (caller: string, outcome: string) =>
    Number(
      new RegExp(`^lab_caller_calls_total\\{caller="${caller}",operation="Invoke",protocol="restJson1",outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    )
  t.equal(count(CUSTOMER.accessKeyId, 'ok'), 2)
  t.equal(count(CUSTOMER.accessKeyId, 'client_error'), 2, 'an unknown function and a bad signature: client errors, under the key the caller named')
  t.equal(count(CREDENTIALS.accessKeyId, 'ok'), 1)
  t.match(text, new RegExp(`^lab_caller_call_seconds_count\\{caller="${CUSTOMER.accessKeyId}"[^}]*\\} 4$`, 'm'))
})
