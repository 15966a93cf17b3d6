// Durable JSON files (rules, consumer checkpoints): write a temp file, fsync, rename, fsync the
// directory, so a crash leaves either the old or the new document, never half of one.
import fs from 'node:fs/promises'
import path from 'node:path'

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const dir = path.dirname(file)
  await fs.mkdir(dir, { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  const fh = await fs.open(tmp, 'w')
  try {
    await fh.writeFile(JSON.stringify(value))
    await fh.sync()
  } finally {
    await fh.close()
  }
  await fs.rename(tmp, file)
  const d = await fs.open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Serializes writes of one file and coalesces bursts: the last value asked for is what lands. */
export function fileWriter(file: string): { save(value: unknown): Promise<void>; flush(): Promise<void> } {
  let pending: unknown
  let hasPending = false
  let running: Promise<void> | undefined
  const run = async () => {
    while (hasPending) {
      const value = pending
      hasPending = false
      await writeJsonAtomic(file, value)
    }
    running = undefined
  }
  return {
    save(value) {
      pending = value
      hasPending = true
      running ??= run()
      return running
    },
    async flush() {
      while (running) await running
    },
  }
}
