// Docker HEALTHCHECK: GET /health on this container's own port; 0 when it answers 200 in time.
// (No shell or curl in the image: node itself is the client.)
const port = process.env.PORT ?? '8080'
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })
  process.exit(res.status === 200 ? 0 : 1)
} catch {
  process.exit(1)
}
