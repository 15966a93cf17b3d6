// The resilient variant: durable spool, backoff with jitter, circuit breakers, degraded mode.
process.env.CLICKSTREAM_VARIANT = 'resilient'
await import('./main.js')
