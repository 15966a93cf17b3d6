// The naive variant: synchronous writes with the SDK's default retries.
process.env.CLICKSTREAM_VARIANT = 'naive'
await import('./main.js')
