// One ECS task: the customer's tiny HTTP service, run as its own process by the autoscaler.
// Plain node:http, not fastify: a task is started on the scale-out path, so it must boot fast and
// small. It prints one JSON "listening" line (with its port) that the autoscaler waits for.
import http from 'node:http'

const taskArn = process.env.TASK_ARN ?? 'unknown'
const serviceName = process.env.SERVICE_NAME ?? 'unknown'
const port = Number(process.env.PORT ?? '0')
const host = process.env.HOST ?? '127.0.0.1'
const startedAtMs = Date.now()
let served = 0

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]
  const send = (status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (req.method === 'GET' && path === '/health') return send(200, { status: 'ok', taskArn, pid: process.pid })
  if (req.method === 'GET' && path === '/') {
    served++
    return send(200, { service: serviceName, taskArn, pid: process.pid, served, uptimeMs: Date.now() - startedAtMs })
  }
  send(404, { message: `no route ${req.method} ${path}` })
})

let closing = false
function exit(reason: string): void {
  if (closing) return
  closing = true
  process.stdout.write(JSON.stringify({ msg: 'exiting', reason, taskArn, pid: process.pid }) + '\n')
  server.close(() => process.exit(0))
  server.closeAllConnections()
  setTimeout(() => process.exit(0), 1_000).unref()
}

process.once('SIGTERM', () => exit('SIGTERM'))
process.once('SIGINT', () => exit('SIGINT'))
// A task must not outlive its autoscaler, even one killed with SIGKILL: once reparented, leave.
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) exit('autoscaler exited')
}, 250).unref()

server.listen(port, host, () => {
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  process.stdout.write(JSON.stringify({ msg: 'listening', port: bound, pid: process.pid, taskArn }) + '\n')
})
